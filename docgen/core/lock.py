"""A workspace-wide lock, so two docgen processes never write the same files at once.

The lock is an exclusive ``flock`` on ``<workspace>/.docgen.lock``; the kernel releases it when
the holder exits, however it exits (even ``kill -9``), so a crash never leaves a stale lock.
How long a command waits for a busy workspace is ``wait_seconds``, by default the environment
variable ``DOCGEN_LOCK_WAIT`` (seconds) or 30 seconds.

The lock file also says whether its last holder finished. A holder writes ``held`` into it (flushed
to disk before anything else is written) and ``clean`` when its block ends normally; an exception
or a kill leaves ``held``. Temporary files (``*.tmp``) are left in the output folders only by a
holder that did not end normally, so the next holder that reads ``held`` (or an empty file: a new
workspace, or one last written by a docgen without this state) creates the marker
``.docgen-recover``, and the marker stays until a recovery walk has removed those files
(:func:`recovery_pending`, :func:`recovery_done`, used by ``records.publish.recover``). A clean
run then never walks the year's tens of thousands of files to look for temporary ones.
"""

from __future__ import annotations

import fcntl
import math
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from docgen.core.errors import UsageError, WorkspaceBusyError

LOCK_NAME = ".docgen.lock"
RECOVER_MARKER = ".docgen-recover"  # a holder died: the output folders need a recovery walk
LOCK_WAIT_ENV = "DOCGEN_LOCK_WAIT"
DEFAULT_WAIT_SECONDS = 30.0
_HELD = b"held"
_CLEAN = b"clean"
_STATE_SIZE = 32


def lock_wait_seconds(environ: Mapping[str, str] | None = None) -> float:
    """The wait from ``DOCGEN_LOCK_WAIT`` (a number of seconds, 0 = do not wait), or 30."""
    env = os.environ if environ is None else environ
    text = env.get(LOCK_WAIT_ENV, "").strip()
    if not text:
        return DEFAULT_WAIT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise UsageError(
            f"环境变量 {LOCK_WAIT_ENV} 的值“{text}”不是有效的秒数",
            hint=f"请设为 0 或正数(例如 {LOCK_WAIT_ENV}=60),或取消该变量以使用默认的 30 秒",
        )
    return value


@contextmanager
def workspace_lock(root: Path, *, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``root/.docgen.lock``; wait up to ``wait_seconds``."""
    wait = lock_wait_seconds() if wait_seconds is None else wait_seconds
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WorkspaceBusyError(
                        f"工作目录 {root} 正被另一个 docgen 进程使用(已等待 {wait:g} 秒)",
                        hint="请等它结束后再试;需要等得更久时可设置环境变量"
                        f" {LOCK_WAIT_ENV}(秒)",
                    ) from None
                time.sleep(0.05)
        try:
            _take(root, fd)
            yield
            _write_state(fd, _CLEAN)  # not flushed: lost on a power cut, it only costs a walk
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def recovery_pending(root: Path) -> bool:
    """True if a holder of ``root``'s lock died (or may have) since the last recovery walk."""
    return (root / RECOVER_MARKER).exists()


def recovery_done(root: Path) -> None:
    """Clear the marker once the temporary files a dead holder left have been removed (call
    under the lock). If this removal is lost on a power cut, the next run just walks again."""
    (root / RECOVER_MARKER).unlink(missing_ok=True)


def _take(root: Path, fd: int) -> None:
    """Read the previous holder's state, keep the fact that it died, then mark ours ``held``."""
    previous = os.pread(fd, 64, 0)
    if not previous.startswith(_CLEAN):
        _mark_recovery(root)
    _write_state(fd, _HELD + f" {os.getpid()}".encode())
    os.fdatasync(fd)  # on disk before any temporary file this holder writes


def _write_state(fd: int, state: bytes) -> None:
    """Overwrite the state in place, always 32 bytes: the file's size stays the same, so the
    flush writes one data block and no metadata."""
    os.pwrite(fd, state.rstrip(b"\n").ljust(_STATE_SIZE - 1) + b"\n", 0)


def _mark_recovery(root: Path) -> None:
    """Create ``RECOVER_MARKER`` durably (file and folder flushed): rare, only after a death."""
    marker = root / RECOVER_MARKER
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
