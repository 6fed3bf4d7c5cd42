"""The signing page's defences, each tried as an attacker would: a form posted without or with a
wrong CSRF token (on every POST route the application has, the office's and 纪检组's too), an
idle session, oversized bodies, cookies without their flags, pages without their headers, the
LAN without TLS; and the staff passwords, stored only as scrypt hashes.
"""

from __future__ import annotations

import io
import sys
import tomllib

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from web_support import (
    PIN,
    STAFF_PASSWORD,
    Clock,
    client_for,
    login_signer,
    login_staff,
    page_csrf,
)

from docgen.core.workspace import Workspace
from docgen.web.app import create_app
from docgen.web.logins import check_login
from docgen.web.security import CSP, MAX_BODY, MAX_FORM_BODY
from tests.helpers import run_docgen

LETTER = "2027-ZR-P001-P002"


def post_routes(ws: Workspace) -> list[str]:
    """Every POST path of the application, with ``{…}`` parameters filled in."""
    paths = []
    for route in create_app(ws).routes:
        if isinstance(route, Route) and route.methods and "POST" in route.methods:
            path = route.path.replace("{doc_id}", LETTER).replace("{person_id}", "P001")
            paths.append(path.replace("{number:int}", "1"))
    return paths


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(web_ws: Workspace) -> None:
    paths = post_routes(web_ws)
    assert {"/login", "/login/staff", "/logout", f"/sign/{LETTER}", f"/f2f/{LETTER}"} <= set(paths)
    sessions = {}
    for role in ("signer", "office", "auditor"):
        client = client_for(web_ws, Clock())
        if role == "signer":
            assert login_signer(client, "P001").status_code == 303
        else:
            password = STAFF_PASSWORD if role == "office" else STAFF_PASSWORD + "-纪检"
            assert login_staff(client, role, password).status_code == 303
        sessions[role] = client
    for path in paths:
        refused_for_csrf = False
        for client in sessions.values():
            for data in ({}, {"csrf": "forged-token"}):
                response = client.post(path, data={**data, "read": "yes", "pin": PIN})
                assert response.status_code in (403, 303), (path, response.status_code)
                if response.status_code == 303:
                    # only a redirect to the login page (nobody logged in for that route)
                    assert response.headers["location"] == "/login", path
                refused_for_csrf |= "CSRF" in response.text
        assert refused_for_csrf, f"{path}: no role saw the CSRF refusal"
    # nothing was signed by any of these posts
    from test_signer import signatures

    assert signatures(web_ws, LETTER) == set()


def test_a_login_form_needs_its_own_cookie(web_ws: Workspace) -> None:
    """The login form's token is bound to a SameSite=Strict cookie: a page elsewhere that posts
    the form (with a token it read earlier) from another browser is refused."""
    one = client_for(web_ws)
    token = page_csrf(one, "/login")
    other = client_for(web_ws)
    response = other.post("/login", data={"csrf": token, "person": "P001", "pin": PIN})
    assert response.status_code == 403 and "CSRF" in response.text


def test_cookies_are_httponly_strict_and_secure_under_tls(web_ws: Workspace) -> None:
    plain = client_for(web_ws)
    cookie = login_signer(plain, "P001").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    tls = client_for(web_ws, tls=True)
    cookie = login_signer(tls, "P001").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie


