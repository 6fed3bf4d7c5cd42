"""C2SP signed notes and tlog checkpoints, with Ed25519 keys.

Formats (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint), as implemented by
``golang.org/x/mod/sumdb/note``:

- key id: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``;
- verifier key: ``name+<hex key id>+<base64(0x01 || public key)>``;
- signer key (Go tooling): ``PRIVATE+KEY+name+<hex key id>+<base64(0x01 || seed)>``;
- note: the text (ending in a newline), a blank line, then lines ``— name base64(key id ||
  signature)``;
- checkpoint text: ``origin``, decimal size, base64 root hash, then optional extension lines.

No maintained Python package implements these formats, so they are written here, strictly:
anything that is not byte-for-byte well formed is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from docgen.core.errors import ValidationError, VerificationError

ALG_ED25519 = 0x01
EM_DASH_PREFIX = "— "
MAX_SIGNATURES = 100
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def key_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a C2SP key name (in Chinese), or None if it can."""
    if not name:
        return "名称不能为空"
    if "+" in name:
        return "名称中不能含有加号“+”"
    for ch in name:
        if ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cs"):
            return f"名称中不能含有空白或控制字符(U+{ord(ch):04X})"
    return None


def check_key_name(name: str) -> None:
    """Raise :class:`ValidationError` unless ``name`` is a valid C2SP key name."""
    problem = key_name_problem(name)
    if problem is not None:
        raise ValidationError(
            f"签名密钥名称“{name}”无效:{problem}",
            hint="请去掉空格和加号,例如“某某县人民检察院/党风廉政建设登记簿”",
        )


