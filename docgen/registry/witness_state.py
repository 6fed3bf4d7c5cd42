"""A witness's own directory: its key, and per log the key it pinned and the last checkpoint it
cosigned.

The witness is a different party from the log operator (the 市院 for a county, the 县纪委), so
nothing here lives in a docgen workspace: ``--dir`` (default ``DOCGEN_WITNESS_DIR`` or
``./witness``) holds

- ``witness.key``: the Ed25519 private key, PKCS#8 encrypted with scrypt (:mod:`docgen.core.pkcs8`,
  as every other docgen key), mode 0600 in a 0700 directory, never printed;
- ``witness.vkey``: its verifier key (C2SP vkey, type 0x04), to hand to whoever requires it;
- ``logs/<hash of the origin>/log.vkey``: the log's verifier key, pinned at the first cosignature;
- ``logs/<hash of the origin>/checkpoint``: the last checkpoint this witness cosigned for the log,
  the point every later checkpoint must extend (tlog-witness).

The state is replaced atomically after each cosignature; losing it makes the witness trust the
next checkpoint it sees, so it belongs in the witness's backups.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from docgen.core import pkcs8
from docgen.core.errors import Location, UsageError, ValidationError
from docgen.core.workspace import atomic_write
from docgen.registry.note import Verifier, parse_verifier_key
from docgen.registry.witness import Cosigner, WitnessSigner, parse_cosigner_key

PASSPHRASE_ENV = "DOCGEN_WITNESS_PASSPHRASE"
DIR_ENV = "DOCGEN_WITNESS_DIR"
KEY_NAME = "witness.key"
VKEY_NAME = "witness.vkey"
MIN_PASSPHRASE_LENGTH = 8


def default_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or "witness")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def init_witness(directory: Path, name: str, passphrase: str) -> Cosigner:
    """Create the witness key in ``directory``; refuse to replace an existing one."""
    signer = WitnessSigner.create(name, Ed25519PrivateKey.generate())
    key_path = directory / KEY_NAME
    if key_path.exists():
        raise UsageError(
            "见证方密钥已经存在,未改动",
            location=Location(file=str(key_path)),
            hint="一个见证方只有一把密钥;要另建见证方请用 --dir 指定另一个目录",
        )
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise UsageError(
            f"见证方密钥的口令太短,至少需要 {MIN_PASSPHRASE_LENGTH} 个字符",
            hint="请换一个更长的口令",
        )
    _private_dir(directory)
    pem = pkcs8.encrypt_pem(signer.private_key, passphrase.encode("utf-8"))
    atomic_write(key_path, pem, mode=0o600)
    atomic_write(directory / VKEY_NAME, (signer.cosigner.encode() + "\n").encode(), mode=0o644)
    return signer.cosigner


def load_witness(directory: Path, passphrase: str) -> WitnessSigner:
    """The witness's signer, its key opened with ``passphrase`` (mode and vkey checked)."""
    key_path, vkey_path = directory / KEY_NAME, directory / VKEY_NAME
    if not key_path.exists() or not vkey_path.exists():
        raise UsageError(
            f"{directory} 中没有见证方密钥",
            location=Location(file=str(key_path)),
            hint="请先运行 docgen registry witness init --name 名称,或用 --dir 指定见证方目录",
        )
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & 0o077:
        raise ValidationError(
            f"见证方私钥的权限过宽({mode:o}),其他用户可以读取",
            location=Location(file=str(key_path)),
            hint=f"请运行 chmod 600 {key_path} 后重试",
        )
    cosigner = parse_cosigner_key(vkey_path.read_text(encoding="utf-8"))
    try:
        key = pkcs8.decrypt_pem(key_path.read_bytes(), passphrase.encode("utf-8"))
    except pkcs8.WrongPassphrase as exc:
        raise ValidationError(
            "见证方私钥的口令不正确,无法打开",
            location=Location(file=str(key_path)),
            hint="请检查口令;口令遗失后只能重新 init 一个见证方并通知各单位更换公钥",
        ) from exc
    except pkcs8.KeyFormatError as exc:
        raise ValidationError(
            f"见证方私钥无法读取({exc})", location=Location(file=str(key_path))
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError("见证方私钥不是 Ed25519 密钥", location=Location(file=str(key_path)))
    signer = WitnessSigner.create(cosigner.name, key)
    if signer.cosigner != cosigner:
        raise ValidationError(
            "见证方私钥与 witness.vkey 中的公钥不符", location=Location(file=str(vkey_path))
        )
    return signer


@dataclass(frozen=True)
class LogState:
    """What the witness remembers of one log (by origin)."""

    directory: Path
    origin: str

    @classmethod
    def of(cls, witness_dir: Path, origin: str) -> LogState:
        digest = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32]
        return cls(witness_dir / "logs" / digest, origin)

    @property
    def vkey_path(self) -> Path:
        return self.directory / "log.vkey"

    @property
    def checkpoint_path(self) -> Path:
        return self.directory / "checkpoint"

    def pinned_verifier(self) -> Verifier | None:
        if not self.vkey_path.exists():
            return None
        return parse_verifier_key(self.vkey_path.read_text(encoding="utf-8").strip())

    def pin(self, verifier: Verifier) -> None:
        _private_dir(self.directory)
        atomic_write(self.vkey_path, (verifier.encode() + "\n").encode(), mode=0o644)

    def last_cosigned(self) -> bytes | None:
        if not self.checkpoint_path.exists():
            return None
        return self.checkpoint_path.read_bytes()

    def remember(self, cosigned_note: bytes) -> None:
        _private_dir(self.directory)
        atomic_write(self.checkpoint_path, cosigned_note, mode=0o644)
