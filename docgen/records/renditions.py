"""PDF renditions of letters as the registry records them.

A letter's rendition is a PDF/A-2b made by LibreOffice from the letter's registered .docx
(:mod:`docgen.letters.rendition`), at ``<kind>/<same stem>.pdf`` beside it. Its ``rendition``
entry binds the two: the .docx SHA-256 it was made from, and the PDF's SHA-256 and size. A
rendition counts for a letter only while the letter's bytes are the ones it was made from; the
latest such entry is the letter's rendition (:func:`registered_rendition`).

Signing a PDF appends to it (an incremental update keeps every earlier byte), so a signed
rendition still begins with the registered bytes: :func:`rendition_intact` checks that prefix.
What was appended is for the PDF signature check to judge, not this module.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any

from docgen.registry import Registry

RECORD_TYPE = "rendition"
FORMAT = "PDF/A-2b"
PDF_SUFFIX = ".pdf"


def rendition_relpath(docx_relpath: str) -> str:
    """``廉洁从检承诺书/2027-LJ-….docx`` → ``廉洁从检承诺书/2027-LJ-….pdf``."""
    return str(PurePosixPath(docx_relpath).with_suffix(PDF_SUFFIX))


def rendition_record(
    doc_id: str,
    path: str,
    docx_sha256: str,
    pdf: bytes,
    fonts: list[str],
) -> dict[str, Any]:
    """The ``rendition`` entry of the PDF ``pdf`` made from the .docx of SHA-256
    ``docx_sha256``; ``path`` is the PDF's, relative to the year's folder like the letter's."""
    return {
        "type": RECORD_TYPE,
        "doc_id": doc_id,
        "path": path,
        "docx_sha256": docx_sha256,
        "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        "pdf_size": len(pdf),
        "format": FORMAT,
        "fonts": list(fonts),
    }


def current_rendition(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of one letter's ``document`` and ``rendition`` records (in registry order), the latest
    rendition made from the letter's current bytes (its latest ``document`` record)."""
    current = None
    for record in records:
        if record.get("type") == "document":
            current = record.get("sha256")
    found = None
    for record in records:
        if record.get("type") == RECORD_TYPE and record.get("docx_sha256") == current:
            found = record
    return found if current is not None else None


def registered_rendition(registry: Registry, doc_id: str) -> dict[str, Any] | None:
    """The rendition record of letter ``doc_id`` (as registered, ``recorded_at`` included):
    the latest one made from the letter's current bytes; None if it has none (or no such
    letter). A voided letter keeps the rendition it had."""
    datas = registry.letter_entry_bytes([doc_id], types=("document", RECORD_TYPE))
    records = [json.loads(datas[index]) for index in sorted(datas)]
    return current_rendition([r for r in records if r.get("doc_id") == doc_id])


def prefix_sha256(path: Path, size: int) -> str | None:
    """SHA-256 of the first ``size`` bytes of ``path``; None if it is missing or shorter."""
    digest = hashlib.sha256()
    remaining = size
    try:
        with path.open("rb") as handle:
            while remaining:
                chunk = handle.read(min(remaining, 1 << 20))
                if not chunk:
                    return None
                digest.update(chunk)
                remaining -= len(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()


def rendition_intact(year_dir: Path, record: dict[str, Any]) -> bool:
    """The PDF of a rendition record exists and begins with exactly the registered bytes (a
    PDF signed since has had updates appended to them)."""
    size = record.get("pdf_size")
    path = record.get("path")
    if not isinstance(size, int) or not isinstance(path, str) or size < 0:
        return False
    return prefix_sha256(year_dir / path, size) == record.get("pdf_sha256")
