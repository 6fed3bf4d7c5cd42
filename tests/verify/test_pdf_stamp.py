"""``docgen verify`` re-checks where each PDF signature's stamp is: on the signing party's own
签名 line, as read from the registered rendition's text layer by the rule that placed it.

A stamp is what a reader of the PDF takes for the signature. A signature whose stamp sits on the
other party's line, off the line, or that has no stamp at all, is cryptographically valid and
registered, yet the page tells a lie (who signed where) or shows nothing: each is forged here
with docgen's own signing code and must fail the letter, through the CLI, in Chinese.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from docgen.core.workspace import Workspace
from docgen.records.views import refresh_year
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.pades import letter_parties, pdf_signature_record, sign_pdf
from docgen.signing.pdf_layout import Box, SignatureLine, find_signature_lines
from docgen.signing.pdf_sign import LetterPdf, letter_pdfs, pades_setup
from docgen.signing.revocation_state import read_revocation_state
from docgen.signing.signer import Signer, load_signer
from docgen.verify.pdf_check import check_signed_pdf
from tests.helpers import run_docgen
from tests.signing.pades_support import (
    PERSON_PASSPHRASE,
    SIGNED_AT,
    YEAR,
    build_pdf_workspace,
    copy_workspace,
    doc_id,
    needs_soffice,
)

pytestmark = [needs_soffice, pytest.mark.slow]

ZR = doc_id("ZR-P001-P002")  # 张明远 (P001, 甲方) × 李卫东 (P002, 乙方)
STEP = "9. PDF 转换件的签名有效、签后未被改动"


@pytest.fixture(scope="module")
def pdf_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pdf-stamp") / "ws"
    build_pdf_workspace(root, ("ZR-P001-P002",))
    return root


@pytest.fixture
def ws(pdf_template: Path, tmp_path: Path) -> Workspace:
    return copy_workspace(pdf_template, tmp_path / "ws")


def _letter(ws: Workspace) -> LetterPdf:
    with open_registry(ws) as registry:
        return letter_pdfs(registry, [ZR])[ZR]


def _pdf(ws: Workspace) -> Path:
    rendition = _letter(ws).rendition
    assert rendition is not None
    return ws.year_dir(YEAR) / rendition["path"]


def _signer(ws: Workspace, person_id: str) -> Signer:
    with open_registry(ws) as registry:
        state = read_revocation_state(registry, load_ca_certificate(ws.keys_dir))
    return load_signer(ws.keys_dir, person_id, PERSON_PASSPHRASE, now=SIGNED_AT, registered=state)


def _lines(ws: Workspace) -> dict[str, SignatureLine]:
    letter = _letter(ws)
    names = {party: p.name for party, p in letter_parties(letter.document).items()}
    return find_signature_lines(_pdf(ws).read_bytes(), names, where="test")


def _sign_forged(
    ws: Workspace, person_id: str, *, line: SignatureLine | None, visible: bool = True
) -> None:
    """``person_id`` signs the letter's PDF with docgen's own code, the stamp at ``line`` (or
    none), and the signature is registered and the proof bundles rewritten as a signing
    command would: only the stamp's place differs from an honest signature."""
    letter = _letter(ws)
    path = _pdf(ws)
    before = path.read_bytes()
    signer = _signer(ws, person_id)
    with open_registry(ws) as registry:
        setup = pades_setup(ws.keys_dir, registry, now=SIGNED_AT)
    signed = sign_pdf(
        before, signer, letter.document, setup, now=SIGNED_AT, where=str(path), line=line,
        visible=visible,
    )  # fmt: skip
    party = next(
        p.party for p in letter_parties(letter.document).values() if p.person_id == person_id
    )
    assert letter.current_sha256 is not None
    record = pdf_signature_record(
        ZR, signer, party, pdf_path=str(letter.rendition["path"] if letter.rendition else ""),
        previous_sha256=letter.current_sha256, signed=signed.data, field=signed.field,
        signing_time=SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip
    path.write_bytes(signed.data)
    with open_registry(ws) as registry:
        first = registry.size()
        registry.append([record], now=SIGNED_AT)
        refresh_year(ws, registry, YEAR, rewrite=None, appended_from=first)


def _verify(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("DOCGEN_NOW", SIGNED_AT.isoformat())
    docx = ws.year_dir(YEAR) / _letter(ws).document["path"]
    outcome = run_docgen("verify", "--workspace", str(ws.root), str(docx))
    return outcome.code, outcome.text


def _verdict_detail(ws: Workspace) -> tuple[bool, str]:
    letter = _letter(ws)
    verdict = check_signed_pdf(
        _pdf(ws).read_bytes(), document=letter.document, rendition=letter.rendition,
        pdf_signatures=letter.signatures, ca_cert=load_ca_certificate(ws.keys_dir),
    )  # fmt: skip
    return verdict.ok, verdict.detail


def test_honest_stamps_pass_in_either_order(ws: Workspace) -> None:
    lines = _lines(ws)
    _sign_forged(ws, "P002", line=lines["subordinate"])  # the very line signing would find
    _sign_forged(ws, "P001", line=None)  # found by sign_pdf itself
    ok, detail = _verdict_detail(ws)
    assert ok, detail
    assert detail == "PDF 的 2 个签名均有效(乙方、甲方),签后未被改动"


def test_a_stamp_on_the_other_partys_line_fails_verify(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _lines(ws)
    _sign_forged(ws, "P001", line=dataclasses.replace(lines["subordinate"], party="superior"))
    code, text = _verify(ws, monkeypatch)
    assert code == 1, text
    assert f"✗ {STEP}:甲方 P001 的 PDF 签章不在甲方(张明远)的“签名:”一栏上" in text, text
    assert "落在乙方(李卫东)的签名栏" in text
    assert "✗ 验证失败" in text


def test_a_stamp_moved_off_the_line_fails_verify(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = _lines(ws)["subordinate"]
    up = 120.0  # into the letter's text above the signature block

    def moved(box: Box) -> Box:
        return Box(box.x0, box.y0 + up, box.x1, box.y1 + up)

    off = dataclasses.replace(
        mine,
        line=moved(mine.line),
        blank=moved(mine.blank),
        date_line=None if mine.date_line is None else moved(mine.date_line),
    )
    _sign_forged(ws, "P002", line=off)
    code, text = _verify(ws, monkeypatch)
    assert code == 1, text
    assert f"✗ {STEP}:乙方 P002 的 PDF 签章不在乙方(李卫东)的“签名:”一栏上" in text, text
    assert "✗ 验证失败" in text
    ok, detail = _verdict_detail(ws)
    assert not ok and "签章不在" in detail


def test_a_signature_without_a_stamp_fails_verify(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sign_forged(ws, "P002", line=None, visible=False)
    code, text = _verify(ws, monkeypatch)
    assert code == 1, text
    assert f"✗ {STEP}:乙方 P002 的 PDF 签名没有可见签章" in text, text
    assert "✗ 验证失败" in text
