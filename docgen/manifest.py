"""``output/<year>/manifest.json``: the office's view of a year, derived from the registry."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from docgen.jsontext import dumps_indented
from docgen.naming import proof_relpath, signature_relpath
from docgen.state import LetterState, YearState
from docgen.workspace import atomic_write_chunks

MANIFEST_NAME = "manifest.json"
FORMAT = "docgen-manifest-v1"


def letter_status(letter: LetterState) -> str:
    return "voided" if letter.voided else ("complete" if letter.complete else "pending")


def manifest_document(letter: LetterState) -> dict[str, Any]:
    """One letter as ``manifest.json`` lists it."""
    record = letter.record
    signatures = sorted(letter.signatures.items(), key=lambda kv: kv[1].index)
    void = letter.void
    return {
        "doc_id": letter.doc_id,
        "kind": record["kind"],
        "title": record["title"],
        "parties": record["parties"],
        "path": record["path"],
        "sha256": record["sha256"],
        "registry_index": letter.document.index,
        "status": letter_status(letter),
        "signatures": [
            {
                "signer": signer,
                "path": signature_relpath(record["path"], signer),
                "p7s_sha256": entry.record["p7s_sha256"],
                "registry_index": entry.index,
            }
            for signer, entry in signatures
        ],
        "proof": proof_relpath(record["path"]),
        "void": None
        if void is None
        else {
            "reason": void.record["reason"],
            "replaced_by": void.record.get("replaced_by"),
            "registry_index": void.index,
        },
    }


def manifest_data(state: YearState, institution: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "institution": institution,
        "year": state.year,
        "documents": [manifest_document(letter) for letter in state.letters.values()],
    }


def document_text(document: dict[str, Any]) -> str:
    """One document as it appears in ``manifest.json`` (indented to its place in the list)."""
    return "    " + dumps_indented(document, indent=2, newline="\n    ")


def write_manifest(year_dir: Path, state: YearState, institution: str) -> Path:
    return write_manifest_text(
        year_dir,
        institution,
        state.year,
        (document_text(manifest_document(letter)) for letter in state.letters.values()),
    )


def write_manifest_text(
    year_dir: Path, institution: str, year: int, documents: Iterable[str]
) -> Path:
    """Write ``manifest.json`` atomically, streamed from the documents' texts (in order).

    The bytes are those of ``json.dumps(manifest_data(...), ensure_ascii=False, indent=2)``
    and a newline, but a year of 10⁵ letters is never one string in memory.
    """
    path = year_dir / MANIFEST_NAME
    atomic_write_chunks(
        path, (text.encode("utf-8") for text in _text(institution, year, documents))
    )
    return path


def _text(institution: str, year: int, documents: Iterable[str]) -> Iterator[str]:
    head = json.dumps(
        {"format": FORMAT, "institution": institution, "year": year}, ensure_ascii=False, indent=2
    )
    yield head[: -len("\n}")] + ',\n  "documents": '
    separator = "[\n"
    for document in documents:
        yield separator
        yield document
        separator = ",\n"
    yield "[]\n}\n" if separator == "[\n" else "\n  ]\n}\n"


def read_manifest(year_dir: Path) -> dict[str, Any] | None:
    path = year_dir / MANIFEST_NAME
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
