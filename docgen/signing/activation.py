"""Activation codes: each person sets their own PIN, so the clerk never knows it.

``keys issue`` (by default when no passphrase file or environment variable is given) encrypts a
new key with a random one-time **activation code** instead of a passphrase the clerk types, and
prints one sheet per person. The person then activates the key — at ``docgen keys activate`` or on
the signing page — with the code and a PIN of their own choosing: the key is decrypted with the
code and re-encrypted with the PIN (scrypt PKCS#8, 0600). From then on the code opens nothing, and
the PIN is the key file's passphrase: there is no other password store for signers.

A pending key is marked by ``keys/people/<id>/activation.json`` (no secret in it: the person, the
fingerprint of the certificate it was issued with, and when). While the marker is there the key
cannot sign (:func:`require_active`): whoever holds the code is not yet the person. Activation is
recorded in the registry as a ``key_activated`` entry (person, certificate fingerprint, time).

The code is 20 Crockford base32 characters (100 bits), shown in groups of four; typing it is
forgiving (case, spaces, dashes, O for 0, I or L for 1). Its entropy, not a rate limit, is what
keeps a stolen pending key file from being opened with it.
"""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docgen.core.errors import DocgenError, Location
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.signing import keyring
from docgen.signing.keyfiles import (
    PRIVATE_FILE_MODE,
    PassphraseError,
    check_private_file,
    decrypt_key_file,
    encrypt_private_key,
    load_certificate,
    person_paths,
    write_atomic,
)
from docgen.signing.passphrase import Passphrase
from docgen.signing.x509util import (
    CertificateRefusedError,
    SigningKey,
    fingerprint,
    iso_z,
    same_public_key,
    serial_hex,
    utc_second,
)

MARKER_NAME = "activation.json"
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LENGTH = 20
CODE_GROUP = 4
MIN_PIN_LENGTH = 6
MAX_PIN_LENGTH = 128
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
# PINs anyone would try first, beyond the patterns check_pin finds by itself.
_COMMON_PINS = frozenset(
    {"password", "passw0rd", "qwerty", "qwertyuiop", "asdfgh", "zxcvbn", "abc123", "iloveyou",
     "woaini", "520520", "5201314", "147258", "147258369", "159357", "123qwe", "qwe123",
     "a123456", "123456a", "admin", "admin123", "p@ssw0rd", "1q2w3e", "1q2w3e4r", "000000"}
)  # fmt: skip


class ActivationError(DocgenError):
    """A wrong, used or malformed activation code, or no key waiting for activation."""


class WeakPinError(DocgenError):
    """A PIN too short or too easy to guess."""


@dataclass(frozen=True)
class ActivationSheet:
    """What the clerk prints and hands to one person (the code is the only secret in it)."""

    person_id: str
    name: str
    title: str
    code: str  # grouped, e.g. ``7K3M-Q9XA-...``
    certificate_serial: str
    issued_at: datetime


# ---------------------------------------------------------------------------------------------
# codes and PINs


def new_code() -> str:
    """A fresh activation code: 20 random Crockford base32 characters in groups of four."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def normalize_code(typed: str) -> str:
    """The code as the key was encrypted with: upper case, no separators, typos mapped."""
    text = "".join(ch for ch in typed.upper() if ch not in " -\t").translate(_TYPO)
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        raise ActivationError(
            f"激活码格式不对:应为 {CODE_LENGTH} 位字母和数字(每 {CODE_GROUP} 位一组)",
            hint="请对照激活单重新输入;激活单遗失时请办公室重新签发(docgen keys reset)",
        )
    return text


def code_passphrase(code: str) -> Passphrase:
    """The passphrase a pending key file is encrypted with."""
    return Passphrase(normalize_code(code).encode("ascii"), "激活码")


def _runs(text: str) -> bool:
    """Every character one more (or one less) than the one before: 123456, 654321, abcdef."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _repeated_unit(text: str) -> bool:
    """The same one to three characters over and over: 111111, 121212, 123123."""
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in (1, 2, 3)
    )


