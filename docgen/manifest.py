"""``output/<year>/manifest.json``: the office's view of a year, derived from the registry."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docgen.naming import proof_relpath, signature_relpath
from docgen.state import LetterState, YearState

MANIFEST_NAME = "manifest.json"
FORMAT = "docgen-manifest-v1"


def _document(letter: LetterState) -> dict[str, Any]:
    record = letter.record
    void = None if letter.void is None else letter.void.record
    return {
        "doc_id": letter.doc_id,
        "kind": record["kind"],
        "title": record["title"],
        "parties": record["parties"],
        "path": record["path"],
        "sha256": record["sha256"],
        "registry_index": letter.document.index,
        "status": "voided" if letter.voided else ("complete" if letter.complete else "pending"),
        "signatures": [
            {
                "signer": signer,
                "path": signature_relpath(record["path"], signer),
                "p7s_sha256": entry.record["p7s_sha256"],
                "registry_index": entry.index,
            }
            for signer, entry in sorted(letter.signatures.items(), key=lambda kv: kv[1].index)
        ],
        "proof": proof_relpath(record["path"]),
        "void": None
        if letter.void is None or void is None
        else {
            "reason": void["reason"],
            "replaced_by": void.get("replaced_by"),
            "registry_index": letter.void.index,
        },
    }


def manifest_data(state: YearState, institution: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "institution": institution,
        "year": state.year,
        "documents": [_document(letter) for letter in state.letters.values()],
    }


def _chunks(state: YearState, institution: str) -> Iterator[str]:
    """The text of :func:`manifest_data` as ``json.dumps(..., indent=2)`` writes it, in pieces.

    One document at a time, so that a year of 10⁵ letters is never one string in memory.
    """
    head = {"format": FORMAT, "institution": institution, "year": state.year}
    text = json.dumps(head, ensure_ascii=False, indent=2)
    yield text[: -len("\n}")] + ',\n  "documents": '
    if not state.letters:
        yield "[]\n}\n"
        return
    yield "["
    separator = "\n"
    for letter in state.letters.values():
        body = json.dumps(_document(letter), ensure_ascii=False, indent=2)
        yield separator + "    " + body.replace("\n", "\n    ")
        separator = ",\n"
    yield "\n  ]\n}\n"


def write_manifest(year_dir: Path, state: YearState, institution: str) -> Path:
    """Write ``manifest.json`` atomically, streamed document by document to a temporary file."""
    path = year_dir / MANIFEST_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for chunk in _chunks(state, institution):
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def read_manifest(year_dir: Path) -> dict[str, Any] | None:
    path = year_dir / MANIFEST_NAME
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
