"""The registry's signing key: an Ed25519 key in ``keys/registry/``, created once, kept private.

The key signs every checkpoint. It is created on first use (race-free across processes),
refused when other users can read it, and its verifier key is written next to it
(``registry.vkey``) for whoever checks proof bundles offline.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from docgen.core.errors import Location, ValidationError
from docgen.core.workspace import CONFIG_NAME, Workspace, atomic_write
from docgen.registry.note import Signer, key_name_problem


def _check_private_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ValidationError(
            f"登记簿签名私钥的权限过宽({mode:o}),其他用户可以读取",
            location=Location(file=str(path)),
            hint=f"请运行 chmod 600 {path} 后重试",
        )


def _load_signing_key(path: Path) -> Ed25519PrivateKey:
    _check_private_mode(path)
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            "登记簿签名私钥无法读取(应为未加密的 PKCS#8 PEM 格式 Ed25519 私钥)",
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


def load_or_create_signing_key(key_dir: Path) -> Ed25519PrivateKey:
    """The registry's Ed25519 key in ``key_dir/registry.key``; created once, race-free."""
    path = key_dir / "registry.key"
    if path.exists():
        return _load_signing_key(path)
    _ensure_private_dir(key_dir)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
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
    return _load_signing_key(path)


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
    key_dir = ws.keys_dir / "registry"
    signer = Signer.from_private_key(name, load_or_create_signing_key(key_dir))
    vkey_path = key_dir / "registry.vkey"
    vkey = (signer.verifier.encode() + "\n").encode("utf-8")
    if not vkey_path.exists() or vkey_path.read_bytes() != vkey:
        atomic_write(vkey_path, vkey, mode=0o644)
    return signer
