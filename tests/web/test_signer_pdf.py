"""The letter page shows every page of the registered PDF rendition as images, and after signing
the signed PDF with the stamp; a PDF changed since it was registered is not shown.

Real LibreOffice renditions (made once for the module) and real pdftoppm; skipped, with the
reason, where either is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from web_support import Clock, client_for, login_signer, page_csrf

from docgen.core.workspace import Workspace
from docgen.letters.rendition import make_renditions
from docgen.letters.soffice import find_soffice
from docgen.registry import open_registry
from docgen.web.page_images import pages_dir
from tests.signed_year import GENERATED_AT, YEAR, copy_workspace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_soffice() is None or shutil.which("pdftoppm") is None,
        reason="LibreOffice (soffice) 或 pdftoppm 未安装:apt install libreoffice-writer-nogui "
        "fonts-noto-cjk poppler-utils",
    ),
]

LETTER = "2027-ZR-P001-P002"
PIN = "person-test-passphrase"


@pytest.fixture(scope="module")
def rendered(unsigned_year: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("web-pdf") / "ws"
    ws = copy_workspace(unsigned_year, root)
    make_renditions(ws, YEAR, now=GENERATED_AT + timedelta(hours=1), jobs=1)
    yield root


@pytest.fixture
def pdf_ws(rendered: Path, tmp_path: Path) -> Workspace:
    return copy_workspace(rendered, tmp_path / "ws")


def pdf_of(ws: Workspace, doc_id: str) -> Path:
    from docgen.records.renditions import registered_rendition

    with open_registry(ws) as registry:
        record = registered_rendition(registry, doc_id)
    assert record is not None
    return ws.year_dir(YEAR) / str(record["path"])


def test_every_page_is_shown_then_the_signed_pdf(pdf_ws: Workspace) -> None:
    clock = Clock(GENERATED_AT + timedelta(days=1))
    client = client_for(pdf_ws, clock)
    login_signer(client, "P001", PIN)
    page = client.get(f"/sign/{LETTER}")
    assert page.status_code == 200 and "还没有 PDF" not in page.text
    images = re.findall(r'src="(/letter/[^"]+/page/(\d+)\.png\?v=([0-9a-f]+))"', page.text)
    info = subprocess.run(
        ["pdfinfo", str(pdf_of(pdf_ws, LETTER))], capture_output=True, text=True, check=True
    )
    count = int(info.stdout.split("Pages:")[1].split()[0])
    assert [int(n) for _src, n, _v in images] == list(range(1, count + 1))
    before = client.get(images[0][0])
    assert before.status_code == 200 and before.content.startswith(b"\x89PNG")
    assert before.headers["content-type"] == "image/png"
    assert client.get(f"/letter/{LETTER}/page/{count + 1}.png").status_code == 404
    shown_before = [client.get(src).content for src, _n, _v in images]
    cached = list(pages_dir(pdf_ws).iterdir())
    assert len(cached) == 1 and len(list(cached[0].glob("page-*.png"))) == count

    token = page_csrf(client, f"/sign/{LETTER}")
    signed = client.post(f"/sign/{LETTER}", data={"csrf": token, "read": "yes", "pin": PIN})
    assert signed.status_code == 303
    done = client.get(signed.headers["location"])
    assert "签名栏上有您的签章" in done.text
    after = re.findall(r'src="(/letter/[^"]+/page/(\d+)\.png\?v=([0-9a-f]+))"', done.text)
    assert after[0][2] != images[0][2]  # another PDF: the signed one
    with open_registry(pdf_ws) as registry:
        kinds = [e.record["type"] for e in registry.entries() if e.record.get("doc_id") == LETTER]
    assert kinds.count("pdf_signature") == 1
    # the stamp is on one of the pages: some page image changed
    shown_after = [client.get(src).content for src, _n, _v in after]
    changed = [a != b for a, b in zip(shown_after, shown_before, strict=True)]
    assert changed.count(True) == 1  # the page with the 签名栏


def test_a_changed_pdf_is_not_shown(pdf_ws: Workspace) -> None:
    client = client_for(pdf_ws)
    login_signer(client, "P001", PIN)
    path = pdf_of(pdf_ws, LETTER)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    page = client.get(f"/sign/{LETTER}")
    assert "与登记簿中登记的不一致" in page.text
    assert "/page/1.png" not in page.text
    assert client.get(f"/letter/{LETTER}/page/1.png").status_code == 404
