"""The workspace lock remembers whether its last holder ended normally (core.lock), and the
recovery walk for stale temporary files runs only when it did not (records.publish.recover).

Real flocks, real files, a real killed process; the end-to-end cases through the CLI (a killed
``sign``, a killed lock holder of another kind) are in tests/test_crash.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from docgen.core.lock import (
    LOCK_NAME,
    RECOVER_MARKER,
    recovery_done,
    recovery_pending,
    workspace_lock,
)
from docgen.records.publish import JOURNAL_NAME, recover

KILLED_HOLDER = r"""
import os, signal, sys
from pathlib import Path
from docgen.core.lock import workspace_lock
with workspace_lock(Path(sys.argv[1])):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _hold(root: Path) -> bool:
    """Take and release the lock cleanly; True if the taker found a recovery pending."""
    with workspace_lock(root, wait_seconds=5):
        return recovery_pending(root)


def test_a_new_lock_file_counts_as_unknown_then_clean_releases_need_no_walk(
    tmp_path: Path,
) -> None:
    """An empty lock file (new workspace, or last written by a docgen without this state) may
    hide a dead writer: the first holder gets a walk. After it, clean releases mean none."""
    (tmp_path / LOCK_NAME).touch()
    assert _hold(tmp_path)
    recovery_done(tmp_path)
    assert (tmp_path / LOCK_NAME).read_bytes().startswith(b"clean")
    assert not _hold(tmp_path)
    assert not _hold(tmp_path)
    assert len((tmp_path / LOCK_NAME).read_bytes()) == 32  # overwritten in place


def test_the_marker_stays_until_a_recovery_walk_ran(tmp_path: Path) -> None:
    """A holder that learns of a death but does not recover (void, status …) keeps the fact."""
    (tmp_path / LOCK_NAME).write_bytes(b"held 12345".ljust(31) + b"\n")
    assert _hold(tmp_path)
    assert _hold(tmp_path)  # released cleanly, yet the walk has not run
    recovery_done(tmp_path)
    assert not _hold(tmp_path)


def test_a_holder_ending_in_an_exception_makes_the_next_one_walk(tmp_path: Path) -> None:
    _hold(tmp_path)
    recovery_done(tmp_path)

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted), workspace_lock(tmp_path, wait_seconds=5):
        raise Interrupted
    assert (tmp_path / LOCK_NAME).read_bytes().startswith(b"held ")
    assert _hold(tmp_path)


def test_a_killed_holder_makes_the_next_one_walk(tmp_path: Path) -> None:
    _hold(tmp_path)
    recovery_done(tmp_path)
    holder = subprocess.run([sys.executable, "-c", KILLED_HOLDER, str(tmp_path)], timeout=60)
    assert holder.returncode == -signal.SIGKILL
    assert not (tmp_path / RECOVER_MARKER).exists()  # the dead one could not say so …
    assert _hold(tmp_path)  # … the next holder knows from the lock file
    assert (tmp_path / RECOVER_MARKER).exists()


def _stale(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"half")
    return path


def test_recover_walks_only_when_pending_and_spares_a_year_with_a_journal(
    tmp_path: Path,
) -> None:
    """Pending: every year folder is cleaned, except one whose publish journal names staged
    files (they may be registered; that year's own recovery decides). Not pending: a file of our
    pattern is left alone. Without a lock root (old callers) the year is always walked."""
    output = tmp_path / "output"
    year_dir = output / "2027"
    mine = _stale(year_dir / "部门", ".letter.docx.0123456789ab.tmp")
    other = _stale(output / "2026", ".manifest.json.ab12cd34.tmp")
    journaled_year = output / "2025"
    staged = _stale(journaled_year, ".letter.docx.P001.p7s.fedcba987654.tmp")
    (journaled_year / JOURNAL_NAME).write_text(
        json.dumps([{"tmp": staged.name, "path": "letter.docx.P001.p7s", "doc_id": "D"}])
    )
    not_ours = _stale(year_dir, "notes.tmp")

    _hold(tmp_path)
    recovery_done(tmp_path)
    with workspace_lock(tmp_path, wait_seconds=5):
        # registry: not read without a journal in year_dir
        assert recover(year_dir, registry=None, root=tmp_path).stale == 0  # type: ignore[arg-type]
    assert mine.exists() and other.exists()

    (tmp_path / LOCK_NAME).write_bytes(b"held 1".ljust(31) + b"\n")
    with workspace_lock(tmp_path, wait_seconds=5):
        found = recover(year_dir, registry=None, root=tmp_path)  # type: ignore[arg-type]
    assert found.stale == 2
    assert found.messages() == ["已清理上次中断留下的 2 个临时文件"]
    assert not mine.exists() and not other.exists()
    assert staged.exists() and not_ours.exists()
    assert not recovery_pending(tmp_path)

    again = _stale(year_dir, ".proof.json.zz81ab0q.tmp")
    assert recover(year_dir, registry=None).stale == 1  # type: ignore[arg-type]
    assert not again.exists()
