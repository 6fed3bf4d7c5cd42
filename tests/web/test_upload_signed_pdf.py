"""The signing page's upload takes signed PDFs too (``sign import`` checks them): a PDF is not
refused by the .p7s size limit, and what is not the person's signed rendition is refused with
``sign import``'s reason, nothing registered."""

from __future__ import annotations

from datetime import timedelta

from web_support import Clock, client_for, login_signer, page_csrf

from docgen.core.workspace import Workspace
from docgen.registry import open_registry
from tests.signed_year import GENERATED_AT


def _upload(client, name: str, data: bytes, kind: str):  # type: ignore[no-untyped-def]
    token = page_csrf(client, "/me/upload")
    return client.post("/me/upload", data={"csrf": token}, files=[("files", (name, data, kind))])


def test_a_pdf_larger_than_a_signature_reaches_sign_import(web_ws: Workspace) -> None:
    client = client_for(web_ws, Clock(GENERATED_AT + timedelta(days=2)))
    login_signer(client, "P001")
    assert "签名的 PDF" in client.get("/me/upload").text
    with open_registry(web_ws) as registry:
        before = registry.size()
    pdf = b"%PDF-1.7\n" + b"0" * (400 * 1024) + b"\n%%EOF\n"  # a PDF of no registered letter
    refused = _upload(client, "letter.pdf", pdf, "application/pdf")
    assert refused.status_code == 422, refused.text  # judged by sign import, not cut off by size
    assert "✗ 未接受" in refused.text and "letter.pdf" in refused.text
    with open_registry(web_ws) as registry:
        assert registry.size() == before
    # a .p7s of the same size is still refused before it is read
    big = _upload(client, "big.p7s", b"0" * (400 * 1024), "application/pkcs7-signature")
    assert big.status_code == 413 and "过大" in big.text
