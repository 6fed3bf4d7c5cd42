"""Files that a registry entry vouches for appear under their final names only after it commits.

A signer killed between publishing a ``.p7s`` and registering it used to leave a signature on disk
that no entry names, and verify failed the letter until the signer ran again; a generate killed
mid-run left thousands of temporary files that nothing removed. So:

1. the files are staged (``.<name>.<token>.tmp``) and flushed;
2. a journal (``.docgen-publish.json`` in the year folder) names them, with their letters;
3. the registry append commits;
4. the staged files are renamed into place and the journal removed.

The next command that takes the workspace lock finishes whatever a killed one left: a staged file
whose hash a registered entry of its letter names is published (the entry committed: step 4 was
cut short); one that no entry names is removed (the append never committed). Then every other
temporary file of docgen's own patterns under the year folders is removed: under the workspace
lock no other docgen process is writing there.

That walk reads every file of the year (≈ 50k at 10⁴ letters, 40 % of one signature through the
page), and temporary files are left only by a writer that died. Every writer of the output
folders holds the workspace lock, and the lock knows whether its last holder ended normally
(``core.lock``: ``held`` in the lock file, then the marker ``.docgen-recover``). So the walk runs
only while that marker is set (or a journal is there), over every year folder of the output
folder, and then clears it; a clean run does not walk. A file of our pattern found under a clean
state was not left by a dead holder (a run without the lock may be writing it right now), so it
is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docgen.core.durable import (
    StagedFile,
    discard_staged,
    publish_staged,
    stage_file,
    sync_staged,
)
from docgen.core.lock import recovery_done, recovery_pending
from docgen.core.workspace import atomic_write
from docgen.registry import Registry

JOURNAL_NAME = ".docgen-publish.json"

# durable.staged_for: ``.<name>.<12 hex>.tmp``; tempfile.mkstemp (atomic_write, stage_file
# without a token): ``.<name>.<8 of [a-z0-9_]>.tmp``.
_OUR_TMP = re.compile(r"\..+\.(?:[0-9a-f]{12}|[a-z0-9_]{8})\.tmp")


@dataclass(frozen=True)
class Recovery:
    """What the start of a command found left by a killed one."""

    published: tuple[str, ...] = ()  # registered files put in place (relative paths)
    discarded: tuple[str, ...] = ()  # staged files no entry names, removed
    stale: int = 0  # other temporary files removed

    def messages(self) -> list[str]:
        """Chinese lines for the user, one per kind of repair."""
        lines = []
        if self.published:
            lines.append(
                f"上次运行在登记之后、文件就位之前中断:已补齐 {len(self.published)} 个已登记的文件"
            )
        if self.discarded:
            lines.append(
                f"上次运行在登记之前中断:已删除 {len(self.discarded)} 个未登记的签名文件"
                "(相应文书仍待签署,请重新签名)"
            )
        if self.stale:
            lines.append(f"已清理上次中断留下的 {self.stale} 个临时文件")
        return lines


def commit_then_publish(
    year_dir: Path,
    staged: Sequence[tuple[StagedFile, str]],
    commit: Callable[[], None],
) -> None:
    """Flush ``staged`` files (each with the doc_id of its letter), journal them, run ``commit``
    (the registry append), then publish them. A failed commit removes them."""
    if not staged:
        commit()
        return
    files = [item for item, _doc in staged]
    try:
        sync_staged(files)
        journal = [
            {
                "tmp": os.path.relpath(item.tmp, year_dir),
                "path": os.path.relpath(item.path, year_dir),
                "doc_id": doc_id,
            }
            for item, doc_id in staged
        ]
        atomic_write(year_dir / JOURNAL_NAME, json.dumps(journal).encode(), mode=0o644)
        commit()
    except BaseException:
        discard_staged(files)
        (year_dir / JOURNAL_NAME).unlink(missing_ok=True)
        raise
    publish_staged(files)
    (year_dir / JOURNAL_NAME).unlink(missing_ok=True)


def stage_vouched(
    writes: Sequence[tuple[Path, bytes]], records: Sequence[dict[str, object]]
) -> list[tuple[StagedFile, str]]:
    """Stage each file of ``writes`` under a fresh temporary name, with the doc_id of the record
    that names its hash (for :func:`commit_then_publish`)."""
    owner: dict[str, str] = {}
    for record in records:
        for value in record.values():
            if isinstance(value, str) and len(value) == 64:
                owner.setdefault(value.lower(), str(record.get("doc_id", "")))
    staged: list[tuple[StagedFile, str]] = []
    try:
        for path, data in writes:
            doc_id = owner.get(hashlib.sha256(data).hexdigest(), "")
            staged.append((stage_file(path, data), doc_id))
    except BaseException:
        discard_staged(item for item, _doc in staged)
        raise
    return staged


def _registered_hashes(registry: Registry, doc_id: str) -> set[str]:
    """Every 64-hex value in the entries of ``doc_id``: the hashes its entries vouch for."""
    found: set[str] = set()
    for entry in registry.entries(doc_id=doc_id):
        for value in entry.record.values():
            if isinstance(value, str) and len(value) == 64:
                found.add(value.lower())
    return found


def recover(year_dir: Path, registry: Registry, *, root: Path | None = None) -> Recovery:
    """Finish or undo what a killed command left in ``year_dir`` (call under the workspace lock
    of ``root``, before anything else is written there).

    Stale temporary files are looked for only if the lock says a holder died since the last
    walk, or a journal is left; then in every year folder beside ``year_dir``. Without
    ``root`` (no lock state to ask) ``year_dir`` is always walked.
    """
    pending = root is not None and recovery_pending(root)
    published: list[str] = []
    discarded: list[str] = []
    journal_path = year_dir / JOURNAL_NAME
    if journal_path.exists():
        items = json.loads(journal_path.read_bytes())
        hashes: dict[str, set[str]] = {}
        ready: list[StagedFile] = []
        for item in items:
            tmp = year_dir / str(item["tmp"])
            if not tmp.exists():
                continue  # published before the kill
            doc_id = str(item["doc_id"])
            if doc_id not in hashes:
                hashes[doc_id] = _registered_hashes(registry, doc_id)
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
            if digest in hashes[doc_id]:
                ready.append(StagedFile(str(tmp), str(year_dir / str(item["path"]))))
                published.append(str(item["path"]))
            else:
                tmp.unlink()
                discarded.append(str(item["path"]))
        publish_staged(ready)
        journal_path.unlink()
        pending = True
    stale = 0
    if root is None:
        stale = remove_stale_tmp(year_dir)
    elif pending:
        # Another year's folder with a journal keeps its staged files: they may be registered,
        # and only its own recovery (the journal makes it walk) can tell.
        others = [f for f in _year_folders(year_dir.parent) if not (f / JOURNAL_NAME).exists()]
        stale = sum(remove_stale_tmp(folder) for folder in sorted({year_dir, *others}))
        recovery_done(root)
    return Recovery(tuple(published), tuple(discarded), stale)


def _year_folders(output_dir: Path) -> list[Path]:
    """The year folders (``output/<YYYY>``) under ``output_dir``: where docgen writes letters."""
    if not output_dir.is_dir():
        return []
    return sorted(
        entry
        for entry in output_dir.iterdir()
        if entry.is_dir() and entry.name.isdigit() and len(entry.name) == 4
    )


def remove_stale_tmp(root: Path) -> int:
    """Remove docgen's temporary files under ``root`` (by their name pattern only)."""
    removed = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".tmp") and _OUR_TMP.fullmatch(name):
                try:
                    os.unlink(os.path.join(directory, name))
                except FileNotFoundError:
                    continue
                removed += 1
    return removed
