"""The registry's signing key: an Ed25519 key in ``keys/registry/``, created once, kept private.

The key signs every checkpoint. It is created on first use (race-free across processes),
refused when other users can read it, and its verifier key is written next to it
(``registry.vkey``) for whoever checks proof bundles offline.

It may be encrypted with a passphrase of its own (scrypt, :mod:`docgen.core.pkcs8`, as the
personal and CA keys): ``docgen keys passwd --registry`` encrypts an existing key, and a key
created while ``DOCGEN_REGISTRY_PASSPHRASE`` is set is encrypted from the start. Every command
that opens the registry then reads that passphrase from the environment — not from a prompt,
since the key is opened by whatever opens the registry, worker processes included, and they
share the environment. An encrypted key is decrypted once per process. An unencrypted key
(every workspace made before, and the default) keeps working; ``docgen keys check`` warns about
it and says how to encrypt it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from docgen.core import pkcs8
from docgen.core.errors import Location, UsageError, ValidationError
from docgen.core.workspace import CONFIG_NAME, Workspace, atomic_write
from docgen.registry.note import Signer, key_name_problem

PASSPHRASE_ENV = "DOCGEN_REGISTRY_PASSPHRASE"
KEY_NAME = "registry.key"
VKEY_NAME = "registry.vkey"
MIN_PASSPHRASE_LENGTH = 8
ENCRYPT_HINT = "请运行 docgen keys passwd --registry 为它设置口令"

# Keys decrypted in this process, by the SHA-256 of the file and a keyed hash of the passphrase
# (the passphrase itself is not kept): the registry is opened many times in one command.
_PROCESS_SALT = secrets.token_bytes(32)
_unlocked: dict[tuple[bytes, bytes], Ed25519PrivateKey] = {}


def key_dir_of(ws: Workspace) -> Path:
    return ws.keys_dir / "registry"


def _check_private_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ValidationError(
            f"登记簿签名私钥的权限过宽({mode:o}),其他用户可以读取",
            location=Location(file=str(path)),
            hint=f"请运行 chmod 600 {path} 后重试",
        )


def _secret_from_env(environ: Mapping[str, str] | None) -> bytes | None:
    value = (os.environ if environ is None else environ).get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def _decrypt(path: Path, data: bytes, secret: bytes, source: str) -> Ed25519PrivateKey:
    cache_key = (
        hashlib.sha256(data).digest(),
        hashlib.blake2b(secret, key=_PROCESS_SALT, digest_size=32).digest(),
    )
    cached = _unlocked.get(cache_key)
    if cached is not None:
        return cached
    where = Location(file=str(path))
    try:
        key = pkcs8.decrypt_pem(data, secret)
    except pkcs8.WrongPassphrase as exc:
        raise ValidationError(
            f"登记簿签名私钥的口令不正确(来自{source}),无法打开",
            location=where,
            hint="请检查口令;口令遗失后无法再打开这把密钥,只能从备份恢复",
        ) from exc
    except pkcs8.KeyFormatError as exc:
        raise ValidationError(
            f"登记簿签名私钥无法读取({exc})", location=where, hint="请从备份恢复该文件"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError("登记簿签名私钥不是 Ed25519 密钥", location=where)
    _unlocked[cache_key] = key
    return key


def _load_signing_key(
    path: Path, *, secret: bytes | None = None, environ: Mapping[str, str] | None = None
) -> Ed25519PrivateKey:
    """The key in ``path``; an encrypted one is opened with ``secret``, else with the passphrase
    in ``DOCGEN_REGISTRY_PASSPHRASE``."""
    _check_private_mode(path)
    data = path.read_bytes()
    protection = pkcs8.inspect_pem(data)
    if protection.kind in (pkcs8.KdfKind.SCRYPT, pkcs8.KdfKind.PBKDF2):
        source = "调用方"
        if secret is None:
            secret, source = _secret_from_env(environ), f"环境变量 {PASSPHRASE_ENV}"
        if secret is None:
            raise UsageError(
                "登记簿签名私钥已加密,需要它的口令",
                location=Location(file=str(path)),
                hint=f"请在本次会话中设置环境变量 {PASSPHRASE_ENV}(不要写进脚本或文件)",
            )
        return _decrypt(path, data, secret, source)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            "登记簿签名私钥无法读取(应为 PKCS#8 PEM 格式的 Ed25519 私钥)",
            location=Location(file=str(path)),
            hint="请从备份恢复该文件",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError("登记簿签名私钥不是 Ed25519 密钥", location=Location(file=str(path)))
    return key


def _ensure_private_dir(path: Path) -> None:
    for directory in (path.parent, path):
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)


def _new_key_pem(key: Ed25519PrivateKey, secret: bytes | None) -> bytes:
    if secret is None:
        return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    if len(secret.decode("utf-8", errors="replace")) < MIN_PASSPHRASE_LENGTH:
        raise UsageError(
            f"登记簿签名私钥的口令太短,至少需要 {MIN_PASSPHRASE_LENGTH} 个字符",
            hint="请换一个更长的口令",
        )
    return pkcs8.encrypt_pem(key, secret)


def load_or_create_signing_key(
    key_dir: Path, environ: Mapping[str, str] | None = None
) -> Ed25519PrivateKey:
    """The registry's Ed25519 key in ``key_dir/registry.key``; created once, race-free —
    encrypted when ``DOCGEN_REGISTRY_PASSPHRASE`` is set."""
    path = key_dir / KEY_NAME
    if path.exists():
        return _load_signing_key(path, environ=environ)
    secret = _secret_from_env(environ)
    key = Ed25519PrivateKey.generate()
    pem = _new_key_pem(key, secret)
    _ensure_private_dir(key_dir)
    fd, tmp = tempfile.mkstemp(prefix=".registry.key.", dir=key_dir)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        # os.link fails if another process created the key first; then that key is used.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return _load_signing_key(path, environ=environ)


def registry_key_protection(key_dir: Path) -> pkcs8.Protection | None:
    """How ``key_dir/registry.key`` is protected; ``None`` when there is no key yet."""
    path = key_dir / KEY_NAME
    if not path.exists():
        return None
    return pkcs8.inspect_pem(path.read_bytes())


def reencrypt_signing_key(key_dir: Path, *, old: bytes | None, new: bytes) -> pkcs8.Protection:
    """Encrypt the registry key (again) with passphrase ``new`` and the default KDF.

    ``old`` opens a key that is already encrypted (unused for an unencrypted one). The new file is
    decrypted once more before it replaces the old one, atomically (mode 0600); the key, and so
    ``registry.vkey`` and every checkpoint, stay the same.
    """
    path = key_dir / KEY_NAME
    if not path.exists():
        raise UsageError(
            "登记簿签名私钥不存在",
            location=Location(file=str(path)),
            hint="登记簿第一次使用时才生成签名私钥;请先运行一个登记的命令(例如 docgen generate)",
        )
    key = _load_signing_key(path, secret=old)
    pem = _new_key_pem(key, new)
    again = _decrypt(path, pem, new, "新口令")
    if again.public_key() != key.public_key():  # a bug in pkcs8, not bad input
        raise ValidationError("重新加密后的登记簿签名私钥与原密钥不一致,未写入")
    atomic_write(path, pem, mode=0o600)
    return pkcs8.inspect_pem(pem)


def registry_signer(ws: Workspace) -> Signer:
    """The registry's signer: origin from ``registry_name``, key from ``keys/registry/``."""
    name = ws.config.registry_name
    problem = key_name_problem(name)
    if problem is not None:
        raise ValidationError(
            f"登记簿名称“{name}”不能用作签名检查点的密钥名称:{problem}",
            location=Location(file=str(ws.root / CONFIG_NAME), field="registry_name"),
            hint="请修改 registry_name,去掉空格和加号,例如“庆城县人民检察院/党风廉政建设登记簿”",
        )
    key_dir = key_dir_of(ws)
    signer = Signer.from_private_key(name, load_or_create_signing_key(key_dir))
    vkey_path = key_dir / VKEY_NAME
    vkey = (signer.verifier.encode() + "\n").encode("utf-8")
    if not vkey_path.exists() or vkey_path.read_bytes() != vkey:
        atomic_write(vkey_path, vkey, mode=0o644)
    return signer
