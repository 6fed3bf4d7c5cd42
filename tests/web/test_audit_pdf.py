"""核验 of a signed PDF uploaded alone: found through the registry, checked with its letter's
registered files by ``docgen verify``'s checklist (step 9: the PDF and its PAdES signatures).

The attacks: a signed PDF with one byte changed (under its own name, and under a made-up name),
each must fail loudly; the honest PDF must pass. Real LibreOffice renditions and real PAdES
signatures (made once for the module); skipped, with the reason, without LibreOffice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from web_support import STAFF_PASSWORD, Clock, client_for, csrf_of, login_staff

from docgen.core.workspace import Workspace
from docgen.letters.rendition import make_renditions
from docgen.letters.soffice import find_soffice
from docgen.registry import open_registry
from docgen.signing.sign import sign_as
from tests.signed_year import GENERATED_AT, PERSON_PASSPHRASE, YEAR, copy_workspace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_soffice() is None,
        reason="LibreOffice (soffice) 未安装:apt install libreoffice-writer-nogui fonts-noto-cjk",
    ),
]

LETTER = "2027-ZR-P001-P002"
AUDITOR_PASSWORD = STAFF_PASSWORD + "-纪检"


@pytest.fixture(scope="module")
def signed_pdf_ws(
    unsigned_year: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    from docgen.web.logins import set_password

    ws = copy_workspace(unsigned_year, tmp_path_factory.mktemp("audit-pdf") / "ws")
    make_renditions(ws, YEAR, now=GENERATED_AT + timedelta(hours=1), jobs=1)
    for person in ("P001", "P002"):
        sign_as(
            ws, person, PERSON_PASSPHRASE, year=YEAR, now=GENERATED_AT + timedelta(hours=2),
            doc_id=LETTER,
        )  # fmt: skip
    set_password(ws, "auditor", AUDITOR_PASSWORD)
    yield ws


@pytest.fixture
def auditor(signed_pdf_ws: Workspace) -> TestClient:
    client = client_for(signed_pdf_ws, Clock(GENERATED_AT + timedelta(days=1)))
    login_staff(client, "auditor", AUDITOR_PASSWORD)
    return client


def _signed_pdf(ws: Workspace) -> Path:
    with open_registry(ws) as registry:
        signed = [e.record for e in registry.entries(type="pdf_signature", doc_id=LETTER)]
    assert len(signed) == 2, "both parties signed the PDF"
    return ws.year_dir(YEAR) / str(signed[-1]["path"])


def _upload(client: TestClient, name: str, data: bytes) -> str:
    token = csrf_of(client.get("/audit/verify").text)
    response = client.post(
        "/audit/verify/files",
        data={"csrf": token},
        files=[("files", (name, data, "application/pdf"))],
    )
    assert response.status_code == 200
    return response.text


def test_signed_pdf_alone_passes_with_its_letter(
    auditor: TestClient, signed_pdf_ws: Workspace
) -> None:
    pdf = _signed_pdf(signed_pdf_ws)
    text = _upload(auditor, pdf.name, pdf.read_bytes())
    assert "✓ 核验通过" in text and LETTER in text
    assert 'value="9"' in text and "PDF 的 2 个签名均有效" in text


def test_signed_pdf_changed_fails_under_its_name_and_under_another(
    auditor: TestClient, signed_pdf_ws: Workspace
) -> None:
    pdf = _signed_pdf(signed_pdf_ws)
    data = bytearray(pdf.read_bytes())
    data[len(data) // 3] ^= 0x01
    text = _upload(auditor, pdf.name, bytes(data))
    assert "✗ 核验未通过" in text and "PDF 文件与登记的不一致" in text
    text = _upload(auditor, "扫描件.pdf", bytes(data))
    assert "✗ 核验未通过" in text and "登记簿中没有与此 PDF 对应的文书" in text


def test_signed_pdf_alone_says_which_steps_are_about_the_registered_letter(
    auditor: TestClient, signed_pdf_ws: Workspace
) -> None:
    """New-user report item 9: steps 1–7 describe the server's registered .docx, not the
    upload; the page says so, and that the uploaded PDF's own result is step 9."""
    pdf = _signed_pdf(signed_pdf_ws)
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 1
    text = _upload(auditor, pdf.name, bytes(data))
    verdict = text.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert "✗ 核验未通过" in verdict
    assert "第 1–7 项核对的是登记簿中该文书" in verdict and "第 9 项" in verdict
