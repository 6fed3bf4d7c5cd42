"""The bulk mode's PDF pass in worker processes (docgen.signing.pdf_sign.sign_year_pdfs): the same
signatures, records and files as in one process, and an altered PDF refused from inside a
worker with its Chinese message, nothing of that letter written or registered.

The test workspace has two renditions; one letter a chunk (``PDF_CHUNK = 1``) sends each to its
own worker of a real pool of two processes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
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
from docgen.signing import pdf_sign
from docgen.signing.ca import load_ca_certificate
from docgen.signing.pdf_sign import letter_pdfs
from docgen.signing.sign import sign_everyone
from docgen.verify.pdf_check import check_signed_pdf

pytestmark = [needs_soffice, pytest.mark.slow]

ZR = doc_id("ZR-P001-P002")
LJ = doc_id("LJ-P004-P005")


@pytest.fixture(scope="module")
def pdf_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pades-bulk") / "ws"
    build_pdf_workspace(root)
    return root


def _pdf_records(ws: Workspace) -> list[dict[str, Any]]:
    with open_registry(ws) as registry:
        return [dict(e.record) for e in registry.entries(type="pdf_signature")]


def _pdfs(ws: Workspace) -> dict[str, bytes]:
    with open_registry(ws) as registry:
        found = letter_pdfs(registry, [ZR, LJ])
    year_dir = ws.year_dir(YEAR)
    return {
        d: (year_dir / str(letter.rendition["path"])).read_bytes()
        for d, letter in found.items()
        if letter.rendition is not None
    }


def _sign_all(ws: Workspace, jobs: int) -> int:
    return sign_everyone(ws, lambda _pid: PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT, jobs=jobs)


def test_two_workers_sign_the_same_pdfs_as_one_process(
    pdf_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = copy_workspace(pdf_template, tmp_path / "alone")
    pooled = copy_workspace(pdf_template, tmp_path / "pooled")
    assert _sign_all(alone, jobs=1) > 0
    monkeypatch.setattr(pdf_sign, "PDF_CHUNK", 1)  # two chunks: the pool is used
    assert _sign_all(pooled, jobs=2) > 0

    records = _pdf_records(pooled)
    assert [(r["doc_id"], r["signer"]) for r in records] == [
        (r["doc_id"], r["signer"]) for r in _pdf_records(alone)
    ]
    assert len(records) == 4  # both parties of both letters, in letter order
    pdfs = _pdfs(pooled)
    assert set(pdfs) == {ZR, LJ}
    ca = load_ca_certificate(pooled.keys_dir)
    with open_registry(pooled) as registry:
        states = letter_pdfs(registry, [ZR, LJ])
    for wanted, data in pdfs.items():
        state = states[wanted]
        # the file on disk is the last PDF of the registered chain, signed by both parties
        assert hashlib.sha256(data).hexdigest() == state.current_sha256
        verdict = check_signed_pdf(
            data, document=state.document, rendition=state.rendition,
            pdf_signatures=state.signatures, ca_cert=ca,
        )  # fmt: skip
        assert verdict.ok and verdict.complete, (wanted, verdict.detail)
    # The same signatures as one process made, but not the same bytes: pyHanko writes a new
    # random second /ID in each update's trailer, so no two runs give the same PDF.
    alone_pdfs = _pdfs(alone)
    assert {d: len(b) for d, b in pdfs.items()} == {d: len(b) for d, b in alone_pdfs.items()}
    skip = {"pdf_sha256", "previous_pdf_sha256"}
    assert [{k: v for k, v in r.items() if k not in skip} for r in records] == [
        {k: v for k, v in r.items() if k not in skip} for r in _pdf_records(alone)
    ]
    assert _sign_all(pooled, jobs=2) == 0  # nothing left to sign: no second signature
    assert len(_pdf_records(pooled)) == 4


def test_a_worker_refuses_a_pdf_altered_since_registration(
    pdf_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(pdf_template, tmp_path / "ws")
    with open_registry(ws) as registry:
        rendition = letter_pdfs(registry, [LJ])[LJ].rendition
    assert rendition is not None
    pdf = ws.year_dir(YEAR) / str(rendition["path"])
    altered = pdf.read_bytes() + b"%tail\n"
    pdf.write_bytes(altered)
    monkeypatch.setattr(pdf_sign, "PDF_CHUNK", 1)
    with pytest.raises(ValidationError) as caught:
        _sign_all(ws, jobs=2)
    error = caught.value
    assert f"文书 {LJ} 的 PDF 与登记簿中的最新版本不一致" in str(error)
    assert "拒绝签名" in str(error)
    assert pdf.read_bytes() == altered  # not signed over
    assert all(r["doc_id"] != LJ for r in _pdf_records(ws))
