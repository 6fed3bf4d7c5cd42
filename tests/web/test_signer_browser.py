"""The signers' pages in a real browser: Playwright drives Debian's chromium against the real
application under uvicorn on the loopback address. What only a browser shows is checked here —
the 「签署」 button held back by our script until 「我已阅读全文」 is ticked (the CSP lets no other
script run), forms that post with their CSRF tokens, redirects followed as a person would — and
the registry is checked after each flow: activation with the code and a PIN of one's own, then
signing one's own letter; a face-to-face signing of one pairing by both parties.

Skipped, with the reason, where /usr/bin/chromium or Playwright is missing (browsers cannot be
downloaded here: ``playwright install`` is never run).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from web_support import PIN, STAFF_PASSWORD, Clock

from docgen.core.workspace import Workspace
from docgen.records.state import letters_state
from docgen.registry import open_registry
from docgen.signing.activation import arm, is_pending
from docgen.web.app import create_app
from tests.signed_year import GENERATED_AT, PERSON_PASSPHRASE, YEAR

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="未安装 chromium(apt install chromium),跳过浏览器测试"
    ),
]

NEW_PIN = "browser-pin-4827"


@pytest.fixture
def server(web_ws: Workspace) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(web_ws, now=Clock())
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        tab = browser.new_page(base_url=server, viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on(
            "console",
            lambda message: (
                errors.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        yield tab
        assert errors == [], errors  # no script error, nothing the CSP had to block
        browser.close()


def signers_of(ws: Workspace, doc_id: str) -> set[str]:
    with open_registry(ws) as registry:
        return set(letters_state(registry, [doc_id], YEAR).letters[doc_id].signatures)


def test_activation_then_signing_my_letter(web_ws: Workspace, page) -> None:  # type: ignore[no-untyped-def]
    sheet = arm(web_ws, "P003", PERSON_PASSPHRASE, now=GENERATED_AT)
    page.goto("/")
    page.fill("#person", "陈志刚")
    page.fill("#pin", "anything")
    page.click("form[action='/login'] button")
    page.wait_for_url("**/activate?person=P003")
    page.fill("#code", sheet.code)
    page.fill("#pin", NEW_PIN)
    page.fill("#pin2", NEW_PIN)
    page.click("form[action='/activate'] button")
    page.wait_for_url("**/sign?activated=1")
    assert "激活成功" in page.inner_text("main")  # new-user report item 15
    assert not is_pending(web_ws, "P003")
    assert "待我签署" in page.inner_text("h1")

    doc_id = "2027-ZR-P001-P003"
    page.click(f"a[href='/sign/{doc_id}']")
    page.wait_for_url(f"**/sign/{doc_id}")
    assert page.is_disabled(".sign-button")  # held back until the box is ticked
    page.fill("#pin", NEW_PIN)
    page.check(".read-box")
    assert page.is_enabled(".sign-button")
    page.click(".sign-button")
    page.wait_for_url(f"**/sign/{doc_id}?signed=1")
    assert "签署完成,已记入登记簿" in page.inner_text("main")
    assert signers_of(web_ws, doc_id) == {"P003"}


def test_face_to_face_signing_of_one_pairing(web_ws: Workspace, page) -> None:  # type: ignore[no-untyped-def]
    doc_id = "2027-ZR-P001-P002"
    page.goto("/login")
    page.select_option("#role", "office")
    page.fill("#password", STAFF_PASSWORD)
    page.click("form[action='/login/staff'] button")
    page.wait_for_load_state()
    page.goto("/f2f")
    page.fill("#person", "李卫东")
    page.click("form[action='/f2f'] button")
    page.click(f"a[href='/f2f/{doc_id}']")
    page.wait_for_url(f"**/f2f/{doc_id}")
    for person, name in (("P001", "张明远"), ("P002", "李卫东")):
        step = page.locator(f"#sign-{person}")
        assert step.locator(".sign-button").is_disabled()
        step.locator(".read-box").check()
        step.locator("input[name=pin]").fill(PIN)
        step.locator(".sign-button").click()
        page.wait_for_url(f"**/f2f/{doc_id}?signed={person}")
        assert f"{name} 已签署" in page.inner_text("main")
    text = page.inner_text("main")
    assert "双方均已签署" in text and text.count("登记于") == 2
    assert signers_of(web_ws, doc_id) == {"P001", "P002"}
