"""``docgen sign import`` of a signed PDF made in a copy of the workspace (#19).

Honest case: ``cp -a`` the office's workspace, ``sign --as P002`` there (the .docx and its PDF
rendition), import both files back two hours later — registered (``pdf_signature`` with
``"source": "import"``), the office's PDF is the signed one, and after the other party signs in
the office the PDF verifies with both signatures. Attacks, each refused with nothing written: a
PDF with bytes appended after the signature, a PDF whose rendition part was changed, the
unsigned rendition itself, a PDF signed with a key revoked before the import, a PDF by someone
other than the person logged in to the signing page. Real PDFs (LibreOffice), real PAdES.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import run_docgen
from pades_support import (
    PERSON_PASSPHRASE,
    SIGNED_AT,
    YEAR,
    build_pdf_workspace,
    copy_workspace,
    doc_id,
    needs_soffice,
)

from docgen.core.workspace import Workspace
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.pdf_sign import LetterPdf, letter_pdfs
from docgen.signing.sign import sign_as
from docgen.signing.signature_import import import_signatures
from docgen.verify.pdf_check import check_signed_pdf

pytestmark = [needs_soffice, pytest.mark.slow]

ZR = doc_id("ZR-P001-P002")
IMPORTED_AT = SIGNED_AT + timedelta(hours=2)  # the next morning, in spirit


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("import-pdf") / "ws"
    build_pdf_workspace(root, letters=("ZR-P001-P002",))
    return root


@pytest.fixture
def pair(template: Path, tmp_path: Path) -> tuple[Workspace, Workspace]:
    """The office's workspace and the signer's copy, where P002 has signed ZR (.docx and PDF)."""
    office = copy_workspace(template, tmp_path / "office")
    home = copy_workspace(template, tmp_path / "home")
    result = sign_as(home, "P002", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, doc_id=ZR)
    assert result.pdf_signed == (ZR,)
    return office, home


def _letter(ws: Workspace) -> LetterPdf:
    with open_registry(ws) as registry:
        return letter_pdfs(registry, [ZR])[ZR]


def _pdf(ws: Workspace) -> Path:
    letter = _letter(ws)
    assert letter.rendition is not None
    return ws.year_dir(YEAR) / str(letter.rendition["path"])


def _import(office: Workspace, *files: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("DOCGEN_NOW", IMPORTED_AT.isoformat())
    out = run_docgen("sign", "import", *map(str, files), "-w", str(office.root))
    return out.code, out.text


def _snapshot(ws: Workspace) -> tuple[int, bytes]:
    with open_registry(ws) as registry:
        return registry.size(), _pdf(ws).read_bytes()


def _refused(office: Workspace, file: Path, reason: str, mp: pytest.MonkeyPatch) -> None:
    before = _snapshot(office)
    code, text = _import(office, file, monkeypatch=mp)
    assert code == 1, text
    assert "拒绝" in text and reason in text and "已登记 0 个" in text, text
    assert _snapshot(office) == before


def test_a_pdf_signed_in_a_copy_is_imported_and_verifies(
    pair: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    office, home = pair
    p7s = next(home.year_dir(YEAR).rglob(f"{ZR}_*.docx.P002.p7s"))
    code, text = _import(office, _pdf(home), p7s, monkeypatch=monkeypatch)
    assert code == 0, text
    assert f"对文书 {ZR} PDF 的签名已核验并记入登记簿" in text
    assert f"对文书 {ZR} 的签名已核验并记入登记簿" in text
    assert _pdf(office).read_bytes() == _pdf(home).read_bytes()
    with open_registry(office) as registry:
        records = [e.record for e in registry.entries(type="pdf_signature")]
        assert registry.audit().ok
    assert [(r["signer"], r["source"]) for r in records] == [("P002", "import")]
    # The other party signs in the office, on top of the imported PDF: both verify.
    done = sign_as(office, "P001", PERSON_PASSPHRASE, year=YEAR, now=IMPORTED_AT, doc_id=ZR)
    assert done.pdf_signed == (ZR,)
    letter = _letter(office)
    verdict = check_signed_pdf(
        _pdf(office).read_bytes(), document=letter.document, rendition=letter.rendition,
        pdf_signatures=letter.signatures, ca_cert=load_ca_certificate(office.keys_dir),
    )  # fmt: skip
    assert verdict.ok and verdict.complete, verdict.detail
    # docgen verify judges the imported PDF signature at its registry time: the letter passes.
    letter_docx = next(office.year_dir(YEAR).rglob(f"{ZR}_*.docx"))
    out = run_docgen("verify", str(letter_docx), "-w", str(office.root))
    assert out.code == 0, out.text
    assert "PDF" in out.out
    # Again: a duplicate, refused.
    _refused(office, _pdf(home), "不是在登记的某份文书 PDF", monkeypatch)


def test_bytes_appended_after_the_signature_are_refused(
    pair: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    office, home = pair
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(_pdf(home).read_bytes() + b"%extra\n")
    _refused(office, tampered, "PDF 签名未通过核验", monkeypatch)


def test_a_changed_rendition_is_refused(
    pair: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    office, home = pair
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(_pdf(home).read_bytes().replace(b"/Producer", b"/Producex", 1))
    _refused(office, changed, "不是在登记的某份文书 PDF", monkeypatch)


def test_the_unsigned_rendition_is_refused(
    pair: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    office, _home = pair
    _refused(office, _pdf(office), "不是在登记的某份文书 PDF", monkeypatch)


def test_a_key_revoked_before_the_import_is_refused(
    pair: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    office, home = pair
    monkeypatch.setenv("DOCGEN_NOW", (SIGNED_AT + timedelta(minutes=30)).isoformat())
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", "ca-test-passphrase-pades")
    out = run_docgen("keys", "revoke", "--person", "P002", "--reason", "superseded",
                     "-w", str(office.root))  # fmt: skip
    assert out.code == 0, out.text
    _refused(office, _pdf(home), "吊销", monkeypatch)


def test_the_signing_page_imports_only_the_logged_in_persons_pdf(
    pair: tuple[Workspace, Workspace],
) -> None:
    office, home = pair
    before = _snapshot(office)
    outcomes = import_signatures(office, [_pdf(home)], now=IMPORTED_AT, only_signer="P001")
    assert not outcomes[0].accepted and "不是当前登录的 P001" in outcomes[0].reason
    assert _snapshot(office) == before


def test_a_pdf_signing_time_before_the_pdf_existed_is_refused(
    pair: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Signed (in memory, in the copy) at a time before the rendition was registered: the
    certificate is valid then, but no one can sign a PDF that did not exist yet."""
    from pades_support import ISSUED_AT, RENDERED_AT

    from docgen.signing.pdf_sign import pades_setup, sign_letter_pdfs
    from docgen.signing.revocation_state import read_revocation_state
    from docgen.signing.signer import load_signer

    office, _home = pair
    early = ISSUED_AT + timedelta(minutes=5)
    assert early < RENDERED_AT
    with open_registry(office) as registry:
        registered = read_revocation_state(registry, load_ca_certificate(office.keys_dir))
        setup = pades_setup(office.keys_dir, registry, now=early)
    signer = load_signer(office.keys_dir, "P002", PERSON_PASSPHRASE, now=early,
                         registered=registered)  # fmt: skip
    batch = sign_letter_pdfs(office.year_dir(YEAR), [_letter(office)], signer, setup, now=early,
                             signing_time=early.strftime("%Y-%m-%dT%H:%M:%SZ"))  # fmt: skip
    forged = tmp_path / "early.pdf"
    forged.write_bytes(batch.writes[0][1])
    _refused(office, forged, "早于所签 PDF 的登记时间", monkeypatch)