def check_pin(pin: Passphrase, *, person_id: str | None = None) -> None:
    """Refuse a PIN that is too short or trivial: at least :data:`MIN_PIN_LENGTH` characters;
    not one character or a short group repeated, not a run like 123456 or 654321, not one of the
    most common passwords, not the person's own id."""
    try:
        text = pin.secret.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WeakPinError("PIN 含有无法识别的字符", hint="请只用字母、数字和符号") from exc
    hint = f"请另设一个至少 {MIN_PIN_LENGTH} 位、不易被猜到的 PIN(可混合字母和数字)"
    if len(text) < MIN_PIN_LENGTH:
        raise WeakPinError(f"PIN 太短:至少需要 {MIN_PIN_LENGTH} 个字符", hint=hint)
    if len(text) > MAX_PIN_LENGTH:
        raise WeakPinError(f"PIN 太长:最多 {MAX_PIN_LENGTH} 个字符", hint=hint)
    folded = text.casefold()
    if _repeated_unit(folded) or _runs(folded):
        raise WeakPinError("PIN 过于简单(重复或连续的字符,如 111111、123456、654321)", hint=hint)
    if folded in _COMMON_PINS:
        raise WeakPinError("PIN 是最常见的密码之一,容易被猜到", hint=hint)
    if person_id and person_id.casefold() in folded:
        raise WeakPinError("PIN 不能包含本人的人员编号", hint=hint)


# ---------------------------------------------------------------------------------------------
# the pending marker


def _marker(ws: Workspace, person_id: str) -> Path:
    return person_paths(ws.keys_dir, person_id).directory / MARKER_NAME


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ActivationError(
            "待激活标记文件已损坏", location=Location(file=str(path)),
            hint="请办公室重新签发(docgen keys reset)",
        ) from exc  # fmt: skip
    return data if isinstance(data, dict) else None


def _pending(keys_dir: Path, person_id: str) -> bool:
    """A marker for the current certificate (one left by a certificate since replaced with
    ``keys rotate`` is stale and ignored)."""
    paths = person_paths(keys_dir, person_id)
    marker = _read_marker(paths.directory / MARKER_NAME)
    if marker is None or not paths.cert.exists():
        return False
    return bool(marker.get("cert_fingerprint") == fingerprint(load_certificate(paths.cert)))


def is_pending(ws: Workspace, person_id: str) -> bool:
    """Whether the person's current key is still encrypted with an activation code."""
    return _pending(ws.keys_dir, person_id)


def require_active(ws_keys_dir: Path, person_id: str, *, doing: str = "签名") -> None:
    """Refuse to sign with (or, ``doing``, otherwise use) a key that still waits for its owner's
    PIN."""
    marker = person_paths(ws_keys_dir, person_id).directory / MARKER_NAME
    if _pending(ws_keys_dir, person_id):
        raise ActivationError(
            f"人员 {person_id} 的密钥尚未激活(仍由激活码加密),不能{doing}",
            location=Location(file=str(marker)),
            hint=f"请本人用激活单上的激活码设置 PIN:docgen keys activate --person {person_id}"
            ",或在签署页面点“首次激活”设置",
        )


def mark_pending(ws: Workspace, person_id: str, cert_fp: str, issued_at: datetime) -> None:
    """Write the pending marker (no secret in it) for the key just encrypted with a code."""
    record = {"person": person_id, "cert_fingerprint": cert_fp, "issued_at": iso_z(issued_at)}
    data = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
    write_atomic(_marker(ws, person_id), data, PRIVATE_FILE_MODE)


def sheet_for(ws: Workspace, person_id: str, code: str, now: datetime) -> ActivationSheet:
    """The sheet of a person whose current key was just encrypted with ``code``."""
    from docgen.roster.load import load_roster

    person = load_roster(ws.roster_path).person(person_id)
    cert = load_certificate(person_paths(ws.keys_dir, person_id).cert)
    return ActivationSheet(
        person_id=person_id,
        name=person.name,
        title=person.title or "",
        code=code,
        certificate_serial=serial_hex(cert),
        issued_at=utc_second(now),
    )


def arm(ws: Workspace, person_id: str, passphrase: Passphrase, *, now: datetime) -> ActivationSheet:
    """Re-encrypt an existing key (opened with ``passphrase``) under a fresh activation code and
    mark it pending: the demo's people, and keys issued with a scripted passphrase, are handed to
    their owners this way. Same key, same certificate; the caller holds the workspace lock."""
    paths = person_paths(ws.keys_dir, person_id)
    check_private_file(paths.key)
    opened = decrypt_key_file(paths.key, paths.key.read_bytes(), passphrase)
    key = _as_signing_key(opened, paths.key)
    code = new_code()
    _rewrite(paths.key, key, code_passphrase(code))
    mark_pending(ws, person_id, fingerprint(load_certificate(paths.cert)), now)
    return sheet_for(ws, person_id, code, now)


# ---------------------------------------------------------------------------------------------
# activation


def _as_signing_key(key: object, path: Path) -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CertificateRefusedError("私钥类型不受支持", location=Location(file=str(path)))
    return key


