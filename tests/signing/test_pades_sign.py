"""``docgen sign`` signs a letter's PDF rendition with its .docx: end to end through the CLI
and the bulk mode, with the registry records, the files and what the user reads."""

from __future__ import annotations

import shutil
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

from docgen.core.errors import ValidationError
from docgen.core.workspace import Workspace
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.pdf_sign import LetterPdf, letter_pdfs
from docgen.signing.sign import sign_as, sign_everyone
from docgen.verify.pdf_check import check_letter_pdf, check_signed_pdf

pytestmark = [needs_soffice, pytest.mark.slow]

ZR = doc_id("ZR-P001-P002")
LJ = doc_id("LJ-P004-P005")


@pytest.fixture(scope="module")
def pdf_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pades-sign") / "ws"
    build_pdf_workspace(root)
    return root


@pytest.fixture
def ws(pdf_template: Path, tmp_path: Path) -> Workspace:
    return copy_workspace(pdf_template, tmp_path / "ws")


def _letter(ws: Workspace, wanted: str) -> LetterPdf:
    with open_registry(ws) as registry:
        return letter_pdfs(registry, [wanted])[wanted]


def _verdict(ws: Workspace, wanted: str) -> tuple[bool, bool, str]:
    letter = _letter(ws, wanted)
    assert letter.rendition is not None
    data = (ws.year_dir(YEAR) / letter.rendition["path"]).read_bytes()
    verdict = check_signed_pdf(
        data, document=letter.document, rendition=letter.rendition,
        pdf_signatures=letter.signatures, ca_cert=load_ca_certificate(ws.keys_dir),
    )  # fmt: skip
    return verdict.ok, verdict.complete, verdict.detail


def _cli_sign(ws: Workspace, monkeypatch: pytest.MonkeyPatch, person: str) -> tuple[int, str]:
    monkeypatch.setenv("DOCGEN_NOW", SIGNED_AT.isoformat())
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_PASSPHRASE.secret.decode())
    outcome = run_docgen(
        "sign", "--workspace", str(ws.root), "--as", person, "--year", str(YEAR), "--yes"
    )
    return outcome.code, outcome.text


@pytest.mark.parametrize("order", [("P001", "P002"), ("P002", "P001")], ids=["甲先", "乙先"])
def test_docgen_sign_signs_the_pdf_too_in_either_order(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, order: tuple[str, str]
) -> None:
    for person in order:
        code, text = _cli_sign(ws, monkeypatch, person)
        assert code == 0, text
        assert "同时签署了 1 份 PDF 转换件,签章在本人的签名栏" in text
    letter = _letter(ws, ZR)
    assert [r["signer"] for r in letter.signatures] == list(order)
    for record in letter.signatures:
        assert record["signing_time"] == SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert record["path"] == letter.rendition["path"] if letter.rendition else False
    ok, complete, detail = _verdict(ws, ZR)
    assert ok and complete, detail


