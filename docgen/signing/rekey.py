"""Re-encrypting a private key under a new passphrase and the current KDF (``docgen keys passwd``),
and telling which key files still use an older, weaker one (``docgen keys check``).

Re-encryption changes nothing but the key file's encryption: the same key, so the same
certificate, fingerprint and registry entries. The new file is decrypted once more in memory,
and compared with the key, before it atomically replaces the old one (mode 0600); a wrong old
passphrase, a key that does not match its certificate or a too short new passphrase leave every
file as it was. A key that may be known to someone else is not helped by a new passphrase: that
is what ``docgen keys rotate`` (a new key and certificate) and ``keys revoke`` are for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from docgen.core import pkcs8
from docgen.core.errors import Location, UsageError
from docgen.core.models import Roster
from docgen.registry import signing_key as registry_key
from docgen.signing.activation import require_active
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.keyfiles import (
    CERT_NAME,
    KEY_NAME,
    PEOPLE_DIR,
    PRIVATE_FILE_MODE,
    ca_paths,
    decrypt_key_file,
    encrypt_private_key,
    key_protection,
    load_certificate,
    load_private_key,
    person_paths,
    write_atomic,
)
from docgen.signing.passphrase import Passphrase, require_new_strength
from docgen.signing.x509util import CertificateRefusedError, SigningKey, same_public_key


@dataclass(frozen=True)
class Rekeyed:
    """A key file re-encrypted: where, and its protection before and after."""

    path: Path
    before: pkcs8.Protection
    after: pkcs8.Protection


def _rewrite(path: Path, key: SigningKey, new: Passphrase, *, what: str) -> Rekeyed:
    require_new_strength(new, what=what)
    before = key_protection(path)
    pem = encrypt_private_key(key, new)
    again = decrypt_key_file(path, pem, new)
    if again.public_key() != key.public_key():  # a bug in pkcs8, not bad input
        raise CertificateRefusedError(
            "重新加密后的私钥与原私钥不一致,未写入", location=Location(file=str(path))
        )
    write_atomic(path, pem, PRIVATE_FILE_MODE)
    return Rekeyed(path, before, pkcs8.inspect_pem(pem))


def change_person_passphrase(
    keys_dir: Path, person_id: str, *, old: Passphrase, new: Passphrase
) -> Rekeyed:
    """Re-encrypt a person's key with ``new`` and the current KDF; ``old`` must open it."""
    paths = person_paths(keys_dir, person_id)
    if not paths.key.exists():
        raise UsageError(
            f"人员 {person_id} 没有私钥",
            location=Location(file=str(paths.key)),
            hint=f"请用 docgen keys list 核对编号,或先运行 docgen keys issue --person {person_id}",
        )
    # A pending key is activated (PIN checked, code killed, registered), not re-encrypted here.
    require_active(keys_dir, person_id, doing="更换口令")
    require_new_strength(new)
    key = load_private_key(paths.key, old)
    if paths.cert.exists() and not same_public_key(key, load_certificate(paths.cert)):
        raise CertificateRefusedError(
            "私钥与在用证书不匹配,不重新加密",
            location=Location(file=str(paths.key)),
            hint=f"请重新生成密钥和证书:docgen keys rotate --person {person_id}",
        )
    return _rewrite(paths.key, key, new, what="私钥口令")


def change_ca_passphrase(keys_dir: Path, *, old: Passphrase, new: Passphrase) -> Rekeyed:
    """Re-encrypt the CA key with ``new`` and the current KDF; ``old`` must open it."""
    require_new_strength(new, what="根证书口令")
    key = load_ca_key(keys_dir, old, load_ca_certificate(keys_dir))
    return _rewrite(ca_paths(keys_dir).key, key, new, what="根证书口令")


# ---------------------------------------------------------------------------------------------
# which keys still use the old KDF


@dataclass(frozen=True)
class KeyCheck:
    """One private key file and how it is protected."""

    kind: Literal["ca", "person", "registry"]
    label: str  # shown to the user: "根证书私钥", "P001 张明远", "登记簿签名私钥"
    path: Path
    protection: pkcs8.Protection
    fix: str | None  # what brings it up to the current KDF; None when it is current

    @property
    def current(self) -> bool:
        return self.fix is None


def _fix(protection: pkcs8.Protection, passwd: str, otherwise: str) -> str | None:
    """``passwd`` for an encrypted key below the standard, ``otherwise`` for one that passwd
    cannot open (not encrypted, or not in a form docgen reads)."""
    if protection.is_current():
        return None
    if protection.kind in (pkcs8.KdfKind.SCRYPT, pkcs8.KdfKind.PBKDF2):
        return f"请运行 {passwd}"
    return otherwise


def check_keys(keys_dir: Path, roster: Roster | None = None) -> list[KeyCheck]:
    """Every private key file under ``keys_dir`` — CA, people (by id), registry — with what
    protects it and, when that is not the current KDF, what to do about it (Chinese)."""
    names = {p.id: p.name for p in roster.people} if roster is not None else {}
    found: list[KeyCheck] = []
    ca_key = ca_paths(keys_dir).key
    if ca_key.exists():
        protection = key_protection(ca_key)
        fix = _fix(protection, "docgen keys passwd --ca", f"请从备份恢复加密的 {ca_key}")
        found.append(KeyCheck("ca", "根证书私钥", ca_key, protection, fix))
    people = keys_dir / PEOPLE_DIR
    directories = sorted(people.iterdir()) if people.is_dir() else []
    for directory in directories:
        key = directory / KEY_NAME
        if not key.is_file():
            continue
        pid = directory.name
        label = f"{pid} {names[pid]}" if pid in names else pid
        if not (directory / CERT_NAME).exists():
            label += "(无在用证书)"
        protection = key_protection(key)
        fix = _fix(
            protection,
            f"docgen keys passwd --person {pid}",
            f"请运行 docgen keys rotate --person {pid} 换一把加密的新私钥",
        )
        found.append(KeyCheck("person", label, key, protection, fix))
    registry_dir = keys_dir / "registry"
    protection_or_none = registry_key.registry_key_protection(registry_dir)
    if protection_or_none is not None:
        fix = None
        if not protection_or_none.is_current():
            fix = (
                "请运行 docgen keys passwd --registry"
                f"(之后打开登记簿需要环境变量 {registry_key.PASSPHRASE_ENV})"
            )
        found.append(
            KeyCheck(
                "registry",
                "登记簿签名私钥",
                registry_dir / registry_key.KEY_NAME,
                protection_or_none,
                fix,
            )
        )
    return found
