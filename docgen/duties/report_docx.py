"""Set a :class:`~docgen.duties.report_model.ReportContent` as a .docx in 公文 form (GB/T 9704).

A4, margins 37/35/28/26 mm; a 上行文's 发文字号 (placeholder) left and 签发人:【待填写】 right on
one line above a red rule (GB/T 9704 7.2.3, 7.2.4); 标题 小标宋 2号 centred; 主送机关 flush
left; 正文 仿宋 3号 at a fixed 28.95 pt line pitch (22 lines in the 225 mm 版心) with a
two-character first-line indent; 一、 headings 黑体, (一) headings 楷体; tables in the body
(the undone duties, grouped) with a repeated header row; 附件说明, 发文机关署名 and 成文日期
after the body, kept on the page of the body's last lines (never alone on a page); the attachment
on a new page; page numbers "— 1 —" in 宋体 4号 at the outer bottom corner. Every text goes
through :func:`~docgen.duties.report_model.official_punctuation` (full-width ，：；（） in Chinese
text, GB/T 15834).
python-docx only writes the ASCII/hAnsi font names, so every style and run also gets
``w:eastAsia`` (else Word shows the CJK text in its default font). Output bytes depend only on
the content: fixed zip member order and timestamps, core properties from the 成文日期.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from docgen.core.ooxml import normalise_package
from docgen.core.page import set_official_page
from docgen.core.workspace import Fonts
from docgen.duties.report_model import PROBLEM_HEADER, official_punctuation

if TYPE_CHECKING:
    from docgen.duties.report_model import ReportContent

BODY_PT = 16.0  # 3号
TITLE_PT = 22.0  # 2号
PAGE_NUMBER_PT = 14.0  # 4号
TABLE_PT = 10.5  # 5号
LINE_PITCH = Pt(28.95)  # 225 mm / 22 lines
CHAR = Pt(BODY_PT)  # one character of body text

STYLE_TITLE = "公文标题"
STYLE_ADDRESSEE = "主送机关"
STYLE_H1 = "公文一级标题"
STYLE_H2 = "公文二级标题"
STYLE_SIGNATURE = "公文落款"
STYLE_ATTACHMENT = "附件标识"
STYLE_TABLE = "表格文字"
# Column widths of the appendix table and of the body's table of undone duties (mm, summing to
# the 156 mm 版心), wide enough at 5号 for 序号, an article such as 11.6 and 逾期完成 on one line.
TABLE_WIDTHS_MM = (11, 15, 54, 19, 14, 14, 11, 18)
BODY_TABLE_WIDTHS_MM: dict[tuple[str, ...], tuple[int, ...]] = {
    PROBLEM_HEADER: (11, 15, 40, 22, 56, 12)
}
CELL_MARGIN_MM = 1.0
NO_WRAP_COLUMNS = frozenset({0, 1})  # 序号 and 条款 never break
RED = "FF0000"


def _east_asia(element: Any, name: str) -> None:
    """Set all four font slots, so Word and WPS use ``name`` for CJK and Latin text alike."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), name)


def _style(
    doc: Any,
    name: str,
    *,
    font: str,
    size: float,
    align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent_chars: float = 0.0,
    outline: int | None = None,
    bold: bool = False,
) -> Any:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    style.font.name = font
    style.font.size = Pt(size)
    style.font.bold = bold
    _east_asia(style.element, font)
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.first_line_indent = Pt(BODY_PT * indent_chars)
    if outline is not None:
        level = OxmlElement("w:outlineLvl")
        level.set(qn("w:val"), str(outline))
        style.element.get_or_add_pPr().append(level)
    return style


