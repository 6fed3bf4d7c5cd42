"""The letters a ``manifest.json`` lists: parsed whole (an archive's, within its size limit), or
read a piece at a time (a year's, ≈ 1.4 KiB per letter), keeping only the paths asked for and
accepting exactly what the whole parse accepts. Also whether a folder is an extracted archive.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.verify.derived import ARCHIVE_FORMAT, MANIFEST_NAME
from docgen.verify.files import safe_relative
from docgen.verify.model import MAX_YEAR_MANIFEST_BYTES


def manifest_paths(data: object) -> list[str]:
    """The letters a parsed manifest lists, as their safe relative paths (none when it is not
    a manifest)."""
    if not isinstance(data, dict):
        return []
    documents = data.get("documents")
    if not isinstance(documents, list):
        return []
    paths = []
    for doc in documents:
        path = doc.get("path") if isinstance(doc, dict) else None
        if isinstance(path, str) and safe_relative(path):
            paths.append(path)
    return paths


class _Unreadable(Exception):
    """A manifest that cannot be read, is too large, or is not one JSON text."""


_JSON_SPACE = " \t\n\r"
_JSON_DECODER = json.JSONDecoder()
_JSON_PIECE = 1 << 20


class _JsonPieces:
    """One JSON text read from a file a piece at a time, parsed as ``json.loads`` would parse it.

    A year's manifest lists every letter (≈ 1.4 KiB each): parsed whole, 10⁴ letters cost
    ≈ 100 MiB. Here only the top-level object and the ``documents`` array are walked; every other
    value (one document, a name, a number) is parsed whole by the standard decoder, so what is
    accepted and what is refused is exactly what ``json.loads(data.decode("utf-8"))`` accepts.
    """

    def __init__(self, handle: Any, limit: int) -> None:
        self._handle = handle
        self._limit = limit
        self._read = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._text = ""
        self._pos = 0
        self._eof = False

    def _more(self) -> bool:
        """Append the next piece of the file to the text; False at its end."""
        if self._eof:
            return False
        want = max(_JSON_PIECE, len(self._text) - self._pos)  # a long value: read it in O(n)
        try:
            data = self._handle.read(want)
        except OSError as exc:
            raise _Unreadable from exc
        self._read += len(data)
        if self._read > self._limit:
            raise _Unreadable
        text = self._decoder.decode(data, final=not data)  # UnicodeDecodeError: not UTF-8
        self._eof = not data
        self._text = self._text[self._pos :] + text
        self._pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the text)."""
        while True:
            text, pos = self._text, self._pos
            while pos < len(text) and text[pos] in _JSON_SPACE:
                pos += 1
            self._pos = pos
            if pos < len(text):
                return text[pos]
            if not self._more():
                return ""

    def take(self, expected: str) -> str:
        """The next character (after white space), which must be one of ``expected``."""
        char = self.peek()
        if not char or char not in expected:
            raise _Unreadable
        self._pos += 1
        return char

    def key(self) -> str:
        if self.peek() != '"':
            raise _Unreadable
        key = self.value()
        assert isinstance(key, str)
        return key

    def value(self) -> object:
        """One whole JSON value (the text must go on for a few characters after it, or end:
        a number cut at the end of a piece would otherwise be read short)."""
        self.peek()
        while True:
            try:
                value, end = _JSON_DECODER.raw_decode(self._text, self._pos)
            except ValueError:
                if self._more():
                    continue
                raise
            if len(self._text) - end < 3 and self._more():
                continue
            self._pos = end
            return value


@dataclass
class _ManifestScan:
    fmt: object = None  # the top-level "format"
    kept: list[str] = field(default_factory=list)  # document paths ``keep`` asked for


def scan_manifest(path: Path, keep: Callable[[str], bool]) -> _ManifestScan | None:
    """What ``manifest_paths`` and the "format" key would give for the manifest at ``path``,
    reading it a piece at a time; ``None`` when it cannot be read or is not one JSON text (the
    cases ``read_blob`` and ``json.loads`` refuse). Of the safe document paths only those for
    which ``keep`` answers True are kept (the last ``documents`` key counts, as in a dict)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_YEAR_MANIFEST_BYTES:
        return None
    try:
        with open(path, "rb") as handle:
            return _scan_manifest_text(_JsonPieces(handle, MAX_YEAR_MANIFEST_BYTES), keep)
    except (_Unreadable, OSError, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def _scan_manifest_text(text: _JsonPieces, keep: Callable[[str], bool]) -> _ManifestScan:
    scan = _ManifestScan()
    if text.peek() != "{":
        text.value()  # valid JSON, but not an object: no paths
    else:
        text.take("{")
        closed = text.peek() == "}"
        if closed:
            text.take("}")
        while not closed:
            name = text.key()
            text.take(":")
            if name == "documents":
                scan.kept = _scan_documents(text, keep)
            elif name == "format":
                scan.fmt = text.value()
            else:
                text.value()
            closed = text.take(",}") == "}"
    if text.peek():
        raise _Unreadable  # something after the JSON value
    return scan


def _scan_documents(text: _JsonPieces, keep: Callable[[str], bool]) -> list[str]:
    kept: list[str] = []
    if text.peek() != "[":
        text.value()  # not a list: no paths
        return kept
    text.take("[")
    if text.peek() == "]":
        text.take("]")
        return kept
    while True:
        doc = text.value()
        path = doc.get("path") if isinstance(doc, dict) else None
        if isinstance(path, str) and safe_relative(path) and keep(path):
            kept.append(path)
        if text.take(",]") == "]":
            return kept


def is_archive_dir(directory: Path) -> bool:
    """True when ``directory`` is an extracted archive: its manifest says so."""
    scan = scan_manifest(directory / MANIFEST_NAME, lambda _path: False)
    return scan is not None and scan.fmt == ARCHIVE_FORMAT