def test_letters_without_a_pdf_are_signed_and_said_once(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = _cli_sign(ws, monkeypatch, "P001")
    assert code == 0, text
    # P001 signs 6 letters (3 责任书, 3 承诺书); only one has a PDF in this workspace.
    assert "本次签署 6 份文书" in text
    assert text.count("还没有 PDF 转换件") == 1
    assert "5 份文书还没有 PDF 转换件,只签署了 .docx;生成 PDF:docgen pdf --year" in text


def test_a_pdf_altered_since_registration_stops_signing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    letter = _letter(ws, ZR)
    assert letter.rendition is not None
    pdf = ws.year_dir(YEAR) / letter.rendition["path"]
    pdf.write_bytes(pdf.read_bytes().replace(b"/Producer", b"/Producex", 1))
    code, text = _cli_sign(ws, monkeypatch, "P001")
    assert code == 1
    assert "的 PDF 与登记簿中的最新版本不一致(登记后被改动或替换),拒绝签名" in text
    assert len(text.strip().splitlines()[-1]) > 0
    # Nothing was signed: no .p7s, no record.
    assert not list(ws.year_dir(YEAR).rglob("*.p7s"))
    with open_registry(ws) as registry:
        assert not list(registry.entries(type="signature"))
        assert not list(registry.entries(type="pdf_signature"))


def test_a_signing_run_killed_before_its_records_is_signed_again(
    ws: Workspace, tmp_path: Path
) -> None:
    """The PDF on disk carries a signature the registry never got (the process died between
    writing the files and appending): signing again starts from the registered PDF."""
    other = copy_workspace(ws.root, tmp_path / "other")
    sign_as(other, "P001", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, doc_id=ZR)
    letter = _letter(ws, ZR)
    assert letter.rendition is not None
    rel = letter.rendition["path"]
    shutil.copyfile(other.year_dir(YEAR) / rel, ws.year_dir(YEAR) / rel)
    result = sign_as(ws, "P001", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, doc_id=ZR)
    assert result.pdf_signed == (ZR,)
    sign_as(ws, "P002", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, doc_id=ZR)
    ok, complete, detail = _verdict(ws, ZR)
    assert ok and complete, detail


def test_pdf_made_after_the_docx_was_signed_is_signed_next_time(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pades_support import register_renditions

    sign_as(ws, "P004", PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT)
    with open_registry(ws) as registry:
        before = len(list(registry.entries(type="pdf_signature")))
    # 马俊峰 signed all his letters; the PDF of one of them is made only now.
    later = SIGNED_AT + timedelta(minutes=5)
    register_renditions(ws, [doc_id("ZR-P001-P004")], now=later)
    result = sign_as(ws, "P004", PERSON_PASSPHRASE, year=YEAR, now=later)
    assert result.signed == ()
    assert result.pdf_signed == (doc_id("ZR-P001-P004"),)
    with open_registry(ws) as registry:
        assert len(list(registry.entries(type="pdf_signature"))) == before + 1


def test_docgen_sign_signs_a_pdf_made_after_the_letters(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pades_support import register_renditions

    assert _cli_sign(ws, monkeypatch, "P004")[0] == 0
    register_renditions(ws, [doc_id("ZR-P001-P004")], now=SIGNED_AT)
    code, text = _cli_sign(ws, monkeypatch, "P004")
    assert code == 0, text
    assert "1 份文书的 PDF 转换件尚待本人签署" in text
    assert f"  {doc_id('ZR-P001-P004')}" in text
    assert "P004 签署了 1 份 PDF 转换件,签章在本人的签名栏,已记入登记簿。" in text
    assert "无需重复签名" not in text
    code, text = _cli_sign(ws, monkeypatch, "P004")
    assert "已签署过全部 3 份文书,无需重复签名。" in text


def test_bulk_signing_signs_every_pdf_with_both_parties(ws: Workspace) -> None:
    count = sign_everyone(ws, lambda _pid: PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, jobs=1)
    assert count > 0
    for wanted in (ZR, LJ):
        ok, complete, detail = _verdict(ws, wanted)
        assert ok and complete, (wanted, detail)
    with open_registry(ws) as registry:
        assert len(list(registry.entries(type="pdf_signature"))) == 4
        records = [e.record for e in registry.entries(doc_id=LJ)]
    letter = _letter(ws, LJ)
    assert letter.rendition is not None
    data = (ws.year_dir(YEAR) / letter.rendition["path"]).read_bytes()
    ca = load_ca_certificate(ws.keys_dir)
    verdict = check_letter_pdf(data, LJ, records, ca_cert=ca)
    assert verdict.ok and verdict.complete, verdict.detail
    # The same records, the PDF one byte longer: refused.
    assert not check_letter_pdf(data + b"\n", LJ, records, ca_cert=ca).ok


def test_bulk_signing_refuses_an_altered_pdf(ws: Workspace) -> None:
    letter = _letter(ws, LJ)
    assert letter.rendition is not None
    pdf = ws.year_dir(YEAR) / letter.rendition["path"]
    pdf.write_bytes(pdf.read_bytes() + b"%tail\n")
    with pytest.raises(ValidationError, match="拒绝签名"):
        sign_everyone(ws, lambda _pid: PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, jobs=1)


def _verify(ws: Workspace, monkeypatch: pytest.MonkeyPatch, wanted: str) -> tuple[int, str]:
    monkeypatch.setenv("DOCGEN_NOW", SIGNED_AT.isoformat())
    docx = ws.year_dir(YEAR) / _letter(ws, wanted).document["path"]
    outcome = run_docgen("verify", "--workspace", str(ws.root), str(docx))
    return outcome.code, outcome.text


def test_docgen_verify_checks_the_signed_pdf(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for person in ("P002", "P001"):
        assert _cli_sign(ws, monkeypatch, person)[0] == 0
    code, text = _verify(ws, monkeypatch, ZR)
    assert code == 0, text
    assert "✓ 9. PDF 转换件的签名有效、签后未被改动:PDF 的 2 个签名均有效(乙方、甲方)" in text
    # An editor saves the PDF again with something appended: the letter fails.
    letter = _letter(ws, ZR)
    assert letter.rendition is not None
    pdf = ws.year_dir(YEAR) / letter.rendition["path"]
    pdf.write_bytes(pdf.read_bytes() + b"1 0 obj\n<<>>\nendobj\n%%EOF\n")
    code, text = _verify(ws, monkeypatch, ZR)
    assert code == 1, text
    assert "✗ 9. PDF 转换件的签名有效、签后未被改动:PDF 文件与登记的不一致" in text
    assert "✗ 验证失败" in text
    # Without the PDF beside the letter, the step says it could not check (–, not ✓).
    pdf.unlink()
    code, text = _verify(ws, monkeypatch, ZR)
    assert code == 0, text
    assert "– 9. PDF 转换件的签名有效、签后未被改动:登记了 PDF 转换件,但没有提供 PDF 文件" in text


def test_letters_without_a_pdf_keep_their_report(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _cli_sign(ws, monkeypatch, "P001")[0] == 0
    assert _cli_sign(ws, monkeypatch, "P003")[0] == 0
    code, text = _verify(ws, monkeypatch, doc_id("ZR-P001-P003"))
    assert code == 0, text
    assert " 9. " not in text