def _encrypted(path: Path, key: SigningKey, secret: Passphrase) -> bytes:
    """``key`` encrypted under ``secret``, checked to open again to the same key."""
    pem = encrypt_private_key(key, secret)
    again = decrypt_key_file(path, pem, secret)
    if again.public_key() != key.public_key():  # a bug in pkcs8, not bad input
        raise CertificateRefusedError(
            "重新加密后的私钥与原私钥不一致,未写入", location=Location(file=str(path))
        )
    return pem


def _rewrite(path: Path, key: SigningKey, secret: Passphrase) -> None:
    """Encrypt ``key`` under ``secret`` and replace ``path`` (0600)."""
    write_atomic(path, _encrypted(path, key, secret), PRIVATE_FILE_MODE)


def activation_record(person_id: str, cert_fp: str, serial: str, now: datetime) -> dict[str, Any]:
    """The registry's ``key_activated`` record: no secret, only who, which certificate, when."""
    return {
        "type": "key_activated",
        "person": person_id,
        "cert_fingerprint": cert_fp,
        "serial": serial,
        "activated_at": iso_z(now),
    }


def activate(
    ws: Workspace, person_id: str, code: str, pin: Passphrase, *, now: datetime
) -> None:
    """Open the pending key with ``code``, re-encrypt it with the person's own ``pin``, remove
    the pending marker (the code opens nothing any more) and register ``key_activated``.

    Refused, with nothing changed: no key waiting for activation (never issued, or already
    activated: a code works once), a weak PIN, a malformed or wrong code, a key that does not
    match its certificate. Takes the workspace lock.
    """
    check_pin(pin, person_id=person_id)
    typed = code_passphrase(code)
    paths = person_paths(ws.keys_dir, person_id)
    with workspace_lock(ws.root):
        if not is_pending(ws, person_id):
            raise ActivationError(
                f"人员 {person_id} 没有等待激活的密钥(激活码只能使用一次,或尚未签发)",
                location=Location(file=str(paths.directory)),
                hint="已激活的请直接用本人 PIN 登录;忘记 PIN 请办公室重新签发(docgen keys reset)",
            )
        check_private_file(paths.key)
        try:
            opened = decrypt_key_file(paths.key, paths.key.read_bytes(), typed)
        except PassphraseError as exc:
            raise ActivationError(
                "激活码不正确", location=Location(file=str(paths.key)),
                hint="请对照本人的激活单重新输入;激活单遗失时请办公室重新签发(docgen keys reset)",
            ) from exc  # fmt: skip
        key = _as_signing_key(opened, paths.key)
        cert = load_certificate(paths.cert)
        if not same_public_key(key, cert):
            raise CertificateRefusedError(
                "私钥与证书不匹配,不能激活", location=Location(file=str(paths.key)),
                hint=f"请办公室重新签发:docgen keys reset --person {person_id}",
            )  # fmt: skip
        pem = _encrypted(paths.key, key, pin)
        # Registered first: a crash before the key is rewritten leaves the key pending (the
        # person activates again, a second entry says so), never a PIN the registry lacks.
        record = activation_record(person_id, fingerprint(cert), serial_hex(cert), now)
        keyring.register(ws, [record], now)
        write_atomic(paths.key, pem, PRIVATE_FILE_MODE)
        (paths.directory / MARKER_NAME).unlink()


def issue_pending(
    ws: Workspace,
    person_ids: list[str] | None,
    ca_passphrase: Passphrase,
    *,
    now: datetime,
    algorithm: Any = None,
) -> tuple[list[ActivationSheet], list[tuple[str, str]]]:
    """``keys issue`` with activation codes: a key and certificate for each person (``None``:
    everyone without one), each key encrypted with its own fresh code and marked pending; the
    certificates registered. Returns the sheets and the people skipped. The caller holds the
    workspace lock."""
    from docgen.roster.load import load_roster
    from docgen.signing.certificates import issue_certificates
    from docgen.signing.profile import CertificateProfile

    codes: dict[str, str] = {}

    def code_of(person_id: str) -> Passphrase:
        codes.setdefault(person_id, new_code())
        return code_passphrase(codes[person_id])

    result = issue_certificates(
        ws.keys_dir,
        load_roster(ws.roster_path),
        person_ids,
        institution=ws.config.institution,
        ca_passphrase=ca_passphrase,
        passphrase=code_of,
        now=now,
        days=ws.config.certificate_days,
        algorithm=algorithm,
        profile=CertificateProfile.of(ws.config),
    )
    for item in result.issued:
        mark_pending(ws, item.person_id, item.fingerprint, now)
    keyring.register(ws, list(result.records), now)
    sheets = [sheet_for(ws, item.person_id, codes[item.person_id], now) for item in result.issued]
    return sheets, list(result.skipped)

