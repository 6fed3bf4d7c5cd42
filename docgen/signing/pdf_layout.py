"""Where each party's 签名 line is on a letter's PDF rendition, read from its text layer.

A visible PAdES stamp must sit on the signing party's own line, and nowhere else: a stamp in the
other party's column, or on a page without a signature block, would show a signature where the
letter says someone else signs. The positions are therefore read from the PDF itself, never
assumed: the letters end with a two-column table ::

    甲方(…):张明远          乙方(…):李卫东
    职务:…                  职务:…
    签名:______________     签名:______________
    日期:____年__月__日     日期:____年__月__日

pdfminer.six gives every character with its box; characters are grouped into rows by baseline,
each row is cut into cells at its labels (甲方, 乙方, 职务, 签名, 日期), and a cell belongs to the
column whose header (甲方 for the superior, 乙方 for the subordinate) starts at the same x. The
block must be found exactly once, on one page, with each header naming its party: anything else
is refused with a Chinese message rather than guessed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTPage
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFException
from pdfminer.psexceptions import PSException

from docgen.core.errors import Location, ValidationError

# The header label of each party's column, as the templates write it.
PARTY_LABELS: dict[str, str] = {"superior": "甲方", "subordinate": "乙方"}
_LABELS = ("甲方", "乙方", "职务", "签名", "日期")
_COLONS = frozenset(":：")
_BLANKS = frozenset("_＿")


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF user space (points, origin at the page's lower left)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class SignatureLine:
    """One party's 签名 line: the page (0-based), the line's label-and-blank box, the blank alone,
    the room its column leaves to the right, and the 日期 line under it when there is one."""

    party: str
    page: int
    line: Box
    blank: Box
    column_right: float
    date_line: Box | None

    def stamp_box(self) -> Box:
        """Where the stamp goes: over the blank of the 签名 line, as wide as the column allows,
        and down over the 日期 line's blanks when it follows (the stamp shows the date)."""
        pad = 0.15 * self.line.height
        under = 0.35 * self.line.height  # underscores reach below the characters' boxes
        lowest = self.date_line if self.date_line is not None else self.line
        right = max(self.blank.x1, self.column_right)
        return Box(self.blank.x0 - 1, lowest.y0 - under, right, self.line.y1 + pad)

    def stamp_rect(self) -> tuple[int, int, int, int]:
        """The stamp's widget rectangle as signing writes it (whole points), and as
        ``docgen verify`` requires it to be (:mod:`docgen.verify.pdf_check`)."""
        box = self.stamp_box()
        return (round(box.x0), round(box.y0), round(box.x1), round(box.y1))


@dataclass(frozen=True)
class _Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class _Cell:
    label: str
    chars: tuple[_Char, ...]

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0].x0

    @property
    def box(self) -> Box:
        return Box(
            min(c.x0 for c in self.chars),
            min(c.y0 for c in self.chars),
            max(c.x1 for c in self.chars),
            max(c.y1 for c in self.chars),
        )


def _page_chars(page: LTPage) -> list[_Char]:
    return [
        _Char(item.get_text(), item.x0, item.y0, item.x1, item.y1)
        for item in page
        if isinstance(item, LTChar) and item.get_text().strip()
    ]


def _rows(chars: Sequence[_Char]) -> list[list[_Char]]:
    """Characters grouped into rows (same baseline, within a fifth of their height), top first,
    each row left to right."""
    rows: list[list[_Char]] = []
    for char in sorted(chars, key=lambda c: (-c.y0, c.x0)):
        if rows:
            last = rows[-1][0]
            if abs(last.y0 - char.y0) <= 0.2 * max(last.y1 - last.y0, 1.0):
                rows[-1].append(char)
                continue
        rows.append([char])
    return [sorted(row, key=lambda c: c.x0) for row in rows]


def _cells(row: Sequence[_Char]) -> list[_Cell]:
    """A row cut at each label of the signature block; text before the first label is dropped."""
    text = "".join(c.text for c in row)
    if len(text) != len(row):  # ligatures: one box, several characters — not our table
        return []
    starts = sorted(
        i for label in _LABELS for i in _find_all(text, label) if _is_label_at(text, i, label)
    )
    cells = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(row)
        cells.append(_Cell(text[start : start + 2], tuple(row[start:end])))
    return cells


def _find_all(text: str, label: str) -> Iterator[int]:
    at = text.find(label)
    while at >= 0:
        yield at
        at = text.find(label, at + 1)


def _is_label_at(text: str, at: int, label: str) -> bool:
    """``label`` at ``at`` opens a cell: 签名/日期/职务 are followed by a colon; 甲方/乙方 by a
    colon or a bracketed role (甲方(责任领导):…)."""
    rest = text[at + len(label) : at + len(label) + 1]
    if label in ("甲方", "乙方"):
        return rest in _COLONS or rest in ("(", "（")
    return rest in _COLONS


@dataclass(frozen=True)
class _Block:
    page: int
    headers: dict[str, _Cell]
    lines: dict[str, list[_Cell]]
    dates: dict[str, list[_Cell]]


