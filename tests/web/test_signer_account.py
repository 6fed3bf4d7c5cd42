"""A signer's own account on the page: first activation (code + a PIN of their own) and the
handwritten signature. The key is armed with a real activation code (as ``keys issue`` does by
default), and the registry is checked for what each step must record."""

from __future__ import annotations

import base64
import io
import tempfile
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from web_support import PIN, Clock, client_for, login_signer, page_csrf

from docgen.core.workspace import Workspace
from docgen.registry import open_registry
from docgen.signing.activation import arm, is_pending
from docgen.signing.sign import sign_as
from tests.signed_year import GENERATED_AT, PERSON_PASSPHRASE, YEAR, copy_workspace

NEW_PIN = "my-own-pin-7391"
LETTER = "2027-ZR-P001-P002"


def registered(ws: Workspace, kind: str) -> list[dict[str, object]]:
    with open_registry(ws) as registry:
        return [e.record for e in registry.entries() if e.record["type"] == kind]


def activate(client, person: str, code: str, pin: str, again: str | None = None):  # type: ignore[no-untyped-def]
    token = page_csrf(client, f"/activate?person={person}")
    data = {"csrf": token, "person": person, "code": code, "pin": pin, "pin2": again or pin}
    return client.post("/activate", data=data)


def test_first_activation_sets_the_persons_own_pin(web_ws: Workspace) -> None:
    sheet = arm(web_ws, "P003", PERSON_PASSPHRASE, now=GENERATED_AT)
    client = client_for(web_ws)
    # logging in before activation leads to the activation page, whatever is typed as PIN
    first = login_signer(client, "P003", PIN)
    assert first.status_code == 303 and first.headers["location"] == "/activate?person=P003"
    page = client.get(first.headers["location"])
    assert "激活码" in page.text and 'value="P003"' in page.text

    weak = activate(client, "P003", sheet.code, "123456")
    assert weak.status_code == 400 and "PIN" in weak.text and is_pending(web_ws, "P003")
    differ = activate(client, "P003", sheet.code, NEW_PIN, NEW_PIN + "x")
    assert differ.status_code == 400 and "不一致" in differ.text
    wrong_code = activate(client, "P003", "AAAA-BBBB-CCCC-DDDD-EEEE", NEW_PIN)
    assert wrong_code.status_code == 400 and "激活码不正确" in wrong_code.text
    assert is_pending(web_ws, "P003") and registered(web_ws, "key_activated") == []

    done = activate(client, "P003", sheet.code.lower().replace("-", " "), NEW_PIN)
    assert done.status_code == 303 and done.headers["location"].startswith("/sign")
    assert not is_pending(web_ws, "P003")
    assert [r["person"] for r in registered(web_ws, "key_activated")] == ["P003"]
    assert "激活成功" in client.get(done.headers["location"]).text  # item 15 of report_NU
    plain = client.get("/sign")
    assert plain.status_code == 200 and "激活成功" not in plain.text  # logged in as P003
    # the code works once; the old passphrase opens nothing; the new PIN logs in
    again = activate(client_for(web_ws), "P003", sheet.code, NEW_PIN)
    assert again.status_code == 400 and "只能使用一次" in again.text
    clock = Clock()
    assert login_signer(client_for(web_ws, clock), "P003", PIN).status_code == 401
    clock.advance(seconds=1)
    assert login_signer(client_for(web_ws, clock), "P003", NEW_PIN).status_code == 303


def _drawn_png() -> str:
    image = Image.new("RGBA", (720, 240), (255, 255, 255, 0))
    pen = ImageDraw.Draw(image)
    pen.line([(40, 160), (200, 60), (360, 170), (520, 70), (680, 150)], fill="black", width=6)
    data = io.BytesIO()
    image.save(data, format="PNG")
    return "data:image/png;base64," + base64.b64encode(data.getvalue()).decode()


