"""The signing page in a real browser: Debian's chromium driven by Playwright against ``docgen
serve``'s application under real uvicorn on 127.0.0.1.

* activation: a person with an activation code sets their own PIN, then reads and signs a letter
  (「签署」 stays disabled until 「我已阅读全文」 is ticked — the page's one script);
* 面对面签订: the clerk opens a pairing, both parties sign it in turn on one screen with their
  own PINs, the page shows both signatures with their times, and the office's 年度进度 shows the
  letter 已完成 on its next view;
* 核验: the 纪检组 uploads a letter changed after signing — 核验未通过, step 1 ✗ — and the honest
  letter — 核验通过;
* and on every page: no Content-Security-Policy violation, no script error.

Skipped, with the reason, only where /usr/bin/chromium or the playwright package is absent
(``apt install chromium``; ``pip install playwright`` — browsers are never downloaded).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import PIN, STAFF_PASSWORD, Clock

from docgen.core.workspace import Workspace
from docgen.registry import open_registry
from docgen.signing.activation import arm, is_pending
from docgen.web.app import create_app
from tests.signed_year import GENERATED_AT, PERSON_PASSPHRASE, YEAR, letters_of

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="没有 /usr/bin/chromium:apt install chromium"
    ),
]
playwright_api = pytest.importorskip(
    "playwright.sync_api",
    reason="没有 playwright:pip install playwright(不要运行 playwright install)",
)

NEW_PIN = "Qing-Cheng-2027!pin"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``docgen serve``'s application under uvicorn in a thread of this process."""

    def __init__(self, ws: Workspace, clock: Clock) -> None:
        import uvicorn

        self.port = _free_port()
        config = uvicorn.Config(
            create_app(ws, now=clock), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Page:
    """One browser page that records CSP violations and script errors."""

    def __init__(self, browser: object, base: str) -> None:
        self.context = browser.new_context(locale="zh-CN")  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def go(self, path: str) -> object:
        return self.page.goto(self.base + path)

    def close(self) -> None:
        self.context.close()
        csp = [p for p in self.problems if "Content Security Policy" in p or "Refused" in p]
        assert not csp, csp
        assert not [p for p in self.problems if "Uncaught" in p], self.problems


@pytest.fixture
def served(web_ws: Workspace) -> Iterator[tuple[Workspace, Clock, Server]]:
    clock = Clock()
    with Server(web_ws, clock) as server:
        yield web_ws, clock, server


def _staff_login(page: Page, role: str, password: str) -> None:
    page.go("/login")
    form = page.page.locator("form[action='/login/staff']")
    form.locator("select[name=role]").select_option(role)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.page.wait_for_load_state()


def test_activation_sets_the_pin_then_the_person_reads_and_signs(
    served: tuple[Workspace, Clock, Server], browser: object
) -> None:
    ws, _clock, server = served
    sheet = arm(ws, "P003", PERSON_PASSPHRASE, now=GENERATED_AT)
    page = Page(browser, server.url)
    p = page.page
    page.go("/login")
    login = p.locator("form[action='/login']")
    login.locator("[name=person]").fill("陈志刚")
    login.locator("[name=pin]").fill("whatever")
    login.locator("button[type=submit]").click()
    p.wait_for_url("**/activate?person=P003")
    p.fill("#code", sheet.code)
    p.fill("#pin", NEW_PIN)
    p.fill("#pin2", NEW_PIN)
    p.click("form[action='/activate'] button[type=submit]")
    p.wait_for_url("**/sign?activated=1")
    assert not is_pending(ws, "P003")
    p.locator("a.button[href^='/sign/']").first.click()
    p.wait_for_load_state()
    button = p.locator("form.sign-form .sign-button")
    assert button.is_disabled()  # 「签署」 waits for 「我已阅读全文」
    p.check("form.sign-form .read-box")
    assert button.is_enabled()
    p.fill("form.sign-form [name=pin]", NEW_PIN)
    button.click()
    p.wait_for_load_state()
    assert "签署完成,已记入登记簿" in p.content()
    with open_registry(ws) as registry:
        signers = [e.record["signer"] for e in registry.entries(type="signature")]
    assert signers == ["P003"]
    page.close()


def test_face_to_face_signing_and_the_progress_page_updating(
    served: tuple[Workspace, Clock, Server], browser: object
) -> None:
    ws, _clock, server = served
    doc = "2027-ZR-P001-P002"
    page = Page(browser, server.url)
    p = page.page
    _staff_login(page, "office", STAFF_PASSWORD)
    page.go("/office")
    row = p.locator(f"#letters tr[data-doc='{doc}'] td.state")
    assert row.inner_text().strip() == "未签"
    page.go("/f2f?person=P002")
    p.locator(f"a.button[href='/f2f/{doc}']").click()
    p.wait_for_url(f"**/f2f/{doc}")
    for person in ("P001", "P002"):
        form = p.locator(f"#sign-{person} form")
        assert form.locator(".sign-button").is_disabled()
        form.locator(".read-box").check()
        form.locator("[name=pin]").fill(PIN)
        form.locator(".sign-button").click()
        p.wait_for_url(f"**/f2f/{doc}?signed={person}")
    text = p.locator("table.parties").inner_text()
    assert text.count("已签署") == 2 and text.count("登记于") == 2
    assert "双方均已签署" in p.content()
    with open_registry(ws) as registry:
        signed = {e.record["signer"] for e in registry.entries(type="signature", doc_id=doc)}
    assert signed == {"P001", "P002"}
    page.go("/office")
    assert p.locator(f"#letters tr[data-doc='{doc}'] td.state").inner_text().strip() == "已完成"
    page.close()


def test_verify_page_catches_a_tampered_letter(
    served: tuple[Workspace, Clock, Server], browser: object, tmp_path: Path
) -> None:
    ws, clock, server = served
    from docgen.signing.sign import sign_as

    for person in ("P001", "P002"):
        sign_as(ws, person, PERSON_PASSPHRASE, year=YEAR, now=clock())
    clock.advance(hours=1)
    letter = next(p for p in letters_of(ws) if p.name.startswith("2027-ZR-P001-P002"))
    honest = [p for p in sorted(letter.parent.iterdir()) if p.name.startswith(letter.name)]
    changed_dir = tmp_path / "changed"
    changed_dir.mkdir()
    changed = []
    for path in honest:
        data = bytearray(path.read_bytes())
        if path.suffix == ".docx":
            data[len(data) // 2] ^= 1
        (changed_dir / path.name).write_bytes(bytes(data))
        changed.append(changed_dir / path.name)
    page = Page(browser, server.url)
    p = page.page
    _staff_login(page, "auditor", STAFF_PASSWORD + "-纪检")
    for files, verdict in ((changed, "✗ 核验未通过"), (honest, "✓ 核验通过")):
        page.go("/audit/verify")
        p.set_input_files("#files", [str(f) for f in files])
        p.click("#upload-form button[type=submit]")
        p.wait_for_load_state()
        assert p.locator("#verdict h1").inner_text().strip() == verdict
    page.go("/audit/verify")
    p.set_input_files("#files", [str(f) for f in changed])
    p.click("#upload-form button[type=submit]")
    p.wait_for_load_state()
    first_step = p.locator("ol.checklist li").first
    assert "✗" in first_step.inner_text() and "登记后被改动过" in first_step.inner_text()
    page.close()
