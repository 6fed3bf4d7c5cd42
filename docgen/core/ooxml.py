"""Office Open XML packages whose bytes depend only on their content.

python-docx and openpyxl save zip members stamped with the clock and in their own order; the
reports and the duties workbook are rewritten here so the same year gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date


def normalise_package(data: bytes, when: date) -> bytes:
    """Rewrite a saved OOXML package so its bytes depend only on its members: fixed member
    order (``[Content_Types].xml`` first), timestamps from ``when``, compression and attributes.
    (:mod:`zipfile` stamps members with the clock otherwise.)"""
    stamp = (when.year, when.month, when.day, 0, 0, 0)
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = sorted(
            source.infolist(), key=lambda i: (i.filename != "[Content_Types].xml", i.filename)
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in members:
                fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
                fixed.compress_type = zipfile.ZIP_DEFLATED
                fixed.create_system = 3
                fixed.external_attr = 0o644 << 16
                target.writestr(fixed, source.read(info), compresslevel=6)
    return out.getvalue()