def test_handwriting_is_saved_and_registered(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    token = page_csrf(client, "/me/handwriting")
    page = client.get("/me/handwriting")
    assert 'canvas class="handwriting"' in page.text and "/static/docgen.js" in page.text
    bad = client.post("/me/handwriting", data={"csrf": token, "png": "data:text/html,<b>x</b>"})
    assert bad.status_code == 400 and registered(web_ws, "handwriting") == []
    not_png = "data:image/png;base64," + base64.b64encode(b"GIF89a not a png").decode()
    assert client.post("/me/handwriting", data={"csrf": token, "png": not_png}).status_code == 400
    saved = client.post("/me/handwriting", data={"csrf": token, "png": _drawn_png()})
    assert saved.status_code == 200 and "手写签名已保存" in saved.text
    assert [r["person"] for r in registered(web_ws, "handwriting")] == ["P001"]


def test_handwriting_page_is_for_signers_only(web_ws: Workspace) -> None:
    from web_support import login_staff

    client = client_for(web_ws)
    login_staff(client, "office")
    assert client.get("/me/handwriting").status_code == 403


def _made_elsewhere(ws: Workspace, tmp_path: Path, person: str, doc_id: str) -> bytes:
    """The .p7s ``person`` makes for ``doc_id`` in a copy of the workspace on their own PC."""
    elsewhere = copy_workspace(ws.root, tmp_path / "own-pc")
    result = sign_as(
        elsewhere, person, PERSON_PASSPHRASE, year=YEAR, now=GENERATED_AT + timedelta(days=2),
        doc_id=doc_id,
    )  # fmt: skip
    return (elsewhere.year_dir(YEAR) / result.signed[0].signature_path).read_bytes()


def _upload(client, files: list[tuple[str, bytes]]):  # type: ignore[no-untyped-def]
    token = page_csrf(client, "/me/upload")
    return client.post(
        "/me/upload",
        data={"csrf": token},
        files=[("files", (name, data, "application/pkcs7-signature")) for name, data in files],
    )


def test_upload_of_signatures_made_elsewhere(web_ws: Workspace, tmp_path: Path) -> None:
    p7s = _made_elsewhere(web_ws, tmp_path, "P001", LETTER)
    tampered = bytearray(p7s)
    tampered[-40] ^= 0x01
    clock = Clock(GENERATED_AT + timedelta(days=2))
    client = client_for(web_ws, clock)
    login_signer(client, "P001")
    assert "上传并核验" in client.get("/me/upload").text

    refused = _upload(client, [("../../etc/evil.p7s", bytes(tampered))])
    assert refused.status_code == 422 and "✗ 未接受" in refused.text
    assert "../../etc/evil.p7s" in refused.text  # named as given, escaped, never used as a path
    assert signatures_of(web_ws, LETTER) == set()

    accepted = _upload(client, [("mine.p7s", p7s)])
    assert accepted.status_code == 200 and "✓ 已记入登记簿" in accepted.text
    assert signatures_of(web_ws, LETTER) == {"P001"}
    again = _upload(client, [("mine.p7s", p7s)])
    assert again.status_code == 422 and signatures_of(web_ws, LETTER) == {"P001"}
    # nothing is left behind under the temp directory by the uploads
    assert not list(Path(tempfile.gettempdir()).glob("docgen-upload-*"))

    big = _upload(client, [("big.p7s", b"0" * (300 * 1024))])
    assert big.status_code == 413


def signatures_of(ws: Workspace, doc_id: str) -> set[str]:
    from docgen.records.state import letters_state

    with open_registry(ws) as registry:
        return set(letters_state(registry, [doc_id], YEAR).letters[doc_id].signatures)


def test_upload_takes_only_my_own_signatures(web_ws: Workspace, tmp_path: Path) -> None:
    """P002 logged in uploads P001's valid signature: refused with the reason, nothing written —
    a session carries only its own person's signatures in."""
    p7s = _made_elsewhere(web_ws, tmp_path, "P001", LETTER)
    client = client_for(web_ws, Clock(GENERATED_AT + timedelta(days=2)))
    login_signer(client, "P002")
    refused = _upload(client, [("p001.p7s", p7s)])
    assert refused.status_code == 422 and "只能导入本人的签名" in refused.text
    assert signatures_of(web_ws, LETTER) == set()


def test_slow_forms_announce_that_they_are_working_and_activation_says_it_succeeded(
    web_ws: Workspace,
) -> None:
    """New-user report items 4 and 15: 签署, 激活 and 面对面签订 take seconds (scrypt); their
    forms carry the message docgen.js shows while the button is held disabled (no inline
    script: the CSP forbids it), and the list after activation says 激活成功."""
    from web_support import Clock, client_for

    client = client_for(web_ws, Clock(GENERATED_AT))
    activate = client.get("/activate").text
    assert 'data-busy="正在激活,请稍候……"' in activate
    script = client.get("/static/docgen.js").text
    assert "form[data-busy]" in script and "<script>" not in activate.split("</main>")[0]
    assert "激活成功" not in client.get("/login").text
