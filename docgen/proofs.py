"""Per-letter proof bundles (``<file>.docx.proof.json``): all a letter needs offline."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docgen.naming import proof_relpath
from docgen.registry import Registry
from docgen.state import LetterState
from docgen.workspace import atomic_write

FORMAT = "docgen-letter-proof-v1"


def letter_proof(registry: Registry, letter: LetterState) -> dict[str, Any]:
    bundles = [registry.proof_bundle(entry.index) for entry in letter.entries()]
    return {
        "format": FORMAT,
        "doc_id": letter.doc_id,
        "verifier_key": registry.verifier_key,
        "checkpoint": bundles[0]["checkpoint"] if bundles else registry.checkpoint().decode(),
        "entries": bundles,
    }


def write_letter_proofs(registry: Registry, year_dir: Path, letters: Iterable[LetterState]) -> int:
    count = 0
    for letter in letters:
        data = letter_proof(registry, letter)
        path = year_dir / proof_relpath(letter.record["path"])
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        atomic_write(path, text.encode("utf-8"))
        count += 1
    return count
