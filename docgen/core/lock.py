"""A workspace-wide lock, so two docgen processes never write the same files at once.

The lock is an exclusive ``flock`` on ``<workspace>/.docgen.lock``; the kernel releases it when
the holder exits, however it exits (even ``kill -9``), so a crash never leaves a stale lock.
How long a command waits for a busy workspace is ``wait_seconds``, by default the environment
variable ``DOCGEN_LOCK_WAIT`` (seconds) or 30 seconds.
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
LOCK_WAIT_ENV = "DOCGEN_LOCK_WAIT"
DEFAULT_WAIT_SECONDS = 30.0


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
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
