"""The verification QR code and 核验码 printed on every letter, and finding a letter by them.

**Payload** (what the QR code holds)::

    DOCGEN1:<origin>:<doc_id>:<key id>

* ``DOCGEN1`` names this format and its version, so a reader never mistakes another QR code for
  a letter's, and a later format can be told apart;
* ``origin`` is the registry's name (``registry_name`` in docgen.toml, the first line of every
  signed checkpoint);
* ``doc_id`` is the letter's id (``2027-ZR-P001-P002``, ``…-R2`` for a later revision);
* ``key id`` is the 8 hex digits of the registry's verifier key (C2SP signed-note:
  ``SHA-256(origin || "\\n" || 0x01 || public key)[:4]``), as in ``keys/registry/registry.vkey``.

A doc id holds only ``[A-Za-z0-9_-]`` and the key id only hex digits; an origin holds no blank
and no ``+`` but may hold ``:``. So the payload is split from the right, and any origin parses.
It is UTF-8 text in QR byte mode: 8 + origin + 1 + id + 1 + 8 bytes, ≈ 65 for the default ASCII
origin (version 5 at error correction M, 37 × 37 modules) and ≈ 92 for
``某某县人民检察院/党风廉政建设登记簿`` (version 6, 41 × 41). Printed 2 cm wide with its quiet
zone, a module is ≈ 0.4 mm — far above what a phone camera resolves.

**核验码** (typed by a person who has the paper and no scanner): the first 60 bits of
``SHA-256(payload)`` in Crockford's base32, twelve symbols in groups of four (``7K3M-Q9XD-2PWA``).

* Short and fixed in length: the doc id is printed in the footer too, but it is up to 77
  characters, and typing it right proves nothing about which registry it belongs to.
* Bound to the registry: the same doc id in another institution's registry (another origin or
  key) has another code, so a code only ever finds a letter of the registry that made it.
* Typos are caught: Crockford's alphabet has no I, L, O or U (read as 1, 1, 0; U refused), case
  and hyphens do not matter, and a mistyped code is another 60-bit value, which matches one of
  10⁵ letters with probability 10⁵ / 2⁶⁰ ≈ 10⁻¹³.
* Collisions: two letters of one registry share a code with probability n² / 2⁶¹ (≈ 4·10⁻⁹ at
  n = 10⁵); should it happen, the lookup names both and asks for the QR code or doc id.
* It is not a secret: anyone holding the verifier key can compute every letter's code. It finds
  a letter; the letter's signatures and the registry's proof are what verify it.

**Finding a letter by its 核验码.** The code is not stored: the registry's ``document`` ids are
read from its ``doc_id`` column a page at a time and each id's code is computed (one SHA-256 of
≈ 60 bytes, the payload's fixed head hashed once, 60-bit numbers compared). At 10⁵ letters that
is one pass over an indexed column and 10⁵ short hashes, ≈ 0.7 s measured, most of it the query
(see :func:`find_letter`); storing the code in each ``document`` record would have changed the
registered records of every year for a lookup that is this cheap. A scanned payload names its
doc id, which is looked up directly (< 1 ms).

The QR image is a PNG of the symbol made by zxing-cpp (ISO/IEC 18004, the mask chosen by the
standard's penalty rules, in C++). It is handed the payload's UTF-8 bytes, not the text: byte mode
and no ECI, as segno made it before; given text, zxing-cpp puts a run of characters that Shift JIS
also has (一二三…) in Kanji mode, which a reader returns as Shift JIS. The picture's bytes are a
function of the payload alone, so letters stay byte-for-byte reproducible: the library is pinned
to one release (a later one may segment or mask differently, which would change every new
letter's bytes), and the PNG is written here from the symbol's module matrix — one bit a pixel,
:data:`PNG_SCALE` pixels a module, the rows compressed by zlib (:data:`ZLIB_LEVEL`). One picture
costs ≈ 0.6 ms of CPU (segno, pure Python, took ≈ 9–13 ms, most of it evaluating the eight masks:
it made ``generate`` 2.4× the naive loop instead of ≥ 20×; see benchmarks/README.md, seventh
round). ``generate`` still checks a registered letter with the picture it already has
(:func:`docgen.letters.render.qr_picture_of`): a letter registered with an older encoder's picture
keeps it.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import zxingcpp

from docgen.core.errors import UsageError, VerificationError
from docgen.core.workspace import Workspace
from docgen.registry import Registry
from docgen.registry.note import Verifier, parse_verifier_key
from docgen.registry.signing_key import registry_signer

SCHEME = "DOCGEN1"
CODE_BITS = 60
CODE_SYMBOLS = CODE_BITS // 5
CODE_GROUP = 4
ERROR_LEVEL = "M"
# The PNG: one pixel a module would be scaled up with smoothing by word processors; four pixels a
# module stay sharp at 2 cm (≈ 230 dpi), and the quiet zone is the standard's four modules.
PNG_SCALE = 4
PNG_BORDER = 4
ZLIB_LEVEL = 6  # zlib's default: at 9 the picture is no smaller (the rows repeat) and slower

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = re.compile(r"[\s\-\u2010-\u2015\u2212\uff0d]+")  # blanks and dashes of any width
_DOC_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_KEY_HEX = re.compile(r"[0-9a-f]{8}")
_LOOKUP_HINT = "请核对核验码是否抄错;核验码只能在生成该文书的登记簿中查到"


@dataclass(frozen=True)
class RegistryIdentity:
    """What a letter's code names of its registry: its origin and verifier key id."""

    origin: str
    key_id: bytes

    @classmethod
    def of_verifier(cls, verifier: Verifier) -> RegistryIdentity:
        return cls(verifier.name, verifier.key_id)

    @classmethod
    def of_registry(cls, registry: Registry) -> RegistryIdentity:
        return cls.of_verifier(parse_verifier_key(registry.verifier_key))

    @property
    def key_hex(self) -> str:
        return self.key_id.hex()

    def describe(self) -> str:
        return f"“{self.origin}”(密钥编号 {self.key_hex})"


