"""``docgen serve`` itself, as a separate process under real uvicorn on the loopback address:
it answers, its access log names paths only (a PIN typed at login appears nowhere in what it
prints), and with the server certificate from ``keys issue-server`` it speaks TLS with a
certificate of the institution's CA and marks its session cookie Secure."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx  # the HTTP client Starlette 1.x tests with (the test extra)
from cryptography import x509
from web_support import PIN

from docgen.core.workspace import Workspace
from docgen.signing.server_cert import issue_server_certificate
from tests.signed_year import CA_PASSPHRASE, GENERATED_AT

SERVE_NOW = "2027-01-07T09:00:00+00:00"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def serving(ws: Workspace, *extra: str) -> Iterator[tuple[int, list[str]]]:
    port = free_port()
    env = {**os.environ, "DOCGEN_NOW": SERVE_NOW}
    process = subprocess.Popen(
        [sys.executable, "-m", "docgen", "serve", str(ws.root), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("docgen serve did not start")
        yield port, output
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
        output.append(out.decode("utf-8", "replace"))


def _login(http: httpx.Client, pin: str, person: str = "P001") -> httpx.Response:
    page = http.get("/login")
    token = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert token is not None
    return http.post("/login", data={"csrf": token.group(1), "person": person, "pin": pin})


def test_serve_answers_on_loopback_and_logs_no_pin(web_ws: Workspace) -> None:
    wrong = "wrong-pin-never-logged"
    with serving(web_ws) as (port, output):
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        assert http.get("/login").status_code == 200
        assert _login(http, wrong, "P002").status_code == 401
        response = _login(http, PIN)
        assert response.status_code == 303
        assert "Secure" not in response.headers["set-cookie"]
        assert http.get("/sign").status_code == 200
        http.close()
    text = output[0]
    assert "签署页面:http://127.0.0.1:" in text
    assert "POST /login" in text and "GET /sign" in text  # the access log: paths only
    assert wrong not in text and PIN not in text


def test_serve_with_the_server_certificate_speaks_tls(web_ws: Workspace, tmp_path: Path) -> None:
    cert_path, key_path = issue_server_certificate(
        web_ws, ["127.0.0.1", "localhost"], CA_PASSPHRASE, now=GENERATED_AT
    )
    extra = ("--tls-cert", str(cert_path), "--tls-key", str(key_path))
    with serving(web_ws, *extra) as (port, output):
        # the certificates are dated 2027 (the fixture's clock): check the chain ourselves
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", port))
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        served = x509.load_der_x509_certificate(der)
        ca = x509.load_pem_x509_certificate((web_ws.keys_dir / "ca" / "ca.pem").read_bytes())
        served.verify_directly_issued_by(ca)
        assert served == x509.load_pem_x509_certificate(cert_path.read_bytes())
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context) as http:
            response = _login(http, PIN)
            assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]
    assert "签署页面:https://127.0.0.1:" in output[0]


def test_serve_console_is_chinese_and_keeps_the_access_log(web_ws: Workspace) -> None:
    """New-user report item 11: our own Chinese start line (address, 按 Ctrl+C 停止), not
    uvicorn's English "(Press CTRL+C to quit)"; the access log still names each request's
    path."""
    with serving(web_ws) as (port, output):
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        assert http.get("/login").status_code == 200
    text = output[0]
    assert f"签署页面:http://127.0.0.1:{port}/" in text and "按 Ctrl+C 停止" in text
    assert "Press CTRL+C" not in text and "Uvicorn running" not in text
    assert "Started server process" not in text and "Application startup" not in text
    assert '"GET /login HTTP/1.1" 200' in text
