"""Writing many files durably: nothing visible under its final name before its bytes are on disk.

The bulk commands write 10⁵ letters, signatures and proof bundles. Each file is written under a
temporary name beside its final one ("staged"), the staged files are flushed to disk, renamed, and
each directory is flushed once. On Linux the flush is one ``syncfs(2)`` per file system — the
kernel writes back every dirty page and inode of that file system and reports write-back errors
(Linux ≥ 5.8) — instead of one ``fsync`` per file: the disk then commits its journal once per
batch rather than once per file. Elsewhere, or if ``syncfs`` is unavailable, each file is
``fsync``-ed (in threads, so the disk can batch the flushes).
"""

from __future__ import annotations

import ctypes
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SYNC_THREADS = 32


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A file written under a temporary name next to its final ``path``, not yet visible."""

    tmp: str
    path: str


def _load_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    result: Callable[[int], int] = function
    return result


_syncfs = _load_syncfs()


def _fsync_path(path: str, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs_directories(directories: Iterable[str]) -> bool:
    """``syncfs`` the file system of each directory once; False if ``syncfs`` is unavailable."""
    if _syncfs is None:
        return False
    seen: set[int] = set()
    for directory in directories:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            device = os.fstat(fd).st_dev
            if device in seen:
                continue
            seen.add(device)
            if _syncfs(fd) != 0:
                error = ctypes.get_errno()
                raise OSError(error, f"syncfs: {os.strerror(error)}", directory)
        finally:
            os.close(fd)
    return True


def new_token() -> str:
    """A random name part for one run's temporary files (see :func:`staged_for`)."""
    return secrets.token_hex(6)


def staged_for(path: Path | str, token: str) -> StagedFile:
    """The staged file of ``path`` written with ``token``: ``.<name>.<token>.tmp`` beside it.

    Bulk commands pass one token to every worker, so the main process needs to keep only the
    final paths to publish (or discard) the files later.
    """
    path = os.fspath(path)
    directory, name = os.path.split(path)
    return StagedFile(os.path.join(directory, f".{name}.{token}.tmp"), path)


def staged_under(root: Path | str, token: str, paths: Iterable[str]) -> list[StagedFile]:
    """:func:`staged_for` of each path relative to ``root``."""
    base = os.fspath(root)
    return [staged_for(os.path.join(base, path), token) for path in paths]


def _create(tmp: str) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(tmp), exist_ok=True)
        return os.open(tmp, flags, 0o600)


def _temporary(path: str, token: str | None) -> tuple[int, str]:
    """A new temporary file beside ``path``, open for writing: a fresh random name, or the name
    :func:`staged_for` gives for ``token``; the folder is made if missing."""
    if token is not None:
        tmp = staged_for(path, token).tmp
        return _create(tmp), tmp
    directory, name = os.path.split(path)
    try:
        return tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        os.makedirs(directory, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)


def stage_file(
    path: Path | str, data: bytes, *, mode: int = 0o644, token: str | None = None
) -> StagedFile:
    """Write ``data`` to a temporary file beside ``path`` (not flushed, not yet renamed): a
    fresh random name, or the name :func:`staged_for` gives for ``token``."""
    path = os.fspath(path)
    fd, tmp = _temporary(path, token)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
    except BaseException:
        os.unlink(tmp)
        raise
    return StagedFile(tmp, path)


def stage_written(
    path: Path | str, write: Callable[[BinaryIO], None], *, mode: int = 0o644
) -> StagedFile:
    """:func:`stage_file` for content that ``write`` writes to the (seekable) file itself: a
    large file is then never held whole as bytes."""
    path = os.fspath(path)
    fd, tmp = _temporary(path, None)
    try:
        with os.fdopen(fd, "w+b") as handle:
            write(handle)
            os.fchmod(handle.fileno(), mode)
    except BaseException:
        os.unlink(tmp)
        raise
    return StagedFile(tmp, path)


def sync_staged(staged: Sequence[StagedFile]) -> None:
    """Flush staged files to disk (one ``syncfs`` per file system, or an ``fsync`` each)."""
    if not staged:
        return
    directories = dict.fromkeys(os.path.dirname(item.tmp) for item in staged)
    if _syncfs_directories(directories):
        return
    if len(staged) < 2:
        _fsync_path(staged[0].tmp)
        return
    with ThreadPoolExecutor(min(_SYNC_THREADS, len(staged))) as pool:
        for _ in pool.map(_fsync_path, (item.tmp for item in staged)):
            pass


def publish_staged(files: Iterable[StagedFile]) -> None:
    """Rename flushed staged files to their final names, then flush each directory once."""
    directories: dict[str, None] = {}
    for item in files:
        os.replace(item.tmp, item.path)
        directories[os.path.dirname(item.path)] = None
    if _syncfs_directories(directories):
        return
    for directory in directories:
        _fsync_path(directory, directory=True)


def discard_staged(staged: Iterable[StagedFile]) -> None:
    """Remove staged files that will not be published."""
    for item in staged:
        try:
            os.unlink(item.tmp)
        except FileNotFoundError:
            continue


def discard_run(root: Path, token: str) -> None:
    """Remove every temporary file written under ``root`` with ``token`` (a failed bulk run)."""
    for path in root.rglob(f".*.{token}.tmp"):
        path.unlink(missing_ok=True)


def atomic_write_many(
    files: Iterable[tuple[Path | str, bytes]], *, mode: int = 0o644, batch: int = 2000
) -> int:
    """Write many files atomically: per batch, stage every file, flush, rename, flush each
    directory. No file is ever visible under its final name before all its bytes are on disk,
    and a failure leaves no temporary file behind. Returns the number of files written."""
    count = 0
    pending: list[tuple[Path | str, bytes]] = []

    def flush() -> None:
        staged: list[StagedFile] = []
        try:
            for path, data in pending:
                staged.append(stage_file(path, data, mode=mode))
            sync_staged(staged)
        except BaseException:
            discard_staged(staged)
            raise
        publish_staged(staged)
        pending.clear()

    for item in files:
        pending.append(item)
        count += 1
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return count