def workspace_identity(ws: Workspace) -> RegistryIdentity:
    """The identity of the workspace's registry, its key created first if there is none yet
    (a letter's code names the key, so the key must exist before any letter is rendered)."""
    return RegistryIdentity.of_verifier(registry_signer(ws).verifier)


def payload_of(identity: RegistryIdentity, doc_id: str) -> str:
    """The QR code's text for letter ``doc_id`` of ``identity``'s registry."""
    return f"{SCHEME}:{identity.origin}:{doc_id}:{identity.key_hex}"


def _code_number(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big") >> (64 - CODE_BITS)


def _code_of_digest(digest: bytes) -> str:
    number = _code_number(digest)
    symbols = "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(CODE_SYMBOLS)))
    return "-".join(symbols[i : i + CODE_GROUP] for i in range(0, CODE_SYMBOLS, CODE_GROUP))


def code_of_payload(payload: str) -> str:
    """The 核验码 of ``payload``: 60 bits of its SHA-256 in Crockford base32, ``XXXX-XXXX-XXXX``."""
    return _code_of_digest(hashlib.sha256(payload.encode("utf-8")).digest())


def letter_code(identity: RegistryIdentity, doc_id: str) -> str:
    """The 核验码 of letter ``doc_id`` of ``identity``'s registry."""
    return code_of_payload(payload_of(identity, doc_id))


def code_context(identity: RegistryIdentity, doc_id: str) -> dict[str, str]:
    """The template variables of a letter's code: ``verify_code`` (the 核验码 printed beside the
    QR code) and ``verify_payload`` (the QR code's text, drawn into the letter's QR picture)."""
    payload = payload_of(identity, doc_id)
    return {"verify_code": code_of_payload(payload), "verify_payload": payload}


def qr_png(payload: str) -> bytes:
    """The QR code of ``payload`` as PNG bytes (error correction M, the same bytes every time)."""
    symbol = zxingcpp.create_barcode(
        payload.encode("utf-8"), zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_LEVEL
    )
    image = symbol.to_image(scale=1, add_quiet_zones=False)
    size = int(image.shape[0])
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]  # the stub omits its buffer
    # one byte a module, row by row: 0 dark, 255 light
    if len(pixels) != size * size:
        raise ValueError(f"unexpected QR image shape {image.shape}")
    return _png_of_modules(pixels, size)


