"""``output/<year>/manifest.json``: the office's view of a year, derived from the registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docgen.naming import proof_relpath, signature_relpath
from docgen.state import YearState
from docgen.workspace import atomic_write

MANIFEST_NAME = "manifest.json"
FORMAT = "docgen-manifest-v1"


def manifest_data(state: YearState, institution: str) -> dict[str, Any]:
    documents = []
    for letter in state.letters.values():
        record = letter.record
        documents.append(
            {
                "doc_id": letter.doc_id,
                "kind": record["kind"],
                "title": record["title"],
                "parties": record["parties"],
                "path": record["path"],
                "sha256": record["sha256"],
                "registry_index": letter.document.index,
                "status": "voided"
                if letter.voided
                else ("complete" if letter.complete else "pending"),
                "signatures": [
                    {
                        "signer": signer,
                        "path": signature_relpath(record["path"], signer),
                        "p7s_sha256": entry.record["p7s_sha256"],
                        "registry_index": entry.index,
                    }
                    for signer, entry in sorted(
                        letter.signatures.items(), key=lambda kv: kv[1].index
                    )
                ],
                "proof": proof_relpath(record["path"]),
                "void": None
                if letter.void is None
                else {
                    "reason": letter.void.record["reason"],
                    "replaced_by": letter.void.record.get("replaced_by"),
                    "registry_index": letter.void.index,
                },
            }
        )
    return {
        "format": FORMAT,
        "institution": institution,
        "year": state.year,
        "documents": documents,
    }


def write_manifest(year_dir: Path, state: YearState, institution: str) -> Path:
    path = year_dir / MANIFEST_NAME
    text = json.dumps(manifest_data(state, institution), ensure_ascii=False, indent=2) + "\n"
    atomic_write(path, text.encode("utf-8"))
    return path


def read_manifest(year_dir: Path) -> dict[str, Any] | None:
    path = year_dir / MANIFEST_NAME
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
