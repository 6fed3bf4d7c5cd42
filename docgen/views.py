"""Rebuild a year's derived views — each letter's proof bundle and ``manifest.json`` — from the
registry, after a command has appended to it.

Bulk commands do this for 10⁵ letters, so the work is shared out: the letters are cut into
chunks, and worker processes each open the registry (read only: the workspace is locked and
nothing is appended meanwhile, so every worker sees the same checkpoint), read the chunk's
entries, build and write its proof bundles, and send back its part of the manifest. This process
writes ``manifest.json`` from the parts, in registry order. The bytes do not depend on the number
of workers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.durable import atomic_write_many
from docgen.manifest import document_entry, document_text, letter_status, write_manifest_text
from docgen.naming import proof_relpath
from docgen.parallel import map_chunks
from docgen.progress import ProgressFactory, no_progress
from docgen.proofs import letter_proof_bytes
from docgen.registry import Registry, open_registry
from docgen.state import LetterState, read_year_state
from docgen.workspace import Workspace

CHUNK = 500  # letters per chunk of work


@dataclass(frozen=True, slots=True)
class _Letter:
    """What a worker needs to know of one letter; the rest it reads from the registry."""

    doc_id: str
    document: int
    signatures: tuple[tuple[str, int], ...]  # (signer, index), in index order
    void: int | None
    status: str
    rewrite: bool  # write the proof bundle even if the file exists


@dataclass(frozen=True)
class _Setup:
    workspace: Workspace
    year_dir: Path


@dataclass(frozen=True)
class _Worker:
    registry: Registry
    year_dir: Path


def _letter(letter: LetterState, rewrite: bool) -> _Letter:
    signatures = sorted(letter.signatures.items(), key=lambda kv: kv[1].index)
    return _Letter(
        doc_id=letter.doc_id,
        document=letter.document.index,
        signatures=tuple((signer, entry.index) for signer, entry in signatures),
        void=None if letter.void is None else letter.void.index,
        status=letter_status(letter),
        rewrite=rewrite,
    )


def _open_worker(setup: _Setup) -> _Worker:
    # Lives as long as the worker process; the operating system closes it at exit.
    return _Worker(open_registry(setup.workspace), setup.year_dir)


def _refresh_chunk(worker: _Worker, letters: Sequence[_Letter]) -> list[str]:
    """Write the chunk's missing or outdated proof bundles; return its manifest texts."""
    registry = worker.registry
    datas = registry.entry_bytes(
        i
        for letter in letters
        for i in (letter.document, *(index for _, index in letter.signatures))
        + (() if letter.void is None else (letter.void,))
    )

    def record(index: int) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(datas[index])
        return value

    texts: list[str] = []
    proofs: list[tuple[_Letter, str, list[int]]] = []
    for letter in letters:
        document = record(letter.document)
        void = None if letter.void is None else (letter.void, record(letter.void))
        entry = document_entry(
            letter.doc_id,
            (letter.document, document),
            letter.status,
            [(signer, index, record(index)) for signer, index in letter.signatures],
            void,
        )
        texts.append(document_text(entry))
        proof_path = worker.year_dir / proof_relpath(document["path"])
        if letter.rewrite or not os.path.exists(proof_path):
            indices = sorted(
                (letter.document, *(index for _, index in letter.signatures))
                + (() if letter.void is None else (letter.void,))
            )
            proofs.append((letter, str(proof_path), indices))
    if proofs:
        bundles = iter(registry.proof_bundles([i for _, _, group in proofs for i in group]))
        files = [
            (
                path,
                letter_proof_bytes(
                    letter.doc_id, registry.verifier_key, [next(bundles) for _ in group]
                ),
            )
            for letter, path, group in proofs
        ]
        atomic_write_many(files, batch=len(files))
    return texts


def _advancing(parts: Iterable[list[str]], advance: Callable[[int], None]) -> Iterator[list[str]]:
    for part in parts:
        yield part
        advance(len(part))


def refresh_year(
    ws: Workspace,
    registry: Registry,
    year: int,
    *,
    rewrite: Collection[str] | None,
    jobs: int | None = None,
    chunk_size: int = CHUNK,
    progress: ProgressFactory = no_progress,
) -> Path:
    """Rewrite the proof bundles of the letters in ``rewrite`` (``None``: every letter) and of
    any letter whose bundle is missing, and ``manifest.json``; return the manifest's path.

    ``registry`` must be this workspace's, opened by the caller, who holds the workspace lock.
    """
    year_dir = ws.year_dir(year)
    state = read_year_state(registry, year)
    letters = [
        _letter(letter, rewrite is None or letter.doc_id in rewrite)
        for letter in state.letters.values()
    ]
    del state
    with progress(len(letters), "证明文件与清单") as advance:
        parts: Iterable[list[str]]
        if (jobs is not None and jobs <= 1) or len(letters) <= chunk_size:
            worker = _Worker(registry, year_dir)
            parts = (
                _refresh_chunk(worker, letters[start : start + chunk_size])
                for start in range(0, len(letters), chunk_size)
            )
        else:
            parts = map_chunks(
                _open_worker,
                _Setup(ws, year_dir),
                _refresh_chunk,
                letters,
                jobs=jobs,
                chunk_size=chunk_size,
            )
        return write_manifest_text(
            year_dir,
            ws.config.institution,
            year,
            (text for part in _advancing(parts, advance) for text in part),
        )
