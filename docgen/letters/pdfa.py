"""Make LibreOffice's PDF/A-2b output a function of the letter alone, and read its fonts.

LibreOffice stamps every export with the clock and with its own state: the document information
and XMP dates, a random ``/ID``, the creation date inside the sRGB output-intent profile it
builds with lcms, a ``/DocChecksum`` of its own in the trailer (not part of the PDF standard),
and a ``/UniqueID`` in each embedded Type 1 font taken from a counter that runs across the
files of one LibreOffice process (so a letter converted in a batch differs from
the same letter converted alone). Two conversions of one .docx differ in exactly these bytes
(measured: every other object is identical). :func:`normalize_pdf` sets them from the letter —
the dates to the start of its year, as in the .docx core properties; ``/ID`` to the .docx
SHA-256; the font ids to their order in the file — with pikepdf (qpdf), keeping the document
PDF/A-2b: the XMP packet is rewritten through pikepdf's PDF/A-aware metadata editor, and the
information dictionary is derived from it so that the two agree.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime

import pikepdf

from docgen.core.errors import DocgenError

# eexec encryption of a Type 1 font's private part (Adobe Type 1 Font Format, ch. 7).
_EEXEC_KEY = 55665
_C1, _C2 = 52845, 22719
_UNIQUE_ID = re.compile(rb"/UniqueID (\d+) def")
_FIRST_UNIQUE_ID = 4100000  # LibreOffice's own base, in the range for private use
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")


class PdfRenditionError(DocgenError):
    """A PDF that LibreOffice wrote could not be read or made deterministic."""


def _eexec_decrypt(data: bytes) -> bytes:
    key, out = _EEXEC_KEY, bytearray(len(data))
    for i, byte in enumerate(data):
        out[i] = byte ^ (key >> 8)
        key = ((byte + key) * _C1 + _C2) & 0xFFFF
    return bytes(out)


def _eexec_encrypt(data: bytes) -> bytes:
    key, out = _EEXEC_KEY, bytearray(len(data))
    for i, byte in enumerate(data):
        cipher = byte ^ (key >> 8)
        out[i] = cipher
        key = ((cipher + key) * _C1 + _C2) & 0xFFFF
    return bytes(out)


def _fix_type1(stream: pikepdf.Stream, unique_id: int) -> None:
    """Give an embedded Type 1 font program the ``/UniqueID`` ``unique_id`` (clear part and
    encrypted private dictionary alike); the rest of the program is kept byte for byte."""
    data = stream.read_bytes()
    clear_len, crypt_len = int(stream.get("/Length1", 0)), int(stream.get("/Length2", 0))
    if not clear_len or clear_len + crypt_len > len(data):
        return
    clear, crypt, tail = (
        data[:clear_len],
        data[clear_len : clear_len + crypt_len],
        data[clear_len + crypt_len :],
    )
    value = str(unique_id).encode("ascii")
    new_clear = _UNIQUE_ID.sub(b"/UniqueID " + value + b" def", clear)
    plain = _eexec_decrypt(crypt)
    new_plain = _UNIQUE_ID.sub(b"/UniqueID " + value + b" def", plain)
    new_crypt = _eexec_encrypt(new_plain) if new_plain != plain else crypt
    # Always written again (and compressed again by qpdf on saving), so that the bytes do not
    # depend on whether LibreOffice's id happened to be the one given here.
    stream.write(new_clear + new_crypt + tail)
    stream.Length1 = len(new_clear)
    stream.Length2 = len(new_crypt)


def _fix_icc(stream: pikepdf.Stream, when: datetime) -> None:
    """Set the creation date in an ICC profile's header (bytes 24–35, ICC.1 §7.2.1) to
    ``when``, and its profile ID (MD5, bytes 84–99) to match when it has one."""
    profile = bytearray(stream.read_bytes())
    if len(profile) < 128 or profile[36:40] != b"acsp":
        return
    date = b"".join(
        n.to_bytes(2, "big")
        for n in (when.year, when.month, when.day, when.hour, when.minute, when.second)
    )
    profile[24:36] = date
    if any(profile[84:100]):
        hashed = bytearray(profile)  # flags, rendering intent and ID zeroed (ICC.1 §7.2.18)
        hashed[44:48] = bytes(4)
        hashed[64:68] = bytes(4)
        hashed[84:100] = bytes(16)
        profile[84:100] = hashlib.md5(bytes(hashed), usedforsecurity=False).digest()
    stream.write(bytes(profile))  # always, as for the fonts


def _font_files(pdf: pikepdf.Pdf) -> list[pikepdf.Stream]:
    """The embedded Type 1 font programs, in object order."""
    found: list[pikepdf.Stream] = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == pikepdf.Name.FontDescriptor:
            program = obj.get("/FontFile")
            if isinstance(program, pikepdf.Stream):
                found.append(program)
    return found


def normalize_pdf(data: bytes, *, when: datetime, ident: bytes, label: str) -> bytes:
    """``data`` (a PDF/A-2b from LibreOffice) with its clock- and process-dependent bytes set
    from the letter: the dates to ``when`` (aware), the first ``/ID`` to ``ident`` (16 bytes),
    the Type 1 font ids to their order. ``label`` names the letter in an error."""
    stamp = when.isoformat()
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
                meta["xmp:CreateDate"] = stamp
                meta["xmp:ModifyDate"] = stamp
                meta["xmp:MetadataDate"] = stamp
            for intent in pdf.Root.get("/OutputIntents", pikepdf.Array()):
                profile = intent.get("/DestOutputProfile")
                if isinstance(profile, pikepdf.Stream):
                    _fix_icc(profile, when)
            for number, font in enumerate(_font_files(pdf), start=1):
                _fix_type1(font, _FIRST_UNIQUE_ID + number)
            if "/DocChecksum" in pdf.trailer:  # LibreOffice's own, an MD5 taken with the time
                del pdf.trailer["/DocChecksum"]
            pdf.trailer.ID = pikepdf.Array([pikepdf.String(ident), pikepdf.String(ident)])
            out = io.BytesIO()
            # The first /ID element is kept; qpdf derives the second from the content.
            pdf.save(out, deterministic_id=True)
            return out.getvalue()
    except (pikepdf.PdfError, ValueError) as exc:
        raise PdfRenditionError(
            f"LibreOffice 为 {label} 生成的 PDF 无法读取或处理:{exc}",
            hint="请确认 LibreOffice 能正常打开这份文书;可重新运行 docgen pdf",
        ) from exc


def embedded_fonts(data: bytes) -> list[str]:
    """The fonts a PDF uses (its font dictionaries' base names, subset tags removed), sorted.

    Noto CJK collections share one CFF among their regional faces, so the Simplified Chinese
    face of ``NotoSerifCJK-Regular.ttc`` is embedded under the PostScript name
    ``NotoSerifCJKjp-Regular`` as well: the region is in the glyphs, not in the name."""
    names: set[str] = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == pikepdf.Name.Font:
                base = obj.get("/BaseFont")
                if isinstance(base, pikepdf.Name):
                    names.add(_SUBSET_TAG.sub("", str(base)[1:]))
    return sorted(names)
