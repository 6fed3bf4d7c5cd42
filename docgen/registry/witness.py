"""C2SP tlog-cosignature/v1 (Ed25519): a witness's signature on a log's checkpoint.

A witness — a second party such as the 市院 or the 县纪委 — signs a checkpoint only after checking
that it extends the last one it signed for that log, so a log operator who shows different
histories to different readers (a fork) or goes back to an older state (a rollback) is caught.

Format (https://c2sp.org/tlog-cosignature):

- key id: ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` (0x04: Ed25519 cosignature/v1);
- verifier key: ``name+<hex key id>+<base64(0x04 || public key)>``;
- signed message: ``"cosignature/v1\\ntime <decimal seconds>\\n"`` followed by the whole
  checkpoint body (the note text, with its final newline, without signature lines);
- signature line: ``— name base64(key id || 8-byte big-endian timestamp || 64-byte signature)``.

Like :mod:`docgen.registry.note`, everything is parsed strictly; a cosignature line is a note
signature, so a cosigned checkpoint is still a valid signed note for the log's own verifier.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from docgen.core.errors import VerificationError
from docgen.registry.note import (
    EM_DASH_PREFIX,
    Note,
    check_key_name,
    key_name_problem,
    parse_note,
)

ALG_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")
_SIGNATURE_BYTES = 8 + 64


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def cosigner_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """``SHA-256(name || "\\n" || 0x04 || public key)[:4]``."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + _raw_public(public_key)
    return hashlib.sha256(material).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, time line, then the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise VerificationError(f"副署时间 {timestamp} 超出范围")
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class Cosigner:
    """A witness's public key (what readers configure to require it)."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    def encode(self) -> str:
        raw = bytes([ALG_COSIGNATURE_V1]) + _raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(raw).decode('ascii')}"

    def verify(self, body: str, timestamp: int, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, cosigned_message(body, timestamp))
        except (InvalidSignature, VerificationError):
            return False
        return True


@dataclass(frozen=True)
class WitnessSigner:
    """A witness's private key."""

    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def create(cls, name: str, private_key: Ed25519PrivateKey) -> WitnessSigner:
        check_key_name(name)
        return cls(name, private_key)

    @property
    def cosigner(self) -> Cosigner:
        public = self.private_key.public_key()
        return Cosigner(self.name, cosigner_key_id(self.name, public), public)

    def signature_line(self, body: str, timestamp: int) -> str:
        """The note signature line of a cosignature of ``body`` at ``timestamp``."""
        signature = self.private_key.sign(cosigned_message(body, timestamp))
        raw = self.cosigner.key_id + timestamp.to_bytes(8, "big") + signature
        return f"{EM_DASH_PREFIX}{self.name} {base64.b64encode(raw).decode('ascii')}\n"


def _bad_vkey(text: str) -> VerificationError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return VerificationError(
        f"见证方公钥格式错误:{shown}",
        hint="应为“名称+8位十六进制密钥编号+base64公钥”(类型 0x04),"
        "请从见证方 docgen registry witness init 打印的公钥原样复制",
    )


def parse_cosigner_key(text: str) -> Cosigner:
    """Parse a witness vkey ``name+keyid+base64(0x04 || key)``; the id must match name and key."""
    text = text.strip()
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise _bad_vkey(text)
    name, hex_id, encoded = parts
    if key_name_problem(name) is not None or not _HEX_KEY_ID.fullmatch(hex_id):
        raise _bad_vkey(text)
    try:
        raw = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, ValueError) as exc:
        raise _bad_vkey(text) from exc
    if base64.b64encode(raw).decode("ascii") != encoded:
        raise _bad_vkey(text)
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise _bad_vkey(text)
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    if cosigner_key_id(name, public) != bytes.fromhex(hex_id):
        raise VerificationError(
            f"见证方公钥的密钥编号 {hex_id} 与名称和公钥不符:{text}",
            hint="公钥串可能被改动过,请重新向见证方索取",
        )
    return Cosigner(name, bytes.fromhex(hex_id), public)


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who, and when the witness says it signed."""

    cosigner: Cosigner
    timestamp: int


class CosignatureMissing(VerificationError):
    """The note carries no signature line with the witness's name and key id."""


def find_cosignature(note: Note, cosigner: Cosigner) -> Cosignature:
    """The witness's valid cosignature on ``note``; raises when it is absent or invalid.

    Lines with the witness's name and key id must all verify: one forged line is a failure, not
    something to skip (a forged cosignature is an attack, not noise)."""
    mine = [s for s in note.signatures if s.name == cosigner.name and s.key_id == cosigner.key_id]
    if not mine:
        raise CosignatureMissing(
            f"检查点没有见证方“{cosigner.name}”(密钥编号 {cosigner.key_id.hex()})的副署",
            hint="请见证方对登记簿的最新检查点运行 docgen registry witness cosign",
        )
    found: Cosignature | None = None
    for sig in mine:
        if len(sig.signature) != _SIGNATURE_BYTES:
            raise VerificationError(
                f"见证方“{cosigner.name}”的副署长度不对({len(sig.signature)} 字节,"
                f"应为 {_SIGNATURE_BYTES})",
                hint="副署行被改动过或不是 cosignature/v1 格式",
            )
        timestamp = int.from_bytes(sig.signature[:8], "big")
        if not cosigner.verify(note.text, timestamp, sig.signature[8:]):
            raise VerificationError(
                f"见证方“{cosigner.name}”的副署无效(副署时间 {timestamp}):"
                "检查点内容、副署时间或签名被改动过,或不是该见证方签的",
                hint="不要采信这个检查点;请向见证方核实",
            )
        if found is None or timestamp > found.timestamp:
            found = Cosignature(cosigner, timestamp)
    assert found is not None
    return found


def cosign_note(note_data: bytes, signer: WitnessSigner, timestamp: int) -> bytes:
    """``note_data`` with the witness's cosignature line added (an older one of the same witness
    on the same body is replaced). The caller has verified the log's signature."""
    note = parse_note(note_data)
    me = signer.cosigner
    lines = [
        f"{EM_DASH_PREFIX}{s.name} {base64.b64encode(s.key_id + s.signature).decode('ascii')}\n"
        for s in note.signatures
        if not (s.name == me.name and s.key_id == me.key_id)
    ]
    lines.append(signer.signature_line(note.text, timestamp))
    return (note.text + "\n" + "".join(lines)).encode("utf-8")


def merge_cosigned(first: bytes, second: bytes) -> bytes:
    """One note with the signature lines of two notes over the same body (each line once)."""
    a, b = parse_note(first), parse_note(second)
    if a.text != b.text:
        raise VerificationError("两个副署检查点的正文不同,不能合并")
    seen: list[str] = []
    for sig in (*a.signatures, *b.signatures):
        line = (
            f"{EM_DASH_PREFIX}{sig.name} "
            f"{base64.b64encode(sig.key_id + sig.signature).decode('ascii')}\n"
        )
        if line not in seen:
            seen.append(line)
    return (a.text + "\n" + "".join(seen)).encode("utf-8")