def test_verify_judges_an_imported_pdf_signature_at_its_registry_time(
    pair: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF check of ``docgen verify`` on a record marked ``"source": "import"``: a key
    revoked between the claimed time and the registry time fails (the same record without the
    mark is judged at its claimed time and passes: the rule, not the PDF, makes the difference);
    a claimed time before the PDF was registered fails."""
    from docgen.signing.crl import workspace_crl

    office, home = pair
    monkeypatch.setenv("DOCGEN_NOW", (SIGNED_AT + timedelta(minutes=30)).isoformat())
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", "ca-test-passphrase-pades")
    out = run_docgen("keys", "revoke", "--person", "P002", "--reason", "superseded",
                     "-w", str(office.root))  # fmt: skip
    assert out.code == 0, out.text
    letter, signed = _letter(home), _letter(home).signatures[0]
    ca = load_ca_certificate(office.keys_dir)
    crl = workspace_crl(office.keys_dir, ca)
    assert crl is not None and letter.rendition is not None
    data = _pdf(home).read_bytes()

    def judge(record: dict[str, object], rendition: dict[str, object]) -> tuple[bool, str]:
        verdict = check_signed_pdf(
            data, document=letter.document, rendition=dict(rendition),
            pdf_signatures=[dict(record)], ca_cert=ca, crls=[crl],
        )  # fmt: skip
        return verdict.ok, verdict.detail

    late = {**signed, "recorded_at": IMPORTED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert judge(late, letter.rendition)[0], judge(late, letter.rendition)[1]
    ok, detail = judge({**late, "source": "import"}, letter.rendition)
    assert not ok and "吊销" in detail, detail
    # The rendition registered after the claimed signing time: the claim is impossible.
    after = (SIGNED_AT + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ok, detail = judge({**late, "source": "import"}, {**letter.rendition, "recorded_at": after})
    assert not ok and "早于所签 PDF 的登记时间" in detail, detail
