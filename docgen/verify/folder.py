"""A folder of letters (a year's output, or any directory): which letters it holds — beside
their proof files, or listed by a manifest — listed a window at a time in the order of their
paths, and their verification, in order, by a pool of worker processes. Memory stays flat
whatever the number of letters.
"""

from __future__ import annotations

import errno
import heapq
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from docgen.core.parallel import map_chunks
from docgen.registry import Registry
from docgen.verify.anchors import trust_from_bytes
from docgen.verify.checklist import verify_letter
from docgen.verify.crls import CrlHistory
from docgen.verify.derived import MANIFEST_NAME
from docgen.verify.files import LetterOnDisk, child, plain_relative
from docgen.verify.manifest import scan_manifest
from docgen.verify.model import (
    LETTER_SUFFIX,
    PROOF_SUFFIX,
    SIGNATURE_SUFFIX,
    CheckResult,
    LetterReport,
    TrustAnchors,
)

# Errors for which ``Path.is_file`` answers False instead of raising (pathlib's own list).
_IS_FILE_IGNORED = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _is_file(path: str) -> bool:
    """``Path(path).is_file()`` without building a Path."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno not in _IS_FILE_IGNORED:
            raise
        return False
    except ValueError:
        return False


def _listing(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(c.name for c in folder.iterdir())) if folder.is_dir() else ()


# How many letters of one folder are listed at a time. A year folder holds one sub-folder per
# kind of letter, so one folder can hold most of 10⁵ letters; it is read once per window. At 10⁵
# letters 32 768 reads the folder 3 times instead of 11 (listing 7.8 → 5.0 s of this process's
# time, which the two workers need) for ≈ 20 MiB more at most, whatever the number of letters.
LISTING_WINDOW = 32768

_HAS_DOCX = 1
_HAS_PROOF = 2
_PROOF_TAIL = LETTER_SUFFIX + PROOF_SUFFIX


@dataclass
class _Extra:
    """A letter a manifest lists that was not found beside its proof file."""

    path: str  # str(base / rel), as the letter is named
    parent: Path
    name: str


@dataclass
class _Window:
    """One reading of a folder: the letter names in (lower, upper] and what lies beside them."""

    slots: dict[str, list[Any]]  # name → [flags, what follows it in its signature files' names…]
    upper: str | None  # None: every name above ``lower`` is here
    subdirs: list[str]


def _read_window(
    folder: str, lower: str | None, window: int, extras: Iterable[str], want_subdirs: bool
) -> _Window | None:
    """Read ``folder`` once, keeping the ``window`` (at least) smallest letter names above
    ``lower``; ``None`` when it cannot be listed (``os.walk`` then skips it, and so do we).

    A letter name is a ``.docx`` file name, the name its proof file or one of its signature
    files (``<letter>.docx.<signer>.p7s``: the name ends at the last ".docx.") starts with, or a
    name a manifest lists. Directories only count as sub-folders (not symbolic links, as in
    ``os.walk``). Whenever twice the window is held, the larger half is dropped and later names
    above what is left are skipped: what is kept is then complete.
    """
    slots: dict[str, list[Any]] = {}
    upper: str | None = None
    subdirs: list[str] = []

    def shrink() -> str:
        ordered = sorted(slots)
        for name in ordered[window:]:
            del slots[name]
        return ordered[window - 1]

    for name in extras:
        if (lower is None or name > lower) and (upper is None or name <= upper):
            slots[name] = [0]
            if len(slots) >= 2 * window:
                upper = shrink()
    try:
        listing = os.scandir(folder)
    except OSError:
        return None
    with listing:
        while True:
            try:
                entry = next(listing)
            except StopIteration:
                break
            except OSError:
                return None
            name = entry.name
            if lower is not None and name <= lower and not want_subdirs:
                continue  # its letter name starts it, so is no larger: read already
            key: str | None
            if name.endswith(LETTER_SUFFIX):
                key, flag = name, _HAS_DOCX
            elif name.endswith(_PROOF_TAIL):
                key, flag = name[: -len(PROOF_SUFFIX)], _HAS_PROOF
            elif name.endswith(SIGNATURE_SUFFIX):
                head, sep, _rest = name.rpartition(LETTER_SUFFIX + ".")
                key, flag = (head + LETTER_SUFFIX, 0) if sep else (None, 0)
            else:
                key = None
            wanted = (
                key is not None
                and (lower is None or key > lower)
                and (upper is None or key <= upper)
            )
            if not wanted and not want_subdirs:
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if want_subdirs:
                    try:
                        link = entry.is_symlink()
                    except OSError:
                        link = False
                    if not link:
                        subdirs.append(name)
                continue
            if not wanted:
                continue
            assert key is not None
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = [0]
                if len(slots) >= 2 * window:
                    upper = shrink()
                    if key > upper:
                        continue
            if flag:
                slot[0] |= flag
            else:
                slot.append(name[len(key) :])  # shorter than the whole name
    return _Window(slots, upper, subdirs)


class DirectoryLetters:
    """Every letter under a directory (with a proof file beside it, or listed in a manifest), in
    the order of their paths relative to it — listed as they are reached, never all at once.

    A folder is read ``LISTING_WINDOW`` letters at a time (a year's folder of one kind of letter
    holds most of its 10⁵ letters), so memory does not grow with the number of letters. Iterating
    again lists again; ``len`` lists once to count.
    """

    def __init__(
        self,
        directory: Path,
        shown: str,
        extras: Mapping[str, _Extra],
        *,
        window: int | None = None,
    ) -> None:
        window = LISTING_WINDOW if window is None else window
        if window < 1:
            raise ValueError("window must be positive")
        self._directory = directory
        self._head = shown.rstrip("/")
        self._extras = dict(extras)
        self._window = window
        self._count: int | None = None

    def __iter__(self) -> Iterator[LetterOnDisk]:
        extras = sorted(self._extras.items())
        for _key, letter in self._folder(self._directory, "", extras):
            yield letter

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def _orphan(self, key: str, extra: _Extra) -> LetterOnDisk:
        """A listed letter whose folder is not walked (missing, a link, unreadable)."""
        if extra.parent == self._directory:  # "." listed in Path("."): named "", nothing beside
            return LetterOnDisk(extra.path, f"{self._head}/{key}", ())
        return LetterOnDisk(extra.path, f"{self._head}/{key}", _listing(extra.parent))

    def _folder(
        self, folder: Path, rel: str, extras: list[tuple[str, _Extra]]
    ) -> Iterator[tuple[str, LetterOnDisk]]:
        """The letters under ``folder`` (``rel`` is its path below the directory, "" for the
        directory itself) as (relative path, letter), in order; ``extras`` are the manifest's
        letters under it, sorted."""
        start = len(rel) + 1 if rel else 0
        # "." (a manifest listing the directory itself) is in the folder above, never walked.
        own = {key[start:]: extra for key, extra in extras if "/" not in key[start:] and key != "."}
        folder_str = str(folder)
        first = _read_window(folder_str, None, self._window, own, want_subdirs=True)
        if first is None:
            for key, extra in extras:
                yield key, self._orphan(key, extra)
            return
        subdirs = set(first.subdirs)
        below: dict[str, list[tuple[str, _Extra]]] = {}
        orphans: list[tuple[str, _Extra]] = []
        for key, extra in extras:
            name, slash, _rest = key[start:].partition("/")
            if slash and name in subdirs:
                below.setdefault(name, []).append((key, extra))
            elif slash or key == ".":
                orphans.append((key, extra))
        walked = self._walked(folder, rel, first, own, below)
        del first  # held by the walk only until its next window is read
        yield from heapq.merge(
            walked, ((key, self._orphan(key, extra)) for key, extra in orphans), key=_first
        )

    def _walked(
        self,
        folder: Path,
        rel: str,
        first: _Window,
        own: dict[str, _Extra],
        below: dict[str, list[tuple[str, _Extra]]],
    ) -> Iterator[tuple[str, LetterOnDisk]]:
        """The folder's own letters window by window, each sub-folder's in its place (all of
        ``sub/…`` sorts where ``sub/`` does among the folder's file names)."""
        folder_str = str(folder)
        prefix = f"{rel}/" if rel else ""
        shown = self._head + "/" + prefix
        subdirs = sorted(first.subdirs, key=lambda name: name + "/")
        window: _Window | None = first
        del first
        while window is not None:
            ordered, upper = sorted(window.slots.items()), window.upper
            window = None  # one window held at a time
            shared = {folder_str: folder_str, shown: shown}  # see LetterOnDisk
            for name, slot in ordered:
                while subdirs and subdirs[0] + "/" < name:
                    sub = subdirs.pop(0)
                    yield from self._folder(folder / sub, prefix + sub, below.get(sub, []))
                path = child(folder_str, name)
                if slot[0] != _HAS_DOCX | _HAS_PROOF or not _is_file(path):
                    extra = own.get(name)
                    if extra is None:
                        continue  # no proof beside it, or not a file, and not listed
                    path = extra.path
                yield (
                    prefix + name,
                    LetterOnDisk(
                        path, shown + name, tuple(sorted(name + t for t in slot[1:])), shared
                    ),
                )
            del ordered
            if upper is not None:
                window = _read_window(folder_str, upper, self._window, own, want_subdirs=False)
        for sub in subdirs:
            yield from self._folder(folder / sub, prefix + sub, below.get(sub, []))


def _first(item: tuple[str, LetterOnDisk]) -> str:
    return item[0]


def _manifests_under(directory: Path) -> list[Path]:
    """``sorted(directory.rglob(MANIFEST_NAME))``, without holding a folder's entries (rglob
    keeps every entry of a folder while it walks it: 4·10⁵ for a year of 10⁵ letters)."""
    found: list[Path] = []
    pending = [directory]
    while pending:
        folder = pending.pop()
        candidate = folder / MANIFEST_NAME
        with suppress(PermissionError):  # rglob passes over what it may not look at
            if candidate.exists():
                found.append(candidate)
        with suppress(PermissionError), os.scandir(folder) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir and not entry.is_symlink():
                    pending.append(folder / entry.name)
    return sorted(found)


def _present(path: str) -> bool:
    """True when ``path`` is in its folder's listing and not a directory there (as os.walk
    sorts entries: a link counts as what it points to, a broken link as a file)."""
    try:
        os.lstat(path)
    except OSError:
        return False
    try:
        return not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return True


class _Beside:
    """Whether a letter a manifest lists is one the listing finds beside its proof file (so the
    manifest adds nothing): checked on the file system, so the manifest's 10⁵ paths need not be
    kept to be matched against the listing."""

    def __init__(self, directory: Path) -> None:
        self._directory = os.fspath(directory)
        self._walked: dict[str, bool] = {"": True}

    def _folder_walked(self, rel: str) -> bool:
        """True when ``os.walk`` reaches the folder: every part below the directory is a
        directory and not a symbolic link."""
        known = self._walked.get(rel)
        if known is None:
            parent, _slash, _name = rel.rpartition("/")
            try:
                real = stat.S_ISDIR(os.lstat(os.path.join(self._directory, rel)).st_mode)
            except OSError:
                real = False
            known = self._walked[rel] = real and self._folder_walked(parent)
        return known

    def __call__(self, key: str) -> bool:
        folder, _slash, name = key.rpartition("/")
        if not name.endswith(LETTER_SUFFIX) or not self._folder_walked(folder):
            return False
        path = os.path.join(self._directory, key)
        return _present(path + PROOF_SUFFIX) and _is_file(path)


def letters_in_dir(
    directory: Path, shown: str, *, window: int | None = None
) -> tuple[DirectoryLetters, list[CheckResult]]:
    """Every letter under ``directory`` (with a proof file, or listed in a manifest), and the
    checks of its manifests.

    The manifests are read first, a piece at a time, keeping only the letters they list that
    are not beside a proof file (normally none); the letters are then listed as they are
    iterated (see ``DirectoryLetters``). Nothing is read from the letters yet.
    """
    checks: list[CheckResult] = []
    extras: dict[str, _Extra] = {}
    beside = _Beside(directory)
    for manifest in _manifests_under(directory):
        base = manifest.parent
        base_rel = base.relative_to(directory).as_posix()

        def keep(rel: str, base_rel: str = base_rel) -> bool:
            if not plain_relative(rel):
                return True  # its key needs pathlib: decided below
            return not beside(rel if base_rel == "." else f"{base_rel}/{rel}")

        scan = scan_manifest(manifest, keep)
        if scan is None:
            checks.append(
                CheckResult(
                    "文书清单",
                    False,
                    "清单文件无法读取或不是有效的 JSON",
                    str(manifest.relative_to(directory)),
                )
            )
            continue
        for rel in scan.kept:
            letter = base / rel
            key = letter.relative_to(directory).as_posix()
            if key not in extras and (plain_relative(rel) or not beside(key)):
                extras[key] = _Extra(str(letter), letter.parent, letter.name)
    return DirectoryLetters(directory, shown, extras, window=window), checks


VERIFY_CHUNK = 128  # letters handed to a worker at a time


@dataclass(frozen=True)
class _VerifySetup:
    ca_der: bytes
    crl_der: bytes
    verifier_key: str
    tolerance: timedelta
    crls: CrlHistory | None  # the registered CRLs (None: each proof bundle's)


def _verify_worker(setup: _VerifySetup) -> tuple[TrustAnchors, CrlHistory | None]:
    trust = trust_from_bytes(
        setup.ca_der, setup.crl_der, setup.verifier_key.encode("utf-8"), tolerance=setup.tolerance
    )
    return trust, setup.crls


def _verify_chunk(
    state: tuple[TrustAnchors, CrlHistory | None], letters: Sequence[LetterOnDisk]
) -> list[LetterReport]:
    trust, crls = state
    return [verify_letter(letter.files(), trust, crls=crls) for letter in letters]


def iter_verify_letters(
    letters: Iterable[LetterOnDisk],
    trust: TrustAnchors,
    *,
    online_registry: Registry | None = None,
    jobs: int | None = 1,
    chunk_size: int | None = None,
    advance: Callable[[int], None] = lambda _n: None,
    crls: CrlHistory | None = None,
) -> Iterator[LetterReport]:
    """Verify letters one by one, in order, in ``jobs`` worker processes (None: one per CPU).

    The letters are taken as they are needed (a ``DirectoryLetters`` lists them then) and the
    reports are yielded as they are ready, so a caller that only counts them keeps memory flat.
    Online verification (``online_registry``) runs in this process. ``crls``: the registered
    CRLs signatures are judged by (None: those each proof bundle carries).
    """
    if online_registry is not None or jobs == 1:
        for letter in letters:
            yield verify_letter(
                letter.files(), trust, online_registry=online_registry, crls=crls
            )
            advance(1)
        return
    setup = _VerifySetup(
        trust.ca_cert.public_bytes(serialization.Encoding.DER),
        trust.crl.public_bytes(serialization.Encoding.DER),
        trust.verifier_key,
        trust.tolerance,
        crls,
    )
    size = VERIFY_CHUNK if chunk_size is None else chunk_size
    for chunk in map_chunks(
        _verify_worker, setup, _verify_chunk, letters,
        jobs=jobs, chunk_size=size, advance=advance,
    ):  # fmt: skip
        yield from chunk
