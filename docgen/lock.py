"""A workspace-wide lock, so two docgen processes never write the same files at once."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from docgen.errors import WorkspaceBusyError

LOCK_NAME = ".docgen.lock"


@contextmanager
def workspace_lock(root: Path, *, wait_seconds: float = 30.0) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``root/.docgen.lock``; wait up to ``wait_seconds``."""
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WorkspaceBusyError(
                        f"工作目录 {root} 正被另一个 docgen 进程使用",
                        hint="请等待它结束后再试",
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
