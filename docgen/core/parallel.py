"""Worker pools for the bulk stages (generate, bulk signing, verify).

One pattern serves all of them: the work is a sequence of items cut into chunks; each worker
process runs a ``setup`` once (compile the templates, load the trust anchors) and then a ``work``
function on one chunk at a time. Results come back **in the order of the items**, whatever the
number of workers, so a run with ``jobs=1`` and one with ``jobs=8`` produce the same files and the
same registry entries. Only a bounded number of chunks is in flight, so memory does not grow with
the number of items.

With ``jobs=1``, or when everything fits in one chunk, the same functions run in this process:
starting worker processes costs about a second, more than a county's 60 letters take.

Workers are started with ``spawn``: a forked copy of a process that runs a progress-bar thread or
holds a database connection is not safe.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

A = TypeVar("A")  # what setup needs (picklable)
S = TypeVar("S")  # the per-process state setup returns
T = TypeVar("T")  # one item of work (picklable)
R = TypeVar("R")  # one result (picklable)

DEFAULT_CHUNK = 256
_IN_FLIGHT_PER_WORKER = 3

# The state of this worker process, set once by the pool's initializer. A process-wide slot is
# the only way ProcessPoolExecutor lets an initializer hand state to later tasks.
_worker_state: dict[str, Any] = {}


def default_jobs() -> int:
    """The number of worker processes to use when none is given: one per CPU."""
    return os.cpu_count() or 1


def _initialise(setup: Callable[[Any], Any], argument: Any) -> None:
    _exit_with_parent()
    _worker_state["state"] = setup(argument)


def _exit_with_parent() -> None:
    """End this worker as soon as the process that started it is gone.

    A worker blocks on the pool's queue, whose pipe it holds itself, so it would wait forever
    if the main process were killed (``kill -9``, a power-off of the terminal): orphans that
    keep the files and the terminal's output open.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="docgen-parent-watch", daemon=True).start()


def _run_chunk(work: Callable[[Any, Sequence[Any]], list[Any]], chunk: Sequence[Any]) -> list[Any]:
    return work(_worker_state["state"], chunk)


def chunks_of(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter), taken as they are needed."""
    if size < 1:
        raise ValueError("chunk size must be positive")
    remaining = iter(items)
    while chunk := list(itertools.islice(remaining, size)):
        yield chunk


def map_chunks(
    setup: Callable[[A], S],
    argument: A,
    work: Callable[[S, Sequence[T]], list[R]],
    items: Iterable[T],
    *,
    jobs: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    advance: Callable[[int], None] = lambda _n: None,
) -> Generator[list[R], None, None]:
    """Run ``work`` over ``items`` chunk by chunk; yield each chunk's results in item order.

    ``setup`` and ``work`` must be module-level functions (they are sent to workers by name);
    ``argument``, the items and the results must be picklable. ``advance`` is called with the
    size of each finished chunk, in order. ``items`` is read as chunks are handed out, so it may
    be a generator: only the chunks in flight are held.
    """
    chunks = chunks_of(items, chunk_size)
    jobs = default_jobs() if jobs is None else jobs
    ahead = list(itertools.islice(chunks, jobs if jobs > 1 else 1))
    if not ahead:
        return
    chunks = itertools.chain(ahead, chunks)
    if jobs <= 1 or len(ahead) <= 1:
        state = setup(argument)
        for chunk in chunks:
            results = work(state, chunk)
            advance(len(chunk))
            yield results
        return
    workers = len(ahead)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_initialise, initargs=(setup, argument)
    ) as pool:
        pending: deque[tuple[int, Future[list[R]]]] = deque()
        try:
            while True:
                room = workers * _IN_FLIGHT_PER_WORKER - len(pending)
                for chunk in itertools.islice(chunks, room):
                    pending.append((len(chunk), pool.submit(_run_chunk, work, chunk)))
                if not pending:
                    break
                size, future = pending.popleft()
                results = future.result()
                advance(size)
                yield results
        except BaseException:
            for _, future in pending:
                future.cancel()
            raise
