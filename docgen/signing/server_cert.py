"""The TLS certificate of ``docgen serve --host``, issued by the institution's own CA.

Serving the signing page on the office LAN needs TLS (PINs cross the network), and the client PCs
already have reason to trust the institution's root certificate (it is what every signature is
checked against). The server certificate is an end-entity certificate of that CA: ECDSA P-256,
``serverAuth`` only, the names clients type as subjectAltName (DNS names and IP addresses), at most
:data:`SERVER_DAYS` days (the browsers' limit for server certificates). Its key is written
unencrypted, 0600 in a 0700 directory — the server has to start unattended — and it can only
authenticate the server, never sign a letter (no digitalSignature for documents: the EKU is
serverAuth alone). The certificate is registered as a ``server_certificate`` entry.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from docgen.core.errors import UsageError
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.signing import keyring
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.keyfiles import (
    PRIVATE_FILE_MODE,
    PUBLIC_FILE_MODE,
    certificate_pem,
    make_private_dir,
    write_atomic,
)
from docgen.signing.passphrase import Passphrase
from docgen.signing.x509util import (
    CertificateRefusedError,
    fingerprint,
    iso_z,
    serial_hex,
    utc_second,
    validity_problem,
)

SERVER_DIR = "server"
SERVER_CERT_NAME = "server.pem"
SERVER_KEY_NAME = "server.key"
SERVER_DAYS = 397
_SERVER_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def server_paths(keys_dir: Path) -> tuple[Path, Path]:
    """``keys/server/server.pem`` and ``keys/server/server.key``."""
    directory = keys_dir / SERVER_DIR
    return directory / SERVER_CERT_NAME, directory / SERVER_KEY_NAME


def _general_name(text: str) -> x509.GeneralName:
    name = text.strip()
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        pass
    labels = name.rstrip(".").split(".")
    if not name or len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise UsageError(
            f"“{text}”不是有效的主机名或 IP 地址",
            hint="例如 --host 192.168.1.20 --host jcy-sign.local(不支持通配符)",
        )
    return x509.DNSName(name.rstrip(".").lower())


def server_record(cert: x509.Certificate, hostnames: Sequence[str]) -> dict[str, Any]:
    """The registry's ``server_certificate`` record."""
    return {
        "type": "server_certificate",
        "cert_fingerprint": fingerprint(cert),
        "serial": serial_hex(cert),
        "hostnames": list(hostnames),
        "not_before": iso_z(cert.not_valid_before_utc),
        "not_after": iso_z(cert.not_valid_after_utc),
    }


def build_server_certificate(
    ws: Workspace, hostnames: Sequence[str], ca_passphrase: Passphrase, *, now: datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The certificate and its new key, in memory."""
    names = [_general_name(h) for h in hostnames]
    if not names:
        raise UsageError("请至少指定一个 --host", hint="客户端访问签署页面时所用的主机名或 IP")
    ca_cert = load_ca_certificate(ws.keys_dir)
    problem = validity_problem(ca_cert, now)
    if problem is not None:
        raise CertificateRefusedError(f"根证书不可用:{problem}")
    ca_key = load_ca_key(ws.keys_dir, ca_passphrase, ca_cert)
    key = ec.generate_private_key(ec.SECP256R1())
    start = utc_second(now)
    end = min(start + timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc)
    if end <= start:
        raise CertificateRefusedError("根证书已到期,不能再签发服务器证书")
    first = hostnames[0].strip()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ws.config.institution),
            x509.NameAttribute(NameOID.COMMON_NAME, first[:64]),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SERVER_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(ca_key, hashes.SHA256()), key


def issue_server_certificate(
    ws: Workspace, hostnames: Sequence[str], ca_passphrase: Passphrase, *, now: datetime
) -> tuple[Path, Path]:
    """Issue the server certificate for ``hostnames``, write it and its key (replacing an earlier
    one) and register it; returns (certificate path, key path). Takes the workspace lock."""
    cert, key = build_server_certificate(ws, hostnames, ca_passphrase, now=now)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_path, key_path = server_paths(ws.keys_dir)
    with workspace_lock(ws.root):
        make_private_dir(cert_path.parent)
        write_atomic(key_path, key_pem, PRIVATE_FILE_MODE)
        write_atomic(cert_path, certificate_pem(cert), PUBLIC_FILE_MODE)
        keyring.register(ws, [server_record(cert, [h.strip() for h in hostnames])], now)
    return cert_path, key_path
