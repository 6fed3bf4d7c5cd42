"""The letter a 核验码 or QR code names, for ``docgen verify --code`` and the 纪检组's 核验 page.

Whoever holds a printed letter types the 核验码 beside its QR code, or passes the text a scanner
read from the QR code; the workspace's registry says which letter that is
(:func:`docgen.records.letter_code.find_letter`). Both the command line and the signing page
(``docgen serve``) call :func:`letter_for_code`, so they find the same letter, refuse the same
codes and say the same thing about it: its id, title and parties first — a code only finds a
letter, so the paper must be compared with what was found — then the registered file, which is
verified exactly as ``docgen verify <file>`` does. :func:`letter_record` adds, for the page, the
registry's record of the letter (signatures with their recording times, the void) and its proof.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.core.errors import UsageError
from docgen.core.workspace import Workspace
from docgen.records.letter_code import FoundLetter, find_letter
from docgen.records.proofs import letter_proof
from docgen.records.state import letters_state
from docgen.registry import open_registry
from docgen.registry.store import DATABASE_URL_ENV


@dataclass(frozen=True)
class CodeLookup:
    """What a code found: the letter, its registered file, and the lines that say which it is."""

    found: FoundLetter
    path: Path
    lines: tuple[str, ...]


@dataclass(frozen=True)
class SignatureRecord:
    signer: str  # person id
    name: str  # as the letter's document record names the party
    index: int  # the signature's entry in the registry
    recorded_at: str  # when the registry recorded it (the entry's own time)
    record: dict[str, Any]


@dataclass(frozen=True)
class LetterRecord:
    """The registry's record of a found letter: its entries and its proof bundle."""

    lookup: CodeLookup
    document_index: int
    signatures: tuple[SignatureRecord, ...]
    missing: tuple[str, ...]
    proof: dict[str, Any]


def _require_registry(ws: Workspace) -> None:
    if not os.environ.get(DATABASE_URL_ENV) and not ws.registry_path.exists():
        raise UsageError(
            "工作目录中还没有登记簿,无法按核验码查找文书",
            hint="请在生成这些文书的工作目录中运行,或用 --workspace 指定该目录",
        )


def _describe(ws: Workspace, found: FoundLetter) -> CodeLookup:
    path = ws.year_dir(found.year) / found.path
    how = "二维码" if found.by_payload else "核验码"
    void = found.void_note()
    lines = (
        f"{how}对应的文书:{found.describe()},核验码 {found.code}",
        f"文件:{path}",
        *(() if void is None else (f"注意:{void}",)),
        "请核对纸面文书页脚的编号和核验码与上面一致、标题和双方姓名相符(核验码只用于查找文书)",
    )
    return CodeLookup(found, path, lines)


def letter_for_code(ws: Workspace, text: str) -> CodeLookup:
    """The letter ``text`` (a typed 核验码 or a scanned QR payload) names in the workspace's
    registry; never creates a registry."""
    _require_registry(ws)
    with open_registry(ws) as registry:
        found = find_letter(registry, text)
    return _describe(ws, found)


def letter_record(ws: Workspace, text: str) -> LetterRecord:
    """:func:`letter_for_code` and the registry's record of that letter with its proof bundle
    (the same bundle ``docgen`` writes beside the letter as ``.proof.json``)."""
    _require_registry(ws)
    with open_registry(ws) as registry, registry.snapshot():
        found = find_letter(registry, text)
        letter = letters_state(registry, [found.doc_id], found.year).letters[found.doc_id]
        proof = letter_proof(registry, letter)
    names = {p.get("id"): str(p.get("name", "")) for p in letter.record.get("parties", [])}
    signatures = tuple(
        SignatureRecord(
            signer,
            names.get(signer, signer),
            ref.index,
            str(ref.record.get("recorded_at", "")),
            ref.record,
        )
        for signer, ref in sorted(letter.signatures.items(), key=lambda item: item[1].index)
    )
    return LetterRecord(
        lookup=_describe(ws, found),
        document_index=letter.document.index,
        signatures=signatures,
        missing=tuple(letter.missing_signers()),
        proof=proof,
    )
