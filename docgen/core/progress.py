"""How the bulk stages report progress: a factory of ``advance(n)`` callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

ProgressFactory = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def no_progress(_total: int, _label: str) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None
