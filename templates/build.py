"""Build the three letter templates in this folder (run: ``python templates/build.py``).

The .docx files are committed; this script is how they were made, so they can be rebuilt after a
change to the wording below.  Running it twice gives byte-identical files.  A clerk who only wants
to reword a letter can open the .docx in Word or WPS instead (see README.md).

Typography follows GB/T 9704-2012: A4, margins 37/35/28/26 mm, title 方正小标宋简体 22 pt,
body 仿宋_GB2312 16 pt at an exact 28 pt line, headings 黑体 / 楷体_GB2312, page number 宋体 14 pt
"— 1 —" at the outer bottom (right on odd pages, left on even pages), the document id under it.
Every duty is taken from the 实施办法 and cites its article; the wording, role by role, is in
``letter_text.py``.

Usage: python templates/build.py [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from footer_qr import code_line_with_qr, name_qr_media  # noqa: E402
from letter_text import (  # noqa: E402
    BODY,
    H1,
    H2,
    PLAIN,
    SUBTITLE,
    TAG,
    TITLE,
    integrity_pledge,
    public_commitment,
    responsibility,
)

from docgen.core.glossary import LetterKind  # noqa: E402
from docgen.core.page import set_official_page  # noqa: E402
from docgen.core.workspace import Fonts  # noqa: E402
from docgen.letters.render import normalize_package  # noqa: E402

# The year the template files claim to be from (zip timestamps, core properties).
TEMPLATE_YEAR = 2025
FONTS = Fonts()


LETTERS = {
    LetterKind.RESPONSIBILITY: responsibility,
    LetterKind.PUBLIC_COMMITMENT: public_commitment,
    LetterKind.INTEGRITY_PLEDGE: integrity_pledge,
}

# How the subordinate is called in each letter's signature block.
SUBORDINATE_LABEL = {
    LetterKind.RESPONSIBILITY: "乙方(责任人)",
    LetterKind.PUBLIC_COMMITMENT: "乙方(承诺人)",
    LetterKind.INTEGRITY_PLEDGE: "乙方(承诺人)",
}


# --------------------------------------------------------------------------- formatting


def set_fonts(rpr: Any, font: str) -> None:
    """Name ``font`` for every script, East Asian included (python-docx sets only two)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        style = rpr.find(qn("w:rStyle"))
        rpr.insert(0 if style is None else 1, rfonts)  # schema order: rStyle, rFonts, …
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)


def _first_line_chars(ppr: Any, chars: int, twips: int) -> None:
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    ind.set(qn("w:firstLineChars"), str(chars * 100))
    ind.set(qn("w:firstLine"), str(twips))


STYLE_SPECS: dict[str, dict[str, Any]] = {
    # id: name shown in Word, font, size pt, alignment, exact line pt, indent chars, outline level
    "DocTitle": dict(name="公文标题", font=FONTS.title, size=22, align="center", line=36),
    "DocSubtitle": dict(
        name="公文副标题", font=FONTS.subheading, size=16, align="center", after=28
    ),
    "DocHeading1": dict(name="公文一级标题", font=FONTS.heading, size=16, indent=2, outline=0),
    "DocHeading2": dict(name="公文二级标题", font=FONTS.subheading, size=16, indent=2, outline=1),
    "DocPlain": dict(name="公文无缩进正文", font=FONTS.body, size=16, align="left"),
    "DocSign": dict(name="公文落款", font=FONTS.body, size=16, align="left"),
    "PageNumber": dict(name="公文页码", font=FONTS.page_number, size=14, line=None),
    "DocId": dict(name="公文文书编号", font=FONTS.page_number, size=10.5, line=None),
}
STYLE_FOR = {
    TITLE: "DocTitle",
    SUBTITLE: "DocSubtitle",
    H1: "DocHeading1",
    H2: "DocHeading2",
    BODY: "Normal",
    PLAIN: "DocPlain",
    TAG: "DocPlain",
}
ALIGN = {
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "both": WD_ALIGN_PARAGRAPH.JUSTIFY,
}
KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid"}


def _prune_styles(doc: Any) -> None:
    """Drop the hundred table and list styles of python-docx's default template."""
    root = doc.styles.element
    for style in root.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in KEEP_STYLES:
            root.remove(style)


def _defaults(doc: Any) -> None:
    root = doc.styles.element
    rpr = root.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    set_fonts(rpr, FONTS.body)
    for tag, val in (("w:sz", "32"), ("w:szCs", "32")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        rpr.append(el)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.append(lang)
    ppr = root.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "560")
    spacing.set(qn("w:lineRule"), "exact")