# A 1-bit PNG row holds PNG_SCALE = 4 pixels a module, so one module is one nibble (1 = light)
# and two modules one byte: the modules at even places give the high nibbles, those at odd places
# the low ones (bytes.translate, then one OR of the two rows read as integers).
_HIGH = bytes.maketrans(b"\x00\xff", b"\x00\xf0")
_LOW = bytes.maketrans(b"\x00\xff", b"\x00\x0f")
_LIGHT = 255
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_of_modules(pixels: bytes, size: int) -> bytes:
    """A 1-bit greyscale PNG of a ``size`` × ``size`` module matrix (``pixels``: one byte a
    module, 0 dark, 255 light), with a light quiet zone of :data:`PNG_BORDER` modules around it.
    A row's last byte is padded with light pixels when the width in modules is odd."""
    assert PNG_SCALE == 4  # a module is one nibble of a row (see _HIGH, _LOW)
    if pixels.translate(None, b"\x00\xff"):
        raise ValueError("a QR module matrix holds only 0 (dark) and 255 (light)")
    width = size + 2 * PNG_BORDER  # in modules
    margin = bytes([_LIGHT] * PNG_BORDER)
    pad = bytes([_LIGHT] * (width % 2))
    line_bytes = (width + 1) // 2
    blank = b"\x00" + b"\xff" * line_bytes
    rows = bytearray(blank * (PNG_BORDER * PNG_SCALE))
    for y in range(size):
        modules = margin + pixels[y * size : (y + 1) * size] + margin + pad
        high = int.from_bytes(modules[0::2].translate(_HIGH), "big")
        low = int.from_bytes(modules[1::2].translate(_LOW), "big")
        rows += (b"\x00" + (high | low).to_bytes(line_bytes, "big")) * PNG_SCALE
    rows += blank * (PNG_BORDER * PNG_SCALE)
    side = width * PNG_SCALE
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale, no interlace
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), ZLIB_LEVEL))
        + _png_chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- reading a code


@dataclass(frozen=True)
class ScannedPayload:
    """A payload read back: which registry and which letter it names."""

    identity: RegistryIdentity
    doc_id: str


def parse_payload(text: str) -> ScannedPayload | None:
    """``text`` as a payload, or None when it is not one (strict: exactly the written form)."""
    head, sep, rest = text.partition(":")
    if head != SCHEME or not sep:
        return None
    origin_id, sep, key_hex = rest.rpartition(":")
    if not sep or not _KEY_HEX.fullmatch(key_hex):
        return None
    origin, sep, doc_id = origin_id.rpartition(":")
    if not sep or not origin or not _DOC_ID.fullmatch(doc_id):
        return None
    return ScannedPayload(RegistryIdentity(origin, bytes.fromhex(key_hex)), doc_id)


def normalise_code(text: str) -> str | None:
    """``text`` as a 核验码 in its printed form, or None when it cannot be one.

    Case, blanks and dashes do not matter; O is read as 0, I and L as 1 (Crockford)."""
    symbols = _IGNORED.sub("", text).upper().translate(_READ_AS)
    if len(symbols) != CODE_SYMBOLS or any(ch not in _CROCKFORD for ch in symbols):
        return None
    return "-".join(symbols[i : i + CODE_GROUP] for i in range(0, CODE_SYMBOLS, CODE_GROUP))


@dataclass(frozen=True)
class FoundLetter:
    """The letter a code names: its id, its latest ``document`` record, and how it was found."""

    doc_id: str
    record: dict[str, Any]
    code: str
    by_payload: bool
    void: dict[str, Any] | None = None  # its ``void`` record, if it was voided

    @property
    def year(self) -> int:
        return int(self.record["year"])

    @property
    def path(self) -> str:
        """The letter's path relative to ``output/<year>/``."""
        return str(self.record["path"])

    def describe(self) -> str:
        parties = {p.get("party"): p.get("name", "") for p in self.record.get("parties", [])}
        return (
            f"{self.doc_id}《{self.record.get('title', '')}》"
            f"甲方 {parties.get('superior', '')},乙方 {parties.get('subordinate', '')}"
        )

    def void_note(self) -> str | None:
        """What a holder of the paper must know if the letter was voided, else None."""
        if self.void is None:
            return None
        replaced = self.void.get("replaced_by")
        instead = f",已由 {replaced} 替代" if replaced else ""
        return f"该文书已作废(原因:{self.void.get('reason', '')}){instead},纸面文书不再有效"