def _block_on_page(page_no: int, chars: Sequence[_Char]) -> _Block | None:
    headers: dict[str, list[_Cell]] = {}
    signs: list[_Cell] = []
    dates: list[_Cell] = []
    for row in _rows(chars):
        for cell in _cells(row):
            if cell.label in ("甲方", "乙方"):
                headers.setdefault(cell.label, []).append(cell)
            elif cell.label == "签名" and _is_blank_line(cell):
                signs.append(cell)
            elif cell.label == "日期":
                dates.append(cell)
    if not signs:
        return None
    by_party: dict[str, _Cell] = {}
    for party, label in PARTY_LABELS.items():
        found = headers.get(label, [])
        if len(found) == 1:
            by_party[party] = found[0]
    lines: dict[str, list[_Cell]] = {party: [] for party in PARTY_LABELS}
    column_dates: dict[str, list[_Cell]] = {party: [] for party in PARTY_LABELS}
    for cell in signs:
        owner = _column_of(cell, by_party)
        if owner is not None:
            lines[owner].append(cell)
    for cell in dates:
        owner = _column_of(cell, by_party)
        if owner is not None:
            column_dates[owner].append(cell)
    return _Block(page_no, by_party, lines, column_dates)


def _is_blank_line(cell: _Cell) -> bool:
    """签名 + colon + at least three underscores, nothing else (a filled-in line is not blank)."""
    rest = cell.text[3:]
    return len(rest) >= 3 and all(c in _BLANKS for c in rest)


def _column_of(cell: _Cell, headers: dict[str, _Cell]) -> str | None:
    """The party whose header starts at this cell's x (within half a character) above it."""
    for party, header in headers.items():
        width = header.chars[0].x1 - header.chars[0].x0
        if abs(header.x0 - cell.x0) <= 0.5 * width and header.box.y0 > cell.box.y0:
            return party
    return None


def _pages(pdf: bytes) -> list[PDFPage]:
    document = PDFDocument(PDFParser(io.BytesIO(pdf)))
    return list(PDFPage.create_pages(document))


def find_signature_lines(
    pdf: bytes, names: dict[str, str], *, where: str
) -> dict[str, SignatureLine]:
    """Each party's 签名 line (``{"superior": …, "subordinate": …}``) on the PDF ``pdf``.

    ``names`` maps each party to the person's name, which its column header must show. Pages are
    read from the last one back; the first page with a 签名 line must hold the whole block.
    Refused (:class:`ValidationError` naming ``where``): an unreadable PDF, no 签名 line, a party
    with no line or more than one, a header missing or not naming its party.
    """
    location = Location(file=where)
    try:
        pages = _pages(pdf)
        manager = PDFResourceManager(caching=True)
        device = PDFPageAggregator(manager, laparams=None)
        interpreter = PDFPageInterpreter(manager, device)
        block = None
        for page_no in range(len(pages) - 1, -1, -1):
            interpreter.process_page(pages[page_no])
            block = _block_on_page(page_no, _page_chars(device.get_result()))
            if block is not None:
                break
    except (PDFException, PSException, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            f"无法读取 PDF 的文字层,找不到签名栏({type(exc).__name__})",
            location=location,
            hint="请重新生成 PDF:docgen pdf --year 年度",
        ) from exc
    if block is None:
        raise ValidationError(
            "PDF 中找不到“签名:____”签名栏,不能放置签章",
            location=location,
            hint="文书模板的签名栏应为“签名:”加下划线;请检查模板后重新生成 PDF",
        )
    page_width = float(pages[block.page].mediabox[2])
    return {
        party: _party_line(block, party, names.get(party), page_width, location)
        for party in PARTY_LABELS
    }


def _names(header: str, name: str) -> bool:
    """Whether a column header ("乙方(责任人):李卫东") shows ``name``; a long name the table
    wrapped onto a second line ("…:阿依古丽·" / "买买提") shows as a beginning of two or more
    characters after the colon. Blanks do not count: the text layer may drop the spaces of a
    name (LibreOffice places the words of "{{ x }}" apart without a space glyph)."""
    header, name = "".join(header.split()), "".join(name.split())
    if name in header:
        return True
    shown = header.replace("：", ":").rpartition(":")[2]
    return len(shown) >= 2 and name.startswith(shown)


def _party_line(
    block: _Block, party: str, name: str | None, page_width: float, location: Location
) -> SignatureLine:
    label = PARTY_LABELS[party]
    page = f"第 {block.page + 1} 页"
    header = block.headers.get(party)
    if header is None:
        raise ValidationError(
            f"PDF {page}的签名栏没有唯一的“{label}”栏,不能确定{label}的签名位置",
            location=location,
            hint="请检查文书模板的签名栏后重新生成 PDF",
        )
    if name is not None and not _names(header.text, name):
        raise ValidationError(
            f"PDF {page}的“{label}”栏写的是“{header.text}”,不是{name},拒绝在此盖章",
            location=location,
            hint="PDF 与登记的文书不一致;请重新生成 PDF",
        )
    found = block.lines[party]
    if len(found) != 1:
        raise ValidationError(
            f"PDF {page}{label}一栏有 {len(found)} 个“签名:____”,应为 1 个,不能确定签章位置",
            location=location,
            hint="请检查文书模板的签名栏后重新生成 PDF",
        )
    cell = found[0]
    blank_chars = [c for c in cell.chars if c.text in _BLANKS]
    blank = Box(
        blank_chars[0].x0,
        min(c.y0 for c in cell.chars),
        blank_chars[-1].x1,
        max(c.y1 for c in cell.chars),
    )
    line = cell.box
    others = [h.x0 for p, h in block.headers.items() if p != party and h.x0 > cell.x0]
    margin = min(c.x0 for h in block.headers.values() for c in h.chars[:1])
    right = min(others) - 0.5 * line.height if others else page_width - margin
    below = [
        d.box
        for d in block.dates[party]
        if d.box.y1 <= line.y0 + 0.01 and line.y0 - d.box.y1 < 1.5 * line.height
    ]
    date_line = max(below, key=lambda b: b.y1) if below else None
    return SignatureLine(party, block.page, line, blank, right, date_line)
