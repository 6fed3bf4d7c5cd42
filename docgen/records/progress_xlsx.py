"""The 年度进度 as an Excel workbook (.xlsx), for the office to file or forward.

Two sheets, from :func:`docgen.records.progress.year_progress` with the clerk's filters: 人员
(department, id, name, title and each person's signed / waiting / voided letters) and 文书 (every
matching letter, its parties by name, its label and who has still to sign). The workbook's
creation time is the ``now`` the caller passes and its package is normalised
(:func:`docgen.core.ooxml.normalise_package`), so the same year, filters and ``now`` give the
same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from docgen.core.ooxml import normalise_package
from docgen.records.progress import YearProgress

PEOPLE_HEADER = ("部门", "编号", "姓名", "职务", "已签", "待签", "已作废")
LETTER_HEADER = ("文书编号", "文书", "甲方", "乙方", "状态", "未签", "作废原因", "期限")


def _who(progress: YearProgress, ids: tuple[str, ...]) -> str:
    names = {p.person_id: p.name for d in progress.departments for p in d.people}
    return "、".join(f"{names.get(pid, pid)}({pid})" for pid in ids)


def progress_xlsx(progress: YearProgress, *, now: datetime) -> bytes:
    """The workbook's bytes (``progress`` read with ``limit=None`` lists every letter)."""
    book = Workbook()
    stamp = now.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "docgen"
    book.properties.title = f"{progress.year} 年度签订进度"
    people = book.active
    people.title = "人员"
    people.append(PEOPLE_HEADER)
    for department in progress.departments:
        for p in department.people:
            people.append(
                (department.name, p.person_id, p.name, p.title, p.signed, p.waiting, p.voided)
            )
    letters = book.create_sheet("文书")
    letters.append(LETTER_HEADER)
    for s in progress.letters:
        letters.append(
            (
                s.doc_id,
                s.kind.title,
                f"{s.superior.name}({s.superior.id})",
                f"{s.subordinate.name}({s.subordinate.id})",
                s.label,
                "" if s.voided else _who(progress, s.missing),
                s.void_reason or "",
                s.timing_label if s.timing in ("late", "overdue") else "",
            )
        )
    for sheet, widths in (
        (people, (16, 10, 12, 16, 8, 8, 8)),
        (letters, (34, 18, 20, 20, 10, 30, 20, 10)),
    ):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column, width in zip("ABCDEFGH", widths, strict=False):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    # Workbook.save stamps ``modified`` with the clock; the writer keeps the time set above.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return normalise_package(buffer.getvalue(), stamp.date())
