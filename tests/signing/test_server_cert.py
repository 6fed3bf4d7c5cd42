"""``docgen keys issue-server``: the TLS certificate of ``docgen serve --host`` (#19).

openssl, not docgen, judges it: a server certificate for the names given, chaining to the
institution's CA; no use for signing letters (serverAuth only); its key private (0600). A real
TLS handshake with Python's ssl module, trusting only the CA, succeeds for the name and fails
for another.
"""

from __future__ import annotations

import socket
import ssl
import stat
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.signing.x509util import fingerprint
from tests.helpers import CliOutcome, run_docgen
from tests.signed_year import CA_PASSPHRASE, build_workspace
from tests.signing.keys_workspace import env

NOW = "2027-01-06T09:00:00+00:00"
AT = str(int(datetime.fromisoformat(NOW).timestamp()) + 60)


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliOutcome]:
    root = tmp_path_factory.mktemp("server") / "ws"
    build_workspace(root, sign=False)
    out = issue(root, "127.0.0.1", "jcy-sign.local")
    assert out.code == 0, out.text
    return root, out


def issue(root: Path, *hosts: str) -> CliOutcome:
    args = [arg for host in hosts for arg in ("--host", host)]
    with env(DOCGEN_NOW=NOW, DOCGEN_CA_PASSPHRASE=CA_PASSPHRASE.secret.decode()):
        return run_docgen("keys", "issue-server", *args, "-w", str(root))


def openssl_verify(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    keys = root / "keys"
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(keys / "ca" / "ca.pem"), "-attime", AT, *extra,
         str(keys / "server" / "server.pem")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_openssl_accepts_it_as_a_server_certificate_for_its_names(
    issued: tuple[Path, CliOutcome],
) -> None:
    root, out = issued
    assert "ca.pem" in out.out  # how to install the CA on client PCs
    for name in ("jcy-sign.local",):
        done = openssl_verify(root, "-purpose", "sslserver", "-verify_hostname", name)
        assert done.returncode == 0, done.stdout + done.stderr
    done = openssl_verify(root, "-purpose", "sslserver", "-verify_ip", "127.0.0.1")
    assert done.returncode == 0, done.stdout + done.stderr
    wrong = openssl_verify(root, "-purpose", "sslserver", "-verify_hostname", "evil.local")
    assert wrong.returncode != 0
    # Not a certificate a letter could be signed with.
    signing = openssl_verify(root, "-purpose", "smimesign")
    assert signing.returncode != 0


def test_profile_key_mode_and_registry(issued: tuple[Path, CliOutcome]) -> None:
    root, _ = issued
    keys = root / "keys" / "server"
    cert = x509.load_pem_x509_certificate((keys / "server.pem").read_bytes())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert stat.S_IMODE((keys / "server.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    with open_registry(find_workspace(root)) as registry:
        records = [e.record for e in registry.entries(type="server_certificate")]
    assert records[-1]["cert_fingerprint"] == fingerprint(cert)
    assert records[-1]["hostnames"] == ["127.0.0.1", "jcy-sign.local"]


def test_a_tls_handshake_trusting_only_the_ca(tmp_path: Path) -> None:
    """Python's ssl checks validity against the real clock: a CA and certificate made now."""
    from datetime import UTC

    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import example_roster_yaml
    from docgen.signing.ca import init_ca
    from docgen.signing.server_cert import issue_server_certificate

    now = datetime.now(UTC).replace(microsecond=0)
    root = tmp_path / "ws"
    init_workspace(root, institution="测试院", year=2027, roster_yaml=example_roster_yaml("测试院"))
    ws = find_workspace(root)
    made = init_ca(ws.keys_dir, institution="测试院", passphrase=CA_PASSPHRASE, now=now)
    with open_registry(ws) as registry:
        registry.append(list(made.records), now=now)
    issue_server_certificate(ws, ["127.0.0.1"], CA_PASSPHRASE, now=now)
    keys = root / "keys"
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(keys / "server" / "server.pem", keys / "server" / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError):
            pass  # the client that refuses the name hangs up mid-handshake

    for name, ok in (("127.0.0.1", True), ("localhost", False)):
        thread = threading.Thread(target=serve_once)
        thread.start()
        client = ssl.create_default_context(cafile=str(keys / "ca" / "ca.pem"))
        client.verify_flags |= ssl.VERIFY_X509_STRICT  # as Python 3.13 and browsers
        try:
            with socket.create_connection(("127.0.0.1", port)) as raw:
                if ok:
                    with client.wrap_socket(raw, server_hostname=name) as tls:
                        assert tls.recv(2) == b"ok"
                else:
                    with pytest.raises(ssl.SSLCertVerificationError):
                        client.wrap_socket(raw, server_hostname=name)
        finally:
            thread.join(timeout=10)
    listener.close()


def test_bad_names_are_refused(issued: tuple[Path, CliOutcome]) -> None:
    root, _ = issued
    for bad in ("*.local", "bad_name", "-x.local", ""):
        out = issue(root, bad)
        assert out.code == 2, (bad, out.text)
        assert "不是有效的主机名" in out.err