def _setup_styles(doc: Any, fonts: Fonts) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = fonts.body
    normal.font.size = Pt(BODY_PT)
    _east_asia(normal.element, fonts.body)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(BODY_PT * 2)
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.widow_control = False
    title = _style(
        doc, STYLE_TITLE, font=fonts.title, size=TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    title.paragraph_format.line_spacing = Pt(36)
    _style(doc, STYLE_ADDRESSEE, font=fonts.body, size=BODY_PT)
    _style(doc, STYLE_H1, font=fonts.heading, size=BODY_PT, indent_chars=2, outline=0)
    _style(doc, STYLE_H2, font=fonts.subheading, size=BODY_PT, indent_chars=2, outline=1)
    _style(doc, STYLE_SIGNATURE, font=fonts.body, size=BODY_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(doc, STYLE_ATTACHMENT, font=fonts.heading, size=BODY_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    table = _style(doc, STYLE_TABLE, font=fonts.body, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    table.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE


def _para(doc_or_cell: Any, text: str, style: str, font: str, size: float) -> Any:
    paragraph = doc_or_cell.add_paragraph(style=style)
    if text:
        _run(paragraph, text, font, size)
    return paragraph


def _run(paragraph: Any, text: str, font: str, size: float, *, bold: bool = False) -> Any:
    run = paragraph.add_run(official_punctuation(text))
    run.font.size = Pt(size)
    run.font.bold = bold
    _east_asia(run._element, font)
    return run


def _page_setup(section: Any) -> None:
    section.start_type = WD_SECTION_START.NEW_PAGE
    set_official_page(section, footer_distance_mm=21)


def _field(paragraph: Any, instruction: str, shown: str, font: str, size: float) -> None:
    """A Word field (PAGE): begin, instruction, separate, cached result, end."""

    def char(kind: str) -> None:
        run = _run(paragraph, "", font, size)
        mark = OxmlElement("w:fldChar")
        mark.set(qn("w:fldCharType"), kind)
        run._element.append(mark)

    char("begin")
    run = _run(paragraph, "", font, size)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._element.append(instr)
    char("separate")
    _run(paragraph, shown, font, size)
    char("end")


def _page_numbers(doc: Any, section: Any, fonts: Fonts) -> None:
    """ "— 1 —" at the outer corner: right on odd pages, left on even pages, one space in."""
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.style = doc.styles["Footer"]
        fmt = paragraph.paragraph_format
        fmt.alignment = align
        fmt.first_line_indent = Pt(0)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = Pt(PAGE_NUMBER_PT)
        else:
            fmt.left_indent = Pt(PAGE_NUMBER_PT)
        _run(paragraph, "— ", fonts.page_number, PAGE_NUMBER_PT)
        _field(paragraph, "PAGE", "1", fonts.page_number, PAGE_NUMBER_PT)
        _run(paragraph, " —", fonts.page_number, PAGE_NUMBER_PT)


def _width(text: str) -> float:
    """Width in body characters: CJK full width, ASCII digits and letters half."""
    return sum(0.5 if ch.isascii() else 1.0 for ch in text)


def _signature(doc: Any, content: ReportContent, fonts: Fonts, date_text: str) -> None:
    """发文机关署名 two characters in from the right; 成文日期 below, its first character two
    characters right of the 署名's (GB/T 9704-2012 7.3.5.2)."""
    issuer = _para(doc, content.issuer, STYLE_SIGNATURE, fonts.body, BODY_PT)
    issuer.paragraph_format.space_before = LINE_PITCH * 2
    _keep_with_next(issuer)
    issuer.paragraph_format.right_indent = Pt(BODY_PT * 2)
    dated = _para(doc, date_text, STYLE_SIGNATURE, fonts.body, BODY_PT)
    shift = max(_width(content.issuer) - _width(date_text), 0.0)
    dated.paragraph_format.right_indent = Pt(BODY_PT * shift)


def _cell_margins(table: Any) -> None:
    """Narrow left and right cell margins, so short columns hold their text on one line."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(Mm(CELL_MARGIN_MM).twips)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.append(margins)


def _table(
    doc: Any,
    header: tuple[str, ...],
    rows: tuple[tuple[str, ...], ...],
    widths: tuple[int, ...],
    centred: frozenset[int],
    fonts: Fonts,
) -> None:
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _cell_margins(table)
    first = table.rows[0]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    first._tr.get_or_add_trPr().append(repeat)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)  # the grid, which LibreOffice and WPS go by
    for r, values in enumerate([header, *rows]):
        row = table.rows[r]
        for c, value in enumerate(values):
            cell = row.cells[c]
            cell.width = Mm(widths[c])
            if c in NO_WRAP_COLUMNS:
                cell._tc.get_or_add_tcPr().append(OxmlElement("w:noWrap"))
            paragraph = cell.paragraphs[0]
            paragraph.style = doc.styles[STYLE_TABLE]
            if r == 0 or c in centred:
                paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if r == 0:
                _run(paragraph, value, fonts.heading, TABLE_PT)
            else:
                _run(paragraph, value, fonts.body, TABLE_PT)


def _issue_line(doc: Any, content: ReportContent, fonts: Fonts) -> None:
    """发文字号 left and 签发人 right, each one character in, over the red 版头 rule: a report to
    a higher organ is a 上行文 (GB/T 9704 7.2.3). Both are for the office to fill in."""
    paragraph = doc.add_paragraph(style=doc.styles["Normal"])
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Pt(BODY_PT)
    fmt.space_after = LINE_PITCH
    fmt.tab_stops.add_tab_stop(Mm(156) - Pt(BODY_PT), WD_TAB_ALIGNMENT.RIGHT)
    _run(paragraph, f"{content.reference}\t签发人:", fonts.body, BODY_PT)
    _run(paragraph, content.signer, fonts.subheading, BODY_PT)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "8"), ("space", "6"), ("color", RED)):
        bottom.set(qn(f"w:{name}"), value)
    borders.append(bottom)
    ppr = paragraph._p.get_or_add_pPr()
    ppr.insert_element_before(
        borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:spacing", "w:ind",
        "w:jc",
    )  # fmt: skip


def _keep_with_next(paragraph: Any) -> None:
    fmt = paragraph.paragraph_format
    fmt.keep_with_next = True
    fmt.keep_together = True
    fmt.widow_control = True


def render_report(content: ReportContent, fonts: Fonts) -> bytes:
    doc = Document()
    section = doc.sections[0]
    _page_setup(section)
    _setup_styles(doc, fonts)
    body = doc.element.body
    for paragraph in list(doc.paragraphs):
        body.remove(paragraph._element)

    _issue_line(doc, content, fonts)
    title = _para(doc, content.title, STYLE_TITLE, fonts.title, TITLE_PT)
    title.paragraph_format.space_after = LINE_PITCH
    _para(doc, f"{content.addressee}:", STYLE_ADDRESSEE, fonts.body, BODY_PT)
    styles = {"body": ("Normal", fonts.body), "h1": (STYLE_H1, fonts.heading)}
    styles["h2"] = (STYLE_H2, fonts.subheading)
    last = None
    for block in content.blocks:
        if block.style == "table":
            widths = BODY_TABLE_WIDTHS_MM[block.header]
            _table(doc, block.header, block.rows, widths, frozenset({0, 1, 5}), fonts)
            last = None
            continue
        style, font = styles[block.style]
        last = _para(doc, block.text, style, font, BODY_PT)
    if last is not None:
        _keep_with_next(last)  # the 落款 comes with at least the body's last lines
    note = _para(doc, f"附件:{content.attachment_title}", "Normal", fonts.body, BODY_PT)
    note.paragraph_format.space_before = LINE_PITCH
    _keep_with_next(note)
    date_text = content.issued_text
    _signature(doc, content, fonts, date_text)

    marker = _para(doc, "附件", STYLE_ATTACHMENT, fonts.heading, BODY_PT)
    marker.paragraph_format.page_break_before = True
    heading = _para(doc, content.attachment_title, STYLE_TITLE, fonts.title, TITLE_PT)
    heading.paragraph_format.space_before = LINE_PITCH
    as_of = _para(doc, f"(统计截至{date_text})", STYLE_TITLE, fonts.body, BODY_PT)
    as_of.paragraph_format.space_after = Pt(BODY_PT / 2)
    _table(
        doc,
        content.table_header,
        content.table_rows,
        TABLE_WIDTHS_MM,
        frozenset({0, 1, 4, 5, 6, 7}),
        fonts,
    )
    _page_numbers(doc, section, fonts)
    _core_properties(doc, content)

    buffer = io.BytesIO()
    doc.save(buffer)
    return normalise_package(buffer.getvalue(), content.issued)


def _core_properties(doc: Any, content: ReportContent) -> None:
    """From the content and its 成文日期, never the clock."""
    moment = datetime(content.issued.year, content.issued.month, content.issued.day)
    props = doc.core_properties
    props.title = content.title
    props.subject = f"{content.year}年度党风廉政建设责任制落实情况"
    props.author = content.issuer
    props.last_modified_by = "docgen"
    props.comments = "docgen 生成的草稿，【待填写】处须由办公室补充。"
    props.keywords = "党风廉政建设;报告"
    props.category = "报告"
    props.language = "zh-CN"
    props.created = moment
    props.modified = moment
    props.revision = 1
