"""Rebuild a year's derived views — each letter's proof bundle and ``manifest.json`` — from the
registry, after a command has appended to it.

Bulk commands do this for 10⁵ letters, so the work is shared out. This process reads the year's
letter ids page by page from the registry's indexed ``doc_id`` column (nothing parsed, nothing
kept), in the order of their first ``document`` entry, cuts them into chunks, and worker processes
each open the registry (read only: the workspace is locked and nothing is appended meanwhile, so
every worker sees the same checkpoint), read the chunk's entries, work out each letter's state
exactly as :mod:`docgen.records.state` does, write its proof bundles and send back its part of the
manifest. This process streams ``manifest.json`` from the parts, in that order. The bytes depend
neither on the number of workers nor on the chunk size, and this process holds neither the year's
entries nor its list of letters: its memory does not grow with the year.

Which letters belong to the year is read from their ids
(:func:`docgen.records.state.year_letter_ids`);
the workers then keep, of those, the letters whose ``document`` entry is of that year.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from docgen.core.durable import atomic_write_many
from docgen.core.parallel import chunks_of, map_chunks
from docgen.core.progress import ProgressFactory, no_progress
from docgen.core.workspace import Workspace
from docgen.records.manifest import (
    MANIFEST_NAME,
    document_text,
    manifest_document,
    splice_manifest,
    spliceable_manifest,
    write_manifest_text,
)
from docgen.records.naming import proof_relpath
from docgen.records.proofs import crl_indices, letter_proof_bytes, proof_indices
from docgen.records.state import count_year_letters, letters_state, year_letter_ids
from docgen.registry import Registry, open_registry

CHUNK = 500  # letters per chunk of work

# (doc_id, rewrite its proof bundle even if the file exists)
_Letter = tuple[str, bool]


@dataclass(frozen=True)
class _Setup:
    workspace: Workspace
    year: int
    appended_from: int | None


@dataclass(frozen=True)
class _Worker:
    registry: Registry
    year: int
    year_dir: Path
    appended_from: int | None  # letters with an entry at or after this index are rewritten


def _open_worker(setup: _Setup) -> _Worker:
    # Lives as long as the worker process; the operating system closes it at exit.
    registry = open_registry(setup.workspace)
    return _Worker(
        registry, setup.year, setup.workspace.year_dir(setup.year), setup.appended_from
    )


def _refresh_chunk(worker: _Worker, letters: Sequence[_Letter]) -> list[str]:
    """Write the chunk's missing or outdated proof bundles; return its manifest texts."""
    return [text for _doc_id, text in _refresh_letters(worker, letters)]


def _refresh_letters(worker: _Worker, letters: Sequence[_Letter]) -> list[tuple[str, str]]:
    """:func:`_refresh_chunk`, with each text's letter id."""
    registry = worker.registry
    state = letters_state(registry, [doc_id for doc_id, _ in letters], worker.year)
    rewrite = {doc_id for doc_id, again in letters if again}
    since = worker.appended_from
    texts: list[tuple[str, str]] = []
    proofs: list[tuple[str, str, list[int]]] = []
    crls: list[int] | None = None  # read when a bundle is to be written
    for letter in state.letters.values():
        texts.append((letter.doc_id, document_text(manifest_document(letter))))
        path = str(worker.year_dir / proof_relpath(letter.record["path"]))
        last = max(entry.index for entry in letter.entries())
        if (
            letter.doc_id in rewrite
            or (since is not None and last >= since)
            or not os.path.exists(path)
        ):
            if crls is None:
                crls = crl_indices(registry)
            proofs.append((letter.doc_id, path, proof_indices(letter, crls)))
    if proofs:
        bundles = iter(registry.proof_bundles([i for _, _, group in proofs for i in group]))
        key = registry.verifier_key
        files = [
            (path, letter_proof_bytes(doc_id, key, [next(bundles) for _ in group]))
            for doc_id, path, group in proofs
        ]
        atomic_write_many(files, batch=len(files))
    return texts


def refresh_year(
    ws: Workspace,
    registry: Registry,
    year: int,
    *,
    rewrite: Collection[str] | None,
    appended_from: int | None = None,
    jobs: int | None = None,
    chunk_size: int = CHUNK,
    progress: ProgressFactory = no_progress,
    splice: bool = False,
) -> Path:
    """Rewrite the proof bundles of the letters in ``rewrite`` (``None``: every letter), of the
    letters with an entry at or after index ``appended_from``, and of any letter whose bundle is
    missing, then ``manifest.json``; return the manifest's path.

    ``splice``: for a command that touched a few letters (one person signing, one letter
    voided), only the letters with entries since the manifest was last built are read, their
    proof bundles rewritten and their texts put in place in the manifest (:func:`_splice`); the
    rest of the year is neither read nor checked. Whenever that cannot be done exactly, the year
    is rebuilt whole as without it.

    ``registry`` must be this workspace's, opened by the caller, who holds the workspace lock.
    """
    if splice and rewrite is not None:
        spliced = _splice(ws, registry, year, rewrite)
        if spliced is not None:
            return spliced
    size = registry.size()  # the texts below reflect at least this much of the registry
    total = count_year_letters(registry, year)
    letters: Iterator[_Letter] = (
        (doc_id, rewrite is None or doc_id in rewrite)
        for doc_id in year_letter_ids(registry, year)
    )
    with progress(total, "证明文件与清单") as advance:
        if (jobs is not None and jobs <= 1) or total <= chunk_size:
            worker = _Worker(registry, year, ws.year_dir(year), appended_from)
            parts = _in_this_process(worker, letters, chunk_size, advance)
        else:
            parts = map_chunks(
                _open_worker, _Setup(ws, year, appended_from), _refresh_chunk, letters,
                jobs=jobs, chunk_size=chunk_size, advance=advance,
            )  # fmt: skip
        return write_manifest_text(
            ws.year_dir(year),
            ws.config.institution,
            year,
            (text for part in parts for text in part),
            registry_size=size,
        )


SPLICE_LIMIT = 5_000  # letters changed since the manifest was built; beyond, rebuild it whole


def _splice(
    ws: Workspace, registry: Registry, year: int, rewrite: Collection[str]
) -> Path | None:
    """Bring the year's views up to date by reading only the letters with entries since
    ``manifest.json`` was built; ``None`` when that is not possible exactly (the manifest is
    missing, changed by hand, laid out otherwise, or too much has changed)."""
    year_dir = ws.year_dir(year)
    built_from = spliceable_manifest(year_dir)
    if built_from is None:
        return None
    size = registry.size()
    touched = registry.documents_touched_since(built_from, prefix=f"{year}-")
    if len(touched) > SPLICE_LIMIT:
        return None
    worker = _Worker(registry, year, year_dir, built_from)
    changed: dict[str, str] = {}
    for chunk in chunks_of([(d, d in rewrite) for d in touched], CHUNK):
        changed.update(_refresh_letters(worker, chunk))
    done = splice_manifest(
        year_dir,
        ws.config.institution,
        year,
        changed,
        registry_size=size,
        total=count_year_letters(registry, year),
    )
    return year_dir / MANIFEST_NAME if done else None


def _in_this_process(
    worker: _Worker, letters: Iterable[_Letter], chunk_size: int, advance: Callable[[int], None]
) -> Iterator[list[str]]:
    for chunk in chunks_of(letters, chunk_size):
        yield _refresh_chunk(worker, chunk)
        advance(len(chunk))
