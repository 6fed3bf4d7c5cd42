"""Safe, unique, readable file names for letters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import PurePosixPath

from docgen.core.models import Pairing

_FORBIDDEN = re.compile(r'[\\/:*?"<>|]')
_WINDOWS_RESERVED = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}  # fmt: skip
_MAX_COMPONENT = 40


@lru_cache(maxsize=65536)  # names recur: each person is a party to several letters
def sanitize_component(text: str) -> str:
    """One path component: no separators, control/bidi characters, dot-only or reserved names."""
    cleaned = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp") or _FORBIDDEN.match(ch) or ch.isspace():
            cleaned.append("_")
        else:
            cleaned.append(ch)
    result = "".join(cleaned).strip(" ._")
    result = re.sub(r"_+", "_", result)
    if not result or set(result) <= {"."}:
        result = "_"
    if result.split(".")[0].upper() in _WINDOWS_RESERVED:
        result = f"_{result}"
    return result[:_MAX_COMPONENT]


def letter_relpath(pairing: Pairing, doc_id: str) -> str:
    """``<文书名>/<doc_id>_<甲方>_<乙方>.docx`` relative to ``output/<year>/``."""
    folder = sanitize_component(pairing.kind.title)
    stem = "_".join(
        sanitize_component(part)
        for part in (doc_id, pairing.superior.name, pairing.subordinate.name)
    )
    rel = PurePosixPath(folder) / f"{stem}.docx"
    assert ".." not in rel.parts and not rel.is_absolute()
    return str(rel)


def signature_relpath(letter_relpath: str, signer_id: str) -> str:
    return f"{letter_relpath}.{sanitize_component(signer_id)}.p7s"


def proof_relpath(letter_relpath: str) -> str:
    return f"{letter_relpath}.proof.json"
