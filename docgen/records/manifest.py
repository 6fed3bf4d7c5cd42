"""``output/<year>/manifest.json``: the office's view of a year, derived from the registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from docgen.core.jsontext import dumps_indented
from docgen.core.workspace import atomic_write, atomic_write_chunks
from docgen.records.naming import proof_relpath, signature_relpath
from docgen.records.state import LetterState, YearState

MANIFEST_NAME = "manifest.json"
STATE_NAME = ".manifest-state.json"  # what manifest.json was built from (spliceable_manifest)
FORMAT = "docgen-manifest-v1"


def letter_status(letter: LetterState) -> str:
    return "voided" if letter.voided else ("complete" if letter.complete else "pending")


def manifest_document(letter: LetterState) -> dict[str, Any]:
    """One letter as ``manifest.json`` lists it."""
    record = letter.record
    signatures = sorted(letter.signatures.items(), key=lambda kv: kv[1].index)
    void = letter.void
    return {
        "doc_id": letter.doc_id,
        "kind": record["kind"],
        "title": record["title"],
        "parties": record["parties"],
        "path": record["path"],
        "sha256": record["sha256"],
        "registry_index": letter.document.index,
        "status": letter_status(letter),
        "signatures": [
            {
                "signer": signer,
                "path": signature_relpath(record["path"], signer),
                "p7s_sha256": entry.record["p7s_sha256"],
                "registry_index": entry.index,
            }
            for signer, entry in signatures
        ],
        "proof": proof_relpath(record["path"]),
        "void": None
        if void is None
        else {
            "reason": void.record["reason"],
            "replaced_by": void.record.get("replaced_by"),
            "registry_index": void.index,
        },
    }


def manifest_data(state: YearState, institution: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "institution": institution,
        "year": state.year,
        "documents": [manifest_document(letter) for letter in state.letters.values()],
    }


def document_text(document: dict[str, Any]) -> str:
    """One document as it appears in ``manifest.json`` (indented to its place in the list)."""
    return "    " + dumps_indented(document, indent=2, newline="\n    ")


def write_manifest(year_dir: Path, state: YearState, institution: str) -> Path:
    return write_manifest_text(
        year_dir,
        institution,
        state.year,
        (document_text(manifest_document(letter)) for letter in state.letters.values()),
    )


def write_manifest_text(
    year_dir: Path,
    institution: str,
    year: int,
    documents: Iterable[str],
    *,
    registry_size: int | None = None,
) -> Path:
    """Write ``manifest.json`` atomically, streamed from the documents' texts (in order).

    The bytes are those of ``json.dumps(manifest_data(...), ensure_ascii=False, indent=2)``
    and a newline, but a year of 10⁵ letters is never one string in memory. With
    ``registry_size`` (the size of the registry the texts were read from), what the new file
    reflects is recorded beside it (:func:`spliceable_manifest`); without it, any record is
    removed first.
    """
    encoded = (text.encode("utf-8") for text in _text(institution, year, documents))
    return _write_bytes(year_dir, encoded, registry_size=registry_size)


def _write_bytes(year_dir: Path, chunks: Iterable[bytes], *, registry_size: int | None) -> Path:
    """``manifest.json`` written atomically from ``chunks``, and the record of what it reflects
    (see :func:`write_manifest_text`)."""
    path = year_dir / MANIFEST_NAME
    record = year_dir / STATE_NAME
    record.unlink(missing_ok=True)  # before the manifest changes: never a record of another file
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for data in chunks:
            digest.update(data)
            yield data

    atomic_write_chunks(path, hashed())
    if registry_size is not None:
        state = {"registry_size": registry_size, "sha256": digest.hexdigest()}
        atomic_write(record, json.dumps(state).encode("utf-8") + b"\n")
    return path


def spliceable_manifest(year_dir: Path) -> int | None:
    """The registry size the year's ``manifest.json`` was built from, if the file is exactly the
    one docgen wrote then (its SHA-256 is recorded beside it); ``None`` otherwise — no record,
    an unreadable one, or a file changed since — and the manifest must be rebuilt whole."""
    try:
        state = json.loads((year_dir / STATE_NAME).read_bytes())
        size, expected = state["registry_size"], state["sha256"]
        with (year_dir / MANIFEST_NAME).open("rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if type(size) is not int or actual != expected:
        return None
    return size


def splice_manifest(
    year_dir: Path,
    institution: str,
    year: int,
    changed: Mapping[str, str],
    *,
    registry_size: int,
    total: int,
) -> bool:
    """Rewrite ``manifest.json`` with the texts of the ``changed`` letters (doc id → text, in
    registry order) put in place of their old ones, and those it did not list added at the end.

    Every other letter's text is copied as it stands: the caller has checked, with
    :func:`spliceable_manifest`, that the file is the one docgen wrote from the registry, and
    that no other letter of the year has an entry appended since. Letters are listed in the order
    of their first ``document`` entry, so a letter the file does not list is newer than every
    letter it does. ``False``, with nothing written, when the file is not laid out as
    :func:`write_manifest_text` writes it, or when it would not list ``total`` letters: the
    caller then rebuilds it whole.
    """
    try:
        data = (year_dir / MANIFEST_NAME).read_bytes()
        chunks = _spliced(data, institution, year, changed, total)
    except (OSError, _Unexpected):
        return False
    _write_bytes(year_dir, chunks, registry_size=registry_size)
    return True


class _Unexpected(Exception):
    """The manifest is not laid out as :func:`write_manifest_text` writes it."""


_ID_MARK = b'\n    {\n      "doc_id": '  # a document's start: its "{" line and its id
_DOCUMENT_CLOSE = b"\n    }"
_DOCUMENTS_END = b"\n  ]\n}\n"


def _spliced(
    data: bytes, institution: str, year: int, changed: Mapping[str, str], total: int
) -> list[bytes]:
    """The bytes of a manifest with the ``changed`` documents put in place of their old texts
    (and those it does not list added at the end), as slices of ``data`` and the new texts.

    JSON strings hold no raw line breaks, so in the indented text a document starts at a line
    ``    {`` followed by its ``doc_id`` line, and ends at the next line ``    }``: the changed
    documents are found with ``bytes.find`` and everything between them is copied as one slice.
    Reading the file document by document was most of a signature's time at 10⁴ letters, since
    the year's whole manifest is rewritten for each."""
    head = ("".join(_text(institution, year, ()))[: -len("[]\n}\n")] + "[\n").encode("utf-8")
    if not data.startswith(head) or not data.endswith(_DOCUMENTS_END):
        raise _Unexpected
    listed = data.count(_ID_MARK)
    places: list[tuple[int, int, bytes]] = []
    added: list[bytes] = []
    for doc_id, text in changed.items():
        if not doc_id.isascii():
            raise _Unexpected
        mark = _ID_MARK + json.dumps(doc_id).encode("ascii") + b",\n"
        found = data.find(mark)
        if found < 0:
            added.append(text.encode("utf-8"))
            continue
        if data.find(mark, found + 1) >= 0:
            raise _Unexpected  # listed twice
        close = data.find(_DOCUMENT_CLOSE, found + len(mark))
        if close < 0:
            raise _Unexpected
        stop = close + len(_DOCUMENT_CLOSE)
        if data[stop : stop + 2] != b",\n" and data[stop:] != _DOCUMENTS_END:
            raise _Unexpected
        places.append((found + 1, stop, text.encode("utf-8")))
    if listed < 1 or listed + len(added) != total:
        raise _Unexpected
    chunks: list[bytes] = []
    at = 0
    for begin, stop, new in sorted(places):
        chunks += [data[at:begin], new]
        at = stop
    chunks.append(data[at : len(data) - len(_DOCUMENTS_END)])
    for new in added:
        chunks += [b",\n", new]
    chunks.append(_DOCUMENTS_END)
    return chunks


def _text(institution: str, year: int, documents: Iterable[str]) -> Iterator[str]:
    head = json.dumps(
        {"format": FORMAT, "institution": institution, "year": year}, ensure_ascii=False, indent=2
    )
    yield head[: -len("\n}")] + ',\n  "documents": '
    separator = "[\n"
    for document in documents:
        yield separator
        yield document
        separator = ",\n"
    yield "[]\n}\n" if separator == "[\n" else "\n  ]\n}\n"


def read_manifest(year_dir: Path) -> dict[str, Any] | None:
    path = year_dir / MANIFEST_NAME
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