def _paragraph_style(style: Any, spec: dict[str, Any]) -> None:
    style.font.size = Pt(spec["size"])
    set_fonts(style.element.get_or_add_rPr(), spec["font"])
    fmt = style.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(spec.get("after", 0))
    line = spec.get("line", 28)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    fmt.alignment = ALIGN[spec.get("align", "both")]
    chars = spec.get("indent", 0)
    fmt.first_line_indent = Pt(spec["size"] * chars)
    _first_line_chars(style.element.get_or_add_pPr(), chars, int(spec["size"] * chars * 20))
    if "outline" in spec:
        fmt.keep_with_next = True
        level = OxmlElement("w:outlineLvl")
        level.set(qn("w:val"), str(spec["outline"]))
        style.element.get_or_add_pPr().append(level)


def _styles(doc: Any) -> None:
    _prune_styles(doc)
    _defaults(doc)
    normal = doc.styles["Normal"]
    _paragraph_style(normal, dict(font=FONTS.body, size=16, indent=2))
    normal.font.name = FONTS.body
    # 28 characters a line: 156 mm / 28 = 15.79 pt a character, so condense 16 pt text by 0.25 pt.
    # (A Word character grid would do the same, but LibreOffice and WPS misread its charSpace.)
    condense = OxmlElement("w:spacing")
    condense.set(qn("w:val"), "-5")
    normal.element.get_or_add_rPr().find(qn("w:sz")).addprevious(condense)  # schema order
    set_fonts(normal.element.get_or_add_rPr(), FONTS.body)
    for style_id, spec in STYLE_SPECS.items():
        style = doc.styles.add_style(spec["name"], WD_STYLE_TYPE.PARAGRAPH)
        style.style_id = style_id
        style.base_style = normal
        style.quick_style = True
        _paragraph_style(style, spec)


def _font_of(style_id: str) -> str:
    if style_id == "Normal":
        return FONTS.body
    return str(STYLE_SPECS[style_id]["font"])


_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})")
_FULLWIDTH = str.maketrans(
    {",": "\uff0c", ";": "\uff1b", ":": "\uff1a", "(": "\uff08", ")": "\uff09"}
)


def fullwidth(text: str) -> str:
    """Chinese punctuation outside placeholders (the seed's text uses ASCII commas and brackets)."""
    parts = _TAG.split(text)
    return "".join(p if i % 2 else p.translate(_FULLWIDTH) for i, p in enumerate(parts))


def _paragraph(doc: Any, container: Any, text: str, style_id: str, reuse: bool = False) -> Any:
    """One paragraph, one run: a placeholder is never split across runs."""
    text = fullwidth(text)
    style = doc.styles.get_by_id(style_id, WD_STYLE_TYPE.PARAGRAPH)
    if reuse:
        paragraph = container.paragraphs[0]
        paragraph.style = style
    else:
        paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        set_fonts(run._r.get_or_add_rPr(), _font_of(style_id))
    return paragraph


def _page_field(paragraph: Any, font: str) -> None:
    """``— PAGE —`` as a real field, so Word and WPS number the pages."""

    def run(text: str | None = None, field: str | None = None, instr: str | None = None) -> None:
        r = paragraph.add_run()
        set_fonts(r._r.get_or_add_rPr(), font)
        if text is not None:
            r.text = text
        if field is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), field)
            r._r.append(el)
        if instr is not None:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            r._r.append(el)

    run("— ")
    run(field="begin")
    run(instr=" PAGE ")
    run(field="separate")
    run("1")
    run(field="end")
    run(" —")


def _footer(doc: Any, footer: Any, align: str) -> None:
    footer.is_linked_to_previous = False
    first = _paragraph(doc, footer, "", "PageNumber", reuse=True)
    first.alignment = ALIGN[align]
    # GB/T 9704: 单页码居右空一字,双页码居左空一字.
    if align == "right":
        first.paragraph_format.right_indent = Pt(14)
    else:
        first.paragraph_format.left_indent = Pt(14)
    _page_field(first, FONTS.page_number)
    odd = align == "right"  # under it: 编号 outer, 核验码 inner beside the QR code (footer_qr.py)
    code, doc_id = "核验码:{{ verify_code }}", "编号:{{ doc_id }}"
    line = _paragraph(doc, footer, f"{code}\t{doc_id}" if odd else f"{doc_id}\t{code}", "DocId")
    set_fonts(code_line_with_qr(line, inner_left=odd, outer_indent=Pt(14)), FONTS.page_number)


