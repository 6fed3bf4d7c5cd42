"""What a new user tripped over on the 纪检组's pages (report_NU items 2, 11, 12): a letter still
waiting for its second signature, looked up by 核验码, is said to be waiting — not failed; the
pages show paths relative to the workspace, never the server's absolute paths; a missing page,
a wrong method and a server error are Chinese pages in the site's layout, never English or a
stack trace.

The attacks first: a half-signed letter must not read as ✓ (its 签名齐全 step stays open), and a
letter changed after registration must still read as ✗ 未通过 even while it waits.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from web_support import STAFF_PASSWORD, Clock, client_for, csrf_of, login_staff

from docgen.core.workspace import Workspace
from docgen.records.letter_code import letter_code, workspace_identity
from docgen.signing.sign import sign_as
from docgen.web.logins import set_password
from tests.signed_year import GENERATED_AT, PERSON_PASSPHRASE, YEAR, copy_workspace, letters_of

LETTER = "2027-ZR-P001-P002"
AUDITOR_PASSWORD = STAFF_PASSWORD + "-纪检"


@pytest.fixture(scope="module")
def half_signed(unsigned_year: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = copy_workspace(unsigned_year, tmp_path_factory.mktemp("half") / "ws")
    sign_as(
        ws, "P001", PERSON_PASSPHRASE, year=YEAR, now=GENERATED_AT + timedelta(hours=2),
        doc_id=LETTER,
    )  # fmt: skip
    set_password(ws, "auditor", AUDITOR_PASSWORD)
    return ws


def _auditor(ws: Workspace) -> TestClient:
    client = client_for(ws, Clock(GENERATED_AT + timedelta(days=1)))
    assert login_staff(client, "auditor", AUDITOR_PASSWORD).status_code == 303
    return client


def _lookup(client: TestClient, ws: Workspace) -> str:
    code = letter_code(workspace_identity(ws), LETTER)
    token = csrf_of(client.get("/audit/verify").text)
    response = client.post("/audit/verify/code", data={"csrf": token, "code": code})
    assert response.status_code == 200
    return response.text


def _verdict(text: str) -> str:
    return text.split('id="verdict"', 1)[1].split("</section>", 1)[0]


def test_half_signed_letter_by_code_is_waiting_not_failed(half_signed: Workspace) -> None:
    text = _lookup(_auditor(half_signed), half_signed)
    verdict = _verdict(text)
    assert "尚未签完" in verdict and "待 李卫东(P002)签署" in verdict
    assert "未通过" not in verdict and "✓" not in verdict
    assert "签名不全" in text  # the checklist still shows the open step


def test_changed_half_signed_letter_by_code_still_fails(
    half_signed: Workspace, tmp_path: Path
) -> None:
    ws = copy_workspace(half_signed.root, tmp_path / "ws")
    letter = next(p for p in letters_of(ws) if LETTER in p.name)
    data = bytearray(letter.read_bytes())
    data[len(data) // 2] ^= 1
    letter.write_bytes(bytes(data))
    verdict = _verdict(_lookup(_auditor(ws), ws))
    assert "✗ 登记簿中的文书核验未通过" in verdict and "尚未签完" not in verdict


def test_audit_pages_show_no_absolute_server_paths(half_signed: Workspace) -> None:
    client = _auditor(half_signed)
    root = str(half_signed.root)
    text = _lookup(client, half_signed)
    assert root not in text
    assert f"output/{YEAR}/" in text  # the file, relative to the workspace
    letter = next(p for p in letters_of(half_signed) if LETTER in p.name)
    token = csrf_of(client.get("/audit/verify").text)
    uploaded = client.post(
        "/audit/verify/files",
        data={"csrf": token},
        files=[("files", (letter.name, letter.read_bytes(), "application/octet-stream"))],
    ).text
    assert root not in uploaded and "签名不全" in uploaded


def test_missing_page_and_wrong_method_are_chinese_pages(half_signed: Workspace) -> None:
    client = _auditor(half_signed)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Not Found" not in missing.text and "页面不存在" in missing.text
    assert '<footer class="bottom">' in missing.text  # the site's layout
    wrong = client.put("/audit/verify")
    assert wrong.status_code == 405
    assert "Method Not Allowed" not in wrong.text and "不支持" in wrong.text


def test_server_error_is_a_chinese_page_without_a_stack_trace(half_signed: Workspace) -> None:
    from starlette.routing import Route

    from docgen.web.app import create_app

    app = create_app(half_signed, now=Clock(GENERATED_AT))

    async def boom(request: object) -> object:
        raise RuntimeError("secret internals /etc/passwd")

    app.router.routes.append(Route("/boom", boom))
    client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "服务器内部错误" in response.text and '<footer class="bottom">' in response.text
    assert "Traceback" not in response.text and "secret internals" not in response.text
    assert "Internal Server Error" not in response.text
