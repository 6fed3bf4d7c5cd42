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