def _section(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    set_official_page(section, footer_distance_mm=18)
    doc.settings.odd_and_even_pages_header_footer = True
    # 22 lines: 225 mm / 22 = 28.95 pt line pitch (the exact 28 pt spacing of the styles governs).
    grid = section._sectPr.find(qn("w:docGrid"))
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), "579")
    _footer(doc, section.footer, "right")
    _footer(doc, section.even_page_footer, "left")


def _signature_table(doc: Any, kind: LetterKind) -> None:
    """Both parties side by side: name, title, a line to sign on, a date to fill in."""
    _paragraph(doc, doc, "", "DocPlain")
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    parties = (
        ("甲方(责任领导)", "superior"),
        (SUBORDINATE_LABEL[kind], "subordinate"),
    )
    for cell, (label, who) in zip(table.rows[0].cells, parties, strict=True):
        cell.width = Mm(78)
        _paragraph(doc, cell, f"{label}:{{{{ {who}_name }}}}", "DocSign", reuse=True)
        for line in (f"职务:{{{{ {who}_title }}}}", "签名:______________", "日期:____年__月__日"):
            _paragraph(doc, cell, line, "DocSign")


def _settings(doc: Any) -> None:
    root = doc.settings.element
    preview = root.find(qn("w:savePreviewPicture"))
    if preview is not None:
        root.remove(preview)
    lang = root.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")


def _drop_parts(doc: Any) -> None:
    """Keep only what a letter needs: no thumbnail, custom XML or Word 2010 style copy."""
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rid]
    unwanted = {
        RT.CUSTOM_XML,
        "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects",
    }
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype in unwanted:
            del doc.part.rels[rid]


# Font table entries, so Word and WPS substitute sensibly where a 公文 font is not installed
# (Windows ships 仿宋 and 楷体, not their _GB2312 variants).  GB2312 charset is 86.
FONT_TABLE = (
    (FONTS.title, "宋体", "roman", "variable"),
    (FONTS.body, "仿宋", "modern", "fixed"),
    (FONTS.subheading, "楷体", "modern", "fixed"),
    (FONTS.heading, "SimHei", "modern", "fixed"),
    (FONTS.page_number, "SimSun", "auto", "variable"),
)


def _font_table(doc: Any) -> None:
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/word/fontTable.xml":
            entries = "".join(
                f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
                f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'
                for name, alt, family, pitch in FONT_TABLE
            )
            part._blob = part.blob.replace(b"</w:fonts>", entries.encode("utf-8") + b"</w:fonts>")


APP_XML = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    b"<Application>docgen</Application><DocSecurity>0</DocSecurity></Properties>"
)


def _app_properties(doc: Any) -> None:
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = APP_XML


def build(kind: LetterKind) -> bytes:
    """The template for ``kind``, as .docx bytes."""
    from datetime import datetime

    doc = Document()
    _drop_parts(doc)
    _app_properties(doc)
    _font_table(doc)
    _settings(doc)
    _styles(doc)
    body = doc.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)
    _section(doc)
    for style, text in LETTERS[kind]():
        _paragraph(doc, doc, text, STYLE_FOR[style])
    _signature_table(doc, kind)
    props = doc.core_properties
    props.title = kind.title
    props.subject = "依据《落实党风廉政建设主体责任和监督责任实施办法(试行)》第九条"
    props.author = ""
    props.comments = "docgen 模板:可在 Word/WPS 中修改文字,双花括号中的占位符请整体保留"
    props.keywords = "党风廉政建设"
    props.language = "zh-CN"
    props.last_modified_by = "docgen"
    props.revision = 1
    props.created = datetime(TEMPLATE_YEAR, 1, 1)
    props.modified = datetime(TEMPLATE_YEAR, 1, 1)
    name_qr_media(doc)
    out = io.BytesIO()
    doc.save(out)
    return normalize_package(out.getvalue(), year=TEMPLATE_YEAR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成 templates/*.docx 模板")
    parser.add_argument("--out", type=Path, default=HERE, help="输出目录(默认为本目录)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in LetterKind:
        path = args.out / f"{kind.value}.docx"
        path.write_bytes(build(kind))
        print(f"{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