def _b64decode_strict(text: str) -> bytes:
    """Standard base64 with padding, nothing else (no whitespace, no alternative alphabet)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id: ``SHA-256(name || "\\n" || 0x01 || public key)[:4]``."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + _raw_public(public_key)
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A named public key that checks note signatures."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def encode(self) -> str:
        """The verifier key string ``name+keyid+base64``."""
        raw = bytes([ALG_ED25519]) + _raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{_b64(raw)}"


@dataclass(frozen=True)
class Signer:
    """A named private key that signs notes."""

    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey

    @classmethod
    def from_private_key(cls, name: str, private_key: Ed25519PrivateKey) -> Signer:
        check_key_name(name)
        return cls(name, key_id(name, private_key.public_key()), private_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.private_key.public_key())


def _bad_key(what: str, text: str) -> VerificationError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return VerificationError(
        f"{what}格式错误:{shown}",
        hint="应为“名称+8位十六进制密钥编号+base64公钥”,请从 keys/registry/registry.vkey 复制",
    )


def parse_verifier_key(text: str) -> Verifier:
    """Parse ``name+keyid+base64(0x01 || key)``; the key id must match the name and key."""
    parts = text.split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3:
        raise _bad_key("验证公钥", text)
    name, hex_id, encoded = parts
    if key_name_problem(name) is not None or not _HEX_KEY_ID.fullmatch(hex_id):
        raise _bad_key("验证公钥", text)
    try:
        raw = _b64decode_strict(encoded)
    except ValueError as exc:
        raise _bad_key("验证公钥", text) from exc
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise _bad_key("验证公钥", text)
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public) != bytes.fromhex(hex_id):
        raise VerificationError(
            f"验证公钥的密钥编号 {hex_id} 与名称和公钥不符:{text}",
            hint="公钥串可能被改动过,请重新取得登记簿的验证公钥",
        )
    return Verifier(name, bytes.fromhex(hex_id), public)


def parse_signer_key(text: str) -> Signer:
    """Parse a Go-style signer key ``PRIVATE+KEY+name+keyid+base64(0x01 || seed)``."""
    parts = text.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise _bad_key("签名私钥", "PRIVATE+KEY+...")
    name, hex_id, encoded = parts[2:]
    if key_name_problem(name) is not None or not _HEX_KEY_ID.fullmatch(hex_id):
        raise _bad_key("签名私钥", "PRIVATE+KEY+...")
    try:
        raw = _b64decode_strict(encoded)
    except ValueError as exc:
        raise _bad_key("签名私钥", "PRIVATE+KEY+...") from exc
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise _bad_key("签名私钥", "PRIVATE+KEY+...")
    private = Ed25519PrivateKey.from_private_bytes(raw[1:])
    signer = Signer(name, key_id(name, private.public_key()), private)
    if signer.key_id != bytes.fromhex(hex_id):
        raise VerificationError("签名私钥的密钥编号与名称和密钥不符")
    return signer


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]


def sign_note(text: str, signer: Signer) -> bytes:
    """A signed note (UTF-8 bytes) over ``text``, which must end with a newline."""
    _check_text(text)
    sig = signer.sign(text.encode("utf-8"))
    line = f"{EM_DASH_PREFIX}{signer.name} {_b64(signer.key_id + sig)}\n"
    return (text + "\n" + line).encode("utf-8")


def _malformed(reason: str) -> VerificationError:
    return VerificationError(
        f"签名检查点(signed note)格式错误:{reason}",
        hint="检查点文件必须原样保存,不能改动任何字符、换行或编码",
    )


def _check_text(text: str) -> None:
    if not text or not text.endswith("\n"):
        raise _malformed("正文必须以换行结尾")
    for ch in text:
        if ch < " " and ch != "\n":
            raise _malformed(f"正文含有控制字符 U+{ord(ch):04X}")


def parse_note(data: bytes) -> Note:
    """Split a signed note into text and signature lines, strictly; verifies nothing."""
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed("不是有效的 UTF-8 文本") from exc
    for ch in message:
        if ch < " " and ch != "\n":
            raise _malformed(f"含有控制字符 U+{ord(ch):04X}")
    split = message.rfind("\n\n")
    if split < 0:
        raise _malformed("正文与签名之间缺少空行")
    text, block = message[: split + 1], message[split + 2 :]
    if not block or not block.endswith("\n"):
        raise _malformed("签名行必须以换行结尾")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed("签名行过多")
    signatures: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(EM_DASH_PREFIX):
            raise _malformed("签名行必须以长破折号“— ”开头")
        fields = line[len(EM_DASH_PREFIX) :].split(" ")
        if len(fields) != 2 or key_name_problem(fields[0]) is not None:
            raise _malformed(f"签名行格式不对:{line}")
        try:
            raw = _b64decode_strict(fields[1])
        except ValueError as exc:
            raise _malformed(f"签名不是有效的 base64:{line}") from exc
        if len(raw) < 5:
            raise _malformed(f"签名过短:{line}")
        signatures.append(NoteSignature(fields[0], raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


def open_note(data: bytes, verifier: Verifier) -> Note:
    """Parse ``data`` and require a valid signature by ``verifier``; others are ignored."""
    note = parse_note(data)
    mine = [s for s in note.signatures if s.name == verifier.name and s.key_id == verifier.key_id]
    if not mine:
        raise VerificationError(
            f"检查点没有“{verifier.name}”(密钥编号 {verifier.key_id.hex()})的签名",
            hint="检查点不是本登记簿签发的,或验证公钥不对",
        )
    message = note.text.encode("utf-8")
    for sig in mine:
        if not verifier.verify(message, sig.signature):
            raise VerificationError(
                f"检查点签名无效(密钥“{verifier.name}”)",
                hint="检查点内容被改动过或不是本登记簿签发的",
            )
    return note


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the log's origin, its size and root hash at that size."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint text strictly (exact lines, decimal size, base64 of a 32-byte hash)."""
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _malformed("检查点正文至少要有来源、大小、根哈希三行")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise _malformed("检查点第一行(来源)为空")
    if not _DECIMAL.fullmatch(size_line):
        raise _malformed(f"检查点第二行应为十进制大小:{size_line!r}")
    try:
        root = _b64decode_strict(root_line)
    except ValueError as exc:
        raise _malformed(f"检查点第三行不是 base64 根哈希:{root_line!r}") from exc
    if len(root) != 32:
        raise _malformed("检查点根哈希长度不是 32 字节")
    if any(not line for line in extensions):
        raise _malformed("检查点扩展行不能为空")
    return Checkpoint(origin, int(size_line), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> bytes:
    return sign_note(checkpoint.text(), signer)


def open_checkpoint(data: bytes, verifier: Verifier) -> Checkpoint:
    """Verify a signed checkpoint; its origin must be the verifier's name."""
    note = open_note(data, verifier)
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != verifier.name:
        raise VerificationError(
            f"检查点来源“{checkpoint.origin}”与登记簿名称“{verifier.name}”不一致",
            hint="这个检查点属于另一个登记簿",
        )
    return checkpoint
