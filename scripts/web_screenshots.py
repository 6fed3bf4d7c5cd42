"""Regenerate docs/web/*.png: the signing page (``docgen serve``) as its users see it, in Debian's
chromium driven by Playwright, on a copy of the demo's workspace.

Usage: python scripts/web_screenshots.py [--workspace DEMO_DIR] [--out docs/web] [--keep DIR]

Without ``--workspace`` the demo is run first (``docgen demo``, in a temporary folder: several
minutes with LibreOffice). The workspace is copied, so a demo directory given is left as it was.
On the copy: the office and 纪检组 passwords are set to random values, one letter is voided
(人员调离) and reissued as ``…-R2`` with its PDF rendition, so 「待我签署」 and 面对面签订 have a
letter to show; people log in with the demo's activation codes (``演示口令.txt``), setting a PIN
of their own through the page as a user would (an older demo's passphrases are used as PINs).

Pages captured (1200 px wide, each PNG kept under 250 KB by reducing it to 256 colours):
login, activate, sign-list, letter, f2f, office-progress, office-progress-department,
office-void-confirm, audit-verify,
audit-code, audit-registry, audit-duties. Needs /usr/bin/chromium and the playwright package
(``pip install playwright``; never ``playwright install``); without them it says so and stops.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
MAX_BYTES = 250 * 1024
WIDTH, HEIGHT = 1200, 1000
VOIDED = "人员调离"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _secrets_of(ws_root: Path) -> dict[str, str]:
    """``演示口令.txt``: person id → activation code (or, in an older demo, passphrase)."""
    found: dict[str, str] = {}
    for line in (ws_root / "演示口令.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        pid, _name, secret = line.split("\t")
        found[pid] = secret
    return found


def _small_png(data: bytes) -> bytes:
    """The screenshot, reduced to 256 colours when it is over the size limit."""
    from PIL import Image

    if len(data) <= MAX_BYTES:
        return data
    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    if out.tell() > MAX_BYTES:
        raise SystemExit(f"screenshot still {out.tell()} bytes after reduction")
    return out.getvalue()


def _prepare(ws_root: Path) -> tuple[str, str, str]:
    """Passwords for the staff logins, and one letter voided and reissued (with its PDF)."""
    from cryptography.x509 import load_pem_x509_crl as load_crl_pem

    from docgen.core.lock import workspace_lock
    from docgen.core.workspace import find_workspace
    from docgen.letters.generate import generate
    from docgen.letters.rendition import make_renditions
    from docgen.letters.soffice import find_soffice
    from docgen.records.state import read_year_state
    from docgen.records.status import void_letter
    from docgen.registry import open_registry
    from docgen.signing.crl import CRL_DAYS_DEFAULT
    from docgen.signing.keyfiles import ca_paths
    from docgen.signing.keyring import publish_crl
    from docgen.signing.passphrase import Passphrase
    from docgen.web.logins import set_password

    ws = find_workspace(ws_root)
    office, auditor = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    set_password(ws, "office", office)
    set_password(ws, "auditor", auditor)
    year = ws.config.default_year
    with open_registry(ws) as registry:
        state = read_year_state(registry, year)
    letter = next(
        x for x in state.active() if x.doc_id.split("-")[1] == "ZR" and not x.doc_id.endswith("R2")
    )
    now = _clock(ws_root)()
    crl = load_crl_pem(ca_paths(ws.keys_dir).crl_pem.read_bytes())
    if crl.next_update_utc is not None and crl.next_update_utc <= now:
        # A demo's simulated January is months back: its CRL has expired, and signing refuses
        # until the office issues the next one (docgen keys crl) — as it would in real use.
        ca = Passphrase(_secrets_of(ws_root)["CA"].encode(), "演示口令.txt(根证书)")
        with workspace_lock(ws.root):
            publish_crl(ws, ca_passphrase=ca, now=now, days=CRL_DAYS_DEFAULT)
    void_letter(ws, letter.doc_id, VOIDED, now=now)
    generate(ws, year, now=now, reissue=True, jobs=1)
    if find_soffice() is not None:
        make_renditions(ws, year, now=now, jobs=1)
    return office, auditor, f"{letter.doc_id}-R2"


def _clock(ws_root: Path) -> Callable[[], datetime]:
    """The clock of the pages: now, or — for a demo whose simulated year lies ahead — a minute
    after the registry's last entry, running on from there (the registry only moves forward)."""
    from docgen.core.workspace import find_workspace
    from docgen.registry import open_registry

    with open_registry(find_workspace(ws_root)) as registry:
        last = str(registry.entry(registry.size() - 1).record["recorded_at"])
    start = max(
        datetime.now(UTC),
        datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(minutes=1),
    )
    began = time.monotonic()
    return lambda: (start + timedelta(seconds=time.monotonic() - began)).replace(microsecond=0)


