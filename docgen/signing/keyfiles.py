"""Where the CA's and each person's keys and certificates live, and reading and writing them.

Layout under the workspace's ``keys/`` directory::

    keys/ca/ca.pem             root certificate (public)
    keys/ca/ca.key             root key, encrypted PKCS#8, 0600, directory 0700
    keys/ca/crl.pem, crl.der   certificate revocation list signed by the root
    keys/people/<id>/cert.pem  the person's current certificate
    keys/people/<id>/key.pem   the person's key, encrypted PKCS#8, 0600, directory 0700
    keys/people/<id>/old/<serial>.pem      certificates replaced by ``rotate`` (kept)
    keys/people/<id>/revoked/<serial>.pem  revoked certificates (kept, never deleted)

Private keys are checked for safe file modes each time they are used. They are encrypted with
scrypt (:mod:`docgen.core.pkcs8`, :data:`~docgen.core.pkcs8.SCRYPT_DEFAULT`); key files written
before that, with PBKDF2 at 2,048 iterations, are still read, and ``docgen keys check`` names
them (``docgen keys passwd`` re-encrypts them).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from docgen.core import pkcs8
from docgen.core.errors import DocgenError, Location, UsageError, ValidationError
from docgen.core.workspace import atomic_write
from docgen.signing.passphrase import Passphrase
from docgen.signing.x509util import Algorithm, SigningKey

CA_DIR = "ca"
PEOPLE_DIR = "people"
CA_CERT_NAME = "ca.pem"
CA_KEY_NAME = "ca.key"
CRL_PEM_NAME = "crl.pem"
CRL_DER_NAME = "crl.der"
CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"
OLD_DIR = "old"
REVOKED_DIR = "revoked"

_PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


class KeyFileError(DocgenError):
    """A private key file is missing or its permissions are unsafe."""


class PassphraseError(DocgenError):
    """The passphrase does not open the private key."""


def _check_person_id(person_id: str) -> None:
    bad = (
        not person_id
        or person_id in (".", "..")
        or any(ch in person_id for ch in "/\\")
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in person_id)
    )
    if bad:
        raise UsageError(
            f"人员编号“{person_id!r}”不能用作目录名", hint="编号不能为空,不能含 / \\ 或控制字符"
        )


# ---------------------------------------------------------------------------------------------
# paths and file modes


@dataclass(frozen=True)
class CaPaths:
    directory: Path
    cert: Path
    key: Path
    crl_pem: Path
    crl_der: Path


def ca_paths(keys_dir: Path) -> CaPaths:
    directory = keys_dir / CA_DIR
    return CaPaths(
        directory=directory,
        cert=directory / CA_CERT_NAME,
        key=directory / CA_KEY_NAME,
        crl_pem=directory / CRL_PEM_NAME,
        crl_der=directory / CRL_DER_NAME,
    )


@dataclass(frozen=True)
class PersonPaths:
    directory: Path
    cert: Path
    key: Path
    old: Path
    revoked: Path


def person_paths(keys_dir: Path, person_id: str) -> PersonPaths:
    _check_person_id(person_id)
    directory = keys_dir / PEOPLE_DIR / person_id
    return PersonPaths(
        directory=directory,
        cert=directory / CERT_NAME,
        key=directory / KEY_NAME,
        old=directory / OLD_DIR,
        revoked=directory / REVOKED_DIR,
    )


def check_private_file(path: Path) -> None:
    """Refuse a private key that other users could read, or that sits in an open directory."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(
            "私钥文件不存在", location=Location(file=str(path)), hint="请先运行 docgen keys issue"
        ) from exc
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError("私钥路径不是普通文件", location=Location(file=str(path)))
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"私钥文件权限为 {stat.filemode(info.st_mode)},同组或其他用户可以读取,拒绝使用",
            location=Location(file=str(path)),
            hint=f"请运行 chmod 600 '{path}'",
        )
    dir_info = path.parent.stat()
    if dir_info.st_mode & 0o077:
        raise KeyFileError(
            f"私钥所在目录 {path.parent} 的权限为 {stat.filemode(dir_info.st_mode)},"
            "应只允许本人访问(drwx------),拒绝使用",
            location=Location(file=str(path)),
            hint=f"请运行 chmod 700 '{path.parent}'",
        )


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700 directories and tighten ``path`` itself."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=_PRIVATE_DIR_MODE)
        os.chmod(directory, _PRIVATE_DIR_MODE)
    os.chmod(path, _PRIVATE_DIR_MODE)


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole or not at all, with file mode ``mode``."""
    atomic_write(path, data, mode=mode)


# ---------------------------------------------------------------------------------------------
# keys and certificates on disk


def generate_private_key(algorithm: Algorithm) -> SigningKey:
    if algorithm is Algorithm.RSA3072:
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return ec.generate_private_key(ec.SECP256R1())


def encrypt_private_key(key: SigningKey, passphrase: Passphrase) -> bytes:
    """The key file's bytes: encrypted PKCS#8 PEM, scrypt with the default cost."""
    return pkcs8.encrypt_pem(key, passphrase.secret)


def key_protection(path: Path) -> pkcs8.Protection:
    """How the key file at ``path`` is protected (read from its header; no passphrase needed)."""
    return pkcs8.inspect_pem(path.read_bytes())


def decrypt_key_file(path: Path, data: bytes, passphrase: Passphrase) -> PrivateKeyTypes:
    """The private key in ``data`` (the bytes of ``path``), with the Chinese errors of a key file:
    not encrypted or not a key, a forged cost, a wrong passphrase."""
    where = Location(file=str(path))
    try:
        return pkcs8.decrypt_pem(data, passphrase.secret)
    except pkcs8.WrongPassphrase as exc:
        raise PassphraseError(
            f"口令不正确(来自{passphrase.source}),无法打开私钥",
            location=where,
            hint="请检查口令后重试;口令无法找回,遗忘时请用 docgen keys rotate 重新签发",
        ) from exc
    except pkcs8.KeyFormatError as exc:
        protection = pkcs8.inspect_pem(data)
        if protection.kind is pkcs8.KdfKind.UNENCRYPTED:
            message = "私钥文件没有加密,拒绝使用"
        elif pkcs8.excessive(protection) is not None:
            message = f"私钥文件要求的解密代价过大({exc}),不是本程序写的私钥,拒绝解密"
        else:
            message = f"私钥文件格式不对({exc}),拒绝使用"
        raise KeyFileError(
            message, location=where, hint="请从备份恢复该文件,或用 docgen keys rotate 重新生成密钥"
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise KeyFileError("私钥算法不受支持", location=where) from exc


def load_private_key(path: Path, passphrase: Passphrase) -> SigningKey:
    """Decrypt a key file after checking its permissions; a wrong passphrase is a clear error."""
    check_private_file(path)
    key = decrypt_key_file(path, path.read_bytes(), passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyFileError(
            "私钥类型不受支持(只支持 ECDSA 和 RSA)", location=Location(file=str(path))
        )
    return key


def load_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DocgenError("证书文件不存在", location=Location(file=str(path))) from exc
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, x509.InvalidVersion) as exc:
        raise ValidationError(f"证书文件无法解析:{exc}", location=Location(file=str(path))) from exc


def certificate_pem(cert: x509.Certificate) -> bytes:
    """The certificate as written to ``cert.pem``, ``old/`` and ``revoked/``."""
    return cert.public_bytes(serialization.Encoding.PEM)