def _document_record(registry: Registry, doc_id: str) -> dict[str, Any] | None:
    """The latest ``document`` record of ``doc_id`` (an unsigned letter may be registered again
    under the same id when its content changes)."""
    latest = None
    for entry in registry.entries(type="document", doc_id=doc_id):
        latest = entry
    return None if latest is None else dict(latest.record)


def _void_record(registry: Registry, doc_id: str) -> dict[str, Any] | None:
    for entry in registry.entries(type="void", doc_id=doc_id):
        return dict(entry.record)
    return None


def _document_ids(registry: Registry) -> Iterator[str]:
    """Every id with a ``document`` entry, a page at a time."""
    return registry.first_documents(prefix="")


def ids_with_code(registry: Registry, identity: RegistryIdentity, code: str) -> list[str]:
    """The registered letters whose 核验码 is ``code`` (in its printed form; normally one or
    none): one pass over the registry's document ids, comparing 60-bit numbers."""
    wanted = 0
    for symbol in code.replace("-", ""):
        wanted = (wanted << 5) | _CROCKFORD.index(symbol)
    head = hashlib.sha256(f"{SCHEME}:{identity.origin}:".encode())
    tail = f":{identity.key_hex}".encode()
    found: list[str] = []
    for doc_id in _document_ids(registry):
        digest = head.copy()
        digest.update(doc_id.encode("utf-8") + tail)
        if _code_number(digest.digest()) == wanted:
            found.append(doc_id)
    return found


def find_letter(registry: Registry, text: str) -> FoundLetter:
    """The letter that ``text`` — a scanned payload or a typed 核验码 — names in ``registry``.

    Raises :class:`UsageError` for text that is neither, :class:`VerificationError` for a code of
    another registry, a code no letter has, or (astronomically unlikely) a code two letters share.
    """
    text = text.strip()
    identity = RegistryIdentity.of_registry(registry)
    scanned = parse_payload(text)
    if scanned is not None:
        if scanned.identity != identity:
            raise VerificationError(
                f"二维码属于另一个登记簿 {scanned.identity.describe()},"
                f"本工作目录的登记簿是 {identity.describe()}",
                hint="请在生成该文书的单位的工作目录中核验,或向该单位核实",
            )
        record = _document_record(registry, scanned.doc_id)
        if record is None:
            raise VerificationError(
                f"登记簿中没有二维码所指的文书 {scanned.doc_id}", hint=_LOOKUP_HINT
            )
        void = _void_record(registry, scanned.doc_id)
        return FoundLetter(
            scanned.doc_id, record, letter_code(identity, scanned.doc_id), True, void
        )
    code = normalise_code(text)
    if code is None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise UsageError(
            f"“{shown}”既不是核验码也不是文书二维码的内容",
            hint="核验码是 12 位字母和数字,如 7K3M-Q9XD-2PWA;二维码的内容以 DOCGEN1: 开头",
        )
    doc_id = only_letter(ids_with_code(registry, identity, code), code)
    record = _document_record(registry, doc_id)
    assert record is not None  # the id came from a document entry
    return FoundLetter(doc_id, record, code, False, _void_record(registry, doc_id))


def only_letter(found: list[str], code: str) -> str:
    """The one letter of ``found`` (the ids whose code is ``code``); none or two are refused."""
    if not found:
        raise VerificationError(f"登记簿中没有核验码为 {code} 的文书", hint=_LOOKUP_HINT)
    if len(found) > 1:
        raise VerificationError(
            f"核验码 {code} 同时对应 {len(found)} 份文书:{'、'.join(found)}",
            hint="请扫描文书上的二维码,或按页脚的文书编号核验(docgen verify 文书文件)",
        )
    return found[0]
