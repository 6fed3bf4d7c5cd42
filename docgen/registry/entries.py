"""What a registry entry is: its record type, the canonical bytes that are hashed, the Entry.

An entry's leaf hash is taken over its RFC 8785 canonical JSON, so the same record always gives
the same bytes: the store appends them, the audit recomputes them from what is stored, and a
proof bundle carries them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from docgen.core.errors import Location, ValidationError

# Record types and the field that identifies each record (also the indexed doc_id column).
RECORD_TYPES: dict[str, str] = {
    "document": "doc_id",
    "signature": "doc_id",
    "certificate": "cert_fingerprint",
    "revocation": "cert_fingerprint",
    "crl": "sha256",  # every CRL the CA issues, its whole DER included (docgen.signing.crl)
    "void": "doc_id",
    "activity": "activity_id",
    "rendition": "doc_id",  # a letter's PDF/A rendition (docgen.letters.rendition)
    "pdf_signature": "doc_id",  # a PAdES signature of that PDF (docgen.signing.pdf_sign)
    # a person's own PIN replaced the activation code (docgen.signing.activation)
    "key_activated": "person",
    "key_reset": "person",  # a forgotten PIN: new key pending activation (signing.key_reset)
    "handwriting": "person",  # the stamp's handwritten signature image (signing.handwriting)
    "server_certificate": "cert_fingerprint",  # docgen serve's TLS certificate (server_cert)
    "signer_unlock": "person",  # the clerk unlocked a signer after 5 wrong PINs (web.lockout)
}


@dataclass(frozen=True)
class Entry:
    """One registry entry: its index, the exact bytes that were hashed, and their meaning."""

    index: int
    data: bytes
    record: dict[str, Any]
    leaf_hash: bytes


_SAFE_INT = 2**53 - 1


def _plain_json(value: object) -> bool:
    """True when ``value`` uses only the JSON subset on which the standard library's
    sorted, compact ``json.dumps`` output is exactly RFC 8785: strings, safe integers, booleans,
    null, lists and objects whose keys are in the Basic Multilingual Plane (there, sorting by
    code point equals RFC 8785's sorting by UTF-16 code unit). No floats."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:  # type: ignore[operator]
                return False
        elif kind is dict:
            for key, child in item.items():  # type: ignore[attr-defined]
                if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                    return False
                stack.append(child)
        elif kind is list:
            stack.extend(item)  # type: ignore[arg-type]
        else:
            return False
    return True


def canonical_json(value: object) -> bytes:
    """RFC 8785 canonical JSON of ``value``.

    The ``rfc8785`` package is the reference; it is pure Python and costs ~25 µs per record, so
    records in the plain subset (all that docgen writes) take the C ``json`` encoder, which gives
    identical bytes there (checked against ``rfc8785`` by a property test). Anything else — floats,
    non-BMP keys, lone surrogates, subclasses of str — goes to ``rfc8785``.
    """
    if _plain_json(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 report it
    return rfc8785.dumps(value)  # type: ignore[arg-type]


def canonical_entry(record: Mapping[str, Any], *, position: int | None = None) -> bytes:
    """Check a record's type and identifying field, and return its RFC 8785 bytes."""
    row = position + 1 if position is not None else None
    kind = record.get("type")
    if kind not in RECORD_TYPES:
        raise ValidationError(
            f"登记记录的类型“{kind}”未知",
            location=Location(row=row, field="type"),
            hint="type 应为 " + "、".join(RECORD_TYPES),
        )
    key = RECORD_TYPES[str(kind)]
    if not isinstance(record.get(key), str) or not record[key]:
        raise ValidationError(
            f"{kind} 记录缺少“{key}”",
            location=Location(row=row, field=key),
            hint=f"{kind} 记录必须有非空字符串字段 {key}",
        )
    try:
        return canonical_json(dict(record))
    except rfc8785.CanonicalizationError as exc:
        raise ValidationError(
            f"{kind} 记录不能转换为规范 JSON(RFC 8785):{exc}",
            location=Location(row=row),
            hint="字段值只能是字符串、整数(绝对值小于 2^53)、布尔值、null、列表或对象",
        ) from exc