class _Server:
    def __init__(self, ws_root: Path) -> None:
        import uvicorn

        from docgen.core.workspace import find_workspace
        from docgen.web.app import create_app

        self.port = _free_port()
        config = uvicorn.Config(
            create_app(find_workspace(ws_root), now=_clock(ws_root)), host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise SystemExit("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _capture(ws_root: Path, out: Path) -> list[Path]:
    from playwright.sync_api import Page, sync_playwright

    from docgen.core.workspace import find_workspace
    from docgen.records.letter_code import letter_code, workspace_identity
    from docgen.signing.activation import arm, is_pending
    from docgen.signing.passphrase import Passphrase

    office, auditor, doc = _prepare(ws_root)
    ws = find_workspace(ws_root)
    codes = _secrets_of(ws_root)
    superior, subordinate = doc.split("-")[2], doc.split("-")[3]
    pins: dict[str, str] = {}

    clock = _clock(ws_root)
    written: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)

    def shot(page: Page, name: str, *, full: bool = False) -> None:
        target = out / f"{name}.png"
        data = page.screenshot(full_page=full)
        target.write_bytes(_small_png(data))
        written.append(target)

    with _Server(ws_root) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

        def new_page() -> Page:
            context = browser.new_context(
                locale="zh-CN", viewport={"width": WIDTH, "height": HEIGHT}
            )
            return context.new_page()

        def log_in(page: Page, pid: str, *, capture: bool = False) -> None:
            page.goto(base + "/login")
            if capture:
                shot(page, "login")
            if capture and not is_pending(ws, pid):  # an older demo: hand the key out as now
                sheet = arm(ws, pid, Passphrase(codes[pid].encode(), "演示口令.txt"), now=clock())
                codes[pid] = sheet.code
            if is_pending(ws, pid):
                page.goto(f"{base}/activate?person={pid}")
                pins[pid] = "Demo-" + secrets.token_urlsafe(9)
                page.fill("#code", codes[pid])
                page.fill("#pin", pins[pid])
                page.fill("#pin2", pins[pid])
                if capture:
                    shot(page, "activate")
                page.click("form[action='/activate'] button[type=submit]")
            else:
                pins.setdefault(pid, codes[pid])
                page.fill("form[action='/login'] [name=person]", pid)
                page.fill("form[action='/login'] [name=pin]", pins[pid])
                page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url("**/sign*")

        def staff(page: Page, role: str, password: str) -> None:
            page.goto(base + "/login")
            page.select_option("form[action='/login/staff'] select[name=role]", role)
            page.fill("form[action='/login/staff'] [name=password]", password)
            page.click("form[action='/login/staff'] button[type=submit]")
            page.wait_for_load_state()

        signer = new_page()
        log_in(signer, superior, capture=True)
        signer.goto(base + "/sign")
        shot(signer, "sign-list")
        signer.goto(f"{base}/sign/{doc}")
        signer.wait_for_load_state("networkidle")
        shot(signer, "letter")
        log_in(new_page(), subordinate)  # activates the other party's key, if pending

        clerk = new_page()
        staff(clerk, "office", office)
        clerk.goto(f"{base}/f2f/{doc}")
        form = clerk.locator(f"#sign-{superior} form")
        form.locator(".read-box").check()
        form.locator("[name=pin]").fill(pins[superior])
        form.locator(".sign-button").click()
        clerk.wait_for_load_state()
        if f"signed={superior}" not in clerk.url:
            problem = clerk.locator(".card.error").all_inner_texts()
            raise SystemExit(f"面对面签订未成功:{' '.join(problem) or clerk.url}")
        clerk.locator(f"#sign-{subordinate} .read-box").check()
        shot(clerk, "f2f")
        clerk.goto(base + "/office")
        shot(clerk, "office-progress")
        department = clerk.locator("#f-department option").nth(2).get_attribute("value")
        clerk.goto(f"{base}/office?department={department}")
        shot(clerk, "office-progress-department", full=True)
        target = next(
            row.get_attribute("data-doc")
            for row in clerk.locator("#letters tr[data-doc]").all()
            if "已完成" in row.inner_text()
        )
        clerk.goto(f"{base}/office/letter/{target}")
        clerk.fill("#reason", "人员调离,改由新任负责人签订")
        clerk.click("#void-form button[type=submit]")
        clerk.wait_for_load_state()
        shot(clerk, "office-void-confirm")

        checker = new_page()
        staff(checker, "auditor", auditor)
        letter = next(ws.year_dir(ws.config.default_year).rglob(f"{target}_*.docx"))
        files = sorted(str(f) for f in letter.parent.iterdir() if f.name.startswith(letter.name))
        checker.goto(base + "/audit/verify")
        checker.set_input_files("#files", files)
        checker.click("#upload-form button[type=submit]")
        checker.wait_for_load_state()
        shot(checker, "audit-verify")
        checker.goto(base + "/audit/verify")
        checker.fill("#code", letter_code(workspace_identity(ws), target))
        checker.click("#code-form button[type=submit]")
        checker.wait_for_load_state()
        shot(checker, "audit-code")
        checker.goto(base + "/audit/registry")
        shot(checker, "audit-registry")
        checker.goto(base + "/audit/duties")
        shot(checker, "audit-duties")
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=None, help="a demo workspace to copy")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web")
    parser.add_argument("--keep", type=Path, default=None, help="keep the copy here")
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"没有 {CHROMIUM}(apt install chromium),未生成截图")
        return 1
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("没有 playwright(pip install playwright),未生成截图")
        return 1
    work = Path(tempfile.mkdtemp(prefix="web-shots-"))
    try:
        if args.workspace is None:
            from docgen.demo.run import run_demo

            source = work / "demo"
            run_demo(source, now=datetime.now(UTC).replace(microsecond=0), say=print, pdf=True)
        else:
            source = args.workspace
        copy = (args.keep or work) / "ws"
        shutil.copytree(source, copy, symlinks=True)
        for path in _capture(copy, args.out):
            print(f"{path}  {path.stat().st_size // 1024} KB")
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
