"""Per-letter proof bundles (``<file>.docx.proof.json``): all a letter needs offline."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from json.encoder import encode_basestring as _encode_string
from pathlib import Path
from typing import Any

from docgen.naming import proof_relpath
from docgen.registry import Registry
from docgen.state import LetterState
from docgen.workspace import atomic_write, atomic_write_many

FORMAT = "docgen-letter-proof-v1"
_LETTERS_PER_BATCH = 500


def _letter_proof(
    registry: Registry, letter: LetterState, bundles: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "doc_id": letter.doc_id,
        "verifier_key": registry.verifier_key,
        "checkpoint": bundles[0]["checkpoint"] if bundles else registry.checkpoint().decode(),
        "entries": bundles,
    }


def letter_proof(registry: Registry, letter: LetterState) -> dict[str, Any]:
    bundles = registry.proof_bundles([entry.index for entry in letter.entries()])
    return _letter_proof(registry, letter, bundles)


def letter_proofs(
    registry: Registry, letters: Iterable[LetterState]
) -> Iterator[tuple[LetterState, dict[str, Any]]]:
    """Proof bundles for many letters; the registry is asked once per batch of letters."""
    remaining = iter(letters)
    while batch := list(islice(remaining, _LETTERS_PER_BATCH)):
        indices = [[entry.index for entry in letter.entries()] for letter in batch]
        bundles = iter(registry.proof_bundles([i for group in indices for i in group]))
        for letter, group in zip(batch, indices, strict=True):
            yield letter, _letter_proof(registry, letter, list(islice(bundles, len(group))))


def proof_bytes(data: dict[str, Any]) -> bytes:
    """``json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)`` plus a newline, as UTF-8.

    The standard encoder falls back to pure Python whenever ``indent`` is set; this one writes
    the same text for the JSON types a bundle holds (escaping strings with the C helper, and
    escaping each distinct string once: the checkpoint and key recur in every entry) and hands
    anything else to :func:`json.dumps`.
    """
    parts: list[str] = []
    _encode(data, "\n", parts, {})
    parts.append("\n")
    return "".join(parts).encode("utf-8")


def _encode(value: object, newline: str, parts: list[str], strings: dict[str, str]) -> None:
    if isinstance(value, str):
        text = strings.get(value)
        if text is None:
            text = strings[value] = _encode_string(value)
        parts.append(text)
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif value is None:
        parts.append("null")
    elif type(value) is int:
        parts.append(int.__repr__(value))
    elif isinstance(value, dict) and all(isinstance(key, str) for key in value):
        if not value:
            parts.append("{}")
            return
        inner = newline + " "
        separator = "{" + inner
        for key in sorted(value):
            parts.append(separator)
            _encode(key, inner, parts, strings)
            parts.append(": ")
            _encode(value[key], inner, parts, strings)
            separator = "," + inner
        parts.append(newline + "}")
    elif isinstance(value, list):
        if not value:
            parts.append("[]")
            return
        inner = newline + " "
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _encode(item, inner, parts, strings)
            separator = "," + inner
        parts.append(newline + "]")
    else:
        text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
        parts.append(text.replace("\n", newline))


def write_letter_proofs(
    registry: Registry,
    year_dir: Path,
    letters: Iterable[LetterState],
    advance: Callable[[int], None] = lambda _n: None,
) -> int:
    def files() -> Iterator[tuple[Path, bytes]]:
        for letter, data in letter_proofs(registry, letters):
            yield year_dir / proof_relpath(letter.record["path"]), proof_bytes(data)
            advance(1)

    return atomic_write_many(files())


# --- crash recovery -------------------------------------------------------------------------
#
# Proof bundles are derived from the registry after it commits. A process killed between the
# commit and the rewrite of the bundles would leave bundles that omit the new entries, and no
# later run would notice (the letters look unchanged). So every command that appends letter
# entries first drops a marker in the year folder and removes it only once the bundles and the
# manifest are rewritten; any later command that finds the marker rebuilds them all.

PENDING_NAME = ".proofs-pending"


def mark_pending(year_dir: Path) -> None:
    """Say, durably, that the registry may be ahead of the proof bundles of this year."""
    atomic_write(year_dir / PENDING_NAME, b"registry appended; proof bundles being rewritten\n")


def clear_pending(year_dir: Path) -> None:
    (year_dir / PENDING_NAME).unlink(missing_ok=True)


def is_pending(year_dir: Path) -> bool:
    return (year_dir / PENDING_NAME).exists()