def test_an_idle_session_ends(web_ws: Workspace) -> None:
    clock = Clock()
    client = client_for(web_ws, clock)
    login_signer(client, "P001")
    clock.advance(minutes=14)
    assert client.get("/sign").status_code == 200  # in use: the idle clock restarts
    clock.advance(minutes=14)
    assert client.get("/sign").status_code == 200
    clock.advance(minutes=15, seconds=1)
    response = client.get("/sign")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_logout_ends_the_session_on_the_server(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    token = page_csrf(client, "/sign")
    stolen = client.cookies.get("docgen_session")
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    replay = client_for(web_ws)
    replay.cookies.set("docgen_session", stolen or "")
    assert replay.get("/sign").status_code == 303


@pytest.mark.parametrize("path", ["/login", "/sign", "/static/docgen.css", "/nowhere", "/ca.pem"])
def test_security_headers_on_every_response(web_ws: Workspace, path: str) -> None:
    client = client_for(web_ws)
    login_signer(client, "P001")
    response = client.get(path)
    assert response.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert "frame-ancestors 'none'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script_or_style(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    pages = [client.get("/login").text, client.get("/activate").text]
    login_signer(client, "P001")
    pages += [client.get(p).text for p in ("/sign", f"/sign/{LETTER}", "/me/handwriting")]
    for html in pages:
        assert "<script>" not in html and " style=" not in html and "<style" not in html
        assert " on" + "click=" not in html and "javascript:" not in html


def test_oversized_bodies_are_refused_before_reading(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    token = page_csrf(client, "/login")
    form = client.post(
        "/login", data={"csrf": token, "person": "P001", "pin": "x" * (MAX_FORM_BODY + 1)}
    )
    assert form.status_code == 413 and "过大" in form.text
    upload = client.post(
        "/login",
        data={"csrf": token},
        files={"file": ("big.zip", io.BytesIO(b"\0" * (MAX_BODY + 1)), "application/zip")},
    )
    assert upload.status_code == 413


def test_serving_the_lan_needs_tls(web_ws: Workspace) -> None:
    outcome = run_docgen("serve", str(web_ws.root), "--host", "0.0.0.0")
    assert outcome.code == 2
    assert "必须使用 TLS" in outcome.text and "keys issue-server" in outcome.text


def test_set_password_keeps_only_a_scrypt_hash(
    web_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("新的办公室口令-2028\n新的办公室口令-2028\n"))
    outcome = run_docgen("serve", str(web_ws.root), "set-password", "--role", "office")
    assert outcome.code == 0, outcome.text
    text = (web_ws.root / "docgen.toml").read_text(encoding="utf-8")
    assert "新的办公室口令" not in text
    serve = tomllib.loads(text)["serve"]
    assert serve["office_password"].startswith("scrypt$")
    assert check_login(web_ws, "office", "新的办公室口令-2028")
    assert not check_login(web_ws, "office", STAFF_PASSWORD)
    assert check_login(web_ws, "auditor", STAFF_PASSWORD + "-纪检")  # the other role untouched
    client = client_for(web_ws)
    assert login_staff(client, "office", "新的办公室口令-2028").status_code == 303


def test_the_crl_is_served_where_certificates_point(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    crl = client.get("/crl.der")
    assert crl.status_code == 200
    assert crl.content == (web_ws.keys_dir / "ca" / "crl.der").read_bytes()
    assert crl.headers["content-type"] == "application/pkix-crl"


def test_a_request_for_another_host_is_refused(web_ws: Workspace) -> None:
    """A page elsewhere that rebinds its own name to 127.0.0.1 (DNS rebinding) reaches the server
    with its own name as Host: refused, so it cannot even try PINs against the lock."""
    client = client_for(web_ws)
    rebound = client.get("/login", headers={"host": "attacker.example:8470"})
    assert rebound.status_code == 421
    token = page_csrf(client, "/login")
    refused = client.post(
        "/login",
        data={"csrf": token, "person": "P001", "pin": "guess-1"},
        headers={"host": "attacker.example"},
    )
    assert refused.status_code == 421
    from docgen.web import lockout

    assert lockout.attempts(web_ws, "person:P001").failures == 0
    assert client.get("/login", headers={"host": "localhost:8470"}).status_code == 200
    named = TestClient(create_app(web_ws, hosts=["qc-jcy-office"]), base_url="http://qc-jcy-office")
    assert named.get("/login").status_code == 200


def test_a_post_from_another_origin_is_refused(web_ws: Workspace) -> None:
    client = client_for(web_ws)
    token = page_csrf(client, "/login")
    data = {"csrf": token, "person": "P001", "pin": PIN}
    other = client.post("/login", data=data, headers={"origin": "http://attacker.example"})
    assert other.status_code == 403
    same = client.post("/login", data=data, headers={"origin": "http://127.0.0.1"})
    assert same.status_code == 303
