"""The printable activation sheets: one page per person, in large type, as a .docx.

Why .docx: the office prints from Word or WPS, as it prints the letters; python-docx is already a
dependency; a page break per person lets the clerk print the file once and hand each page to its
owner. The file carries secrets (the codes), so it is written 0600 and atomically, and says on
every page that nobody else should see the code and that the page is to be destroyed once used.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from docgen.core.errors import UsageError
from docgen.signing.activation import MIN_PIN_LENGTH, ActivationSheet
from docgen.signing.keyfiles import PRIVATE_FILE_MODE, write_atomic
from docgen.signing.stamp import beijing_time

SERVE_URL_PLACEHOLDER = "办公室告知的签署页面地址"
LOCAL_URL = "http://127.0.0.1:8470"  # `docgen serve`'s default, on the office computer itself
_FONT = "仿宋"
_CODE_FONT = "Consolas"


def _run(paragraph: Paragraph, text: str, size: float, *, bold: bool = False,
         font: str = _FONT) -> None:  # fmt: skip
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = font
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), _FONT)


def _line(document: DocxDocument, text: str, size: float, *, bold: bool = False,
          center: bool = False, font: str = _FONT) -> Paragraph:  # fmt: skip
    paragraph = document.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(size * 0.6)
    _run(paragraph, text, size, bold=bold, font=font)
    return paragraph


def _page(document: DocxDocument, sheet: ActivationSheet, institution: str, url: str) -> None:
    _line(document, institution, 20, bold=True, center=True)
    _line(document, "电子签名密钥激活单", 26, bold=True, center=True)
    _line(document, f"姓名:{sheet.name}", 18)
    if sheet.title:
        _line(document, f"职务:{sheet.title}", 18)
    _line(document, f"人员编号:{sheet.person_id}", 18)
    _line(document, "激活码:", 18)
    # 22 pt monospace: the 24 characters fit the line with room to spare whatever font stands in
    # for Consolas, so the code never wraps at a hyphen (a trailing "-" read as part of it).
    _line(document, sheet.code, 22, bold=True, center=True, font=_CODE_FONT)
    _line(document, f"证书序列号:{sheet.certificate_serial}", 12)
    _line(document, f"签发时间:{beijing_time(sheet.issued_at)}", 12)
    _line(document, "使用方法:", 15)
    local = "" if url == LOCAL_URL else f",在办公室电脑上为 {LOCAL_URL}"
    _line(document, f"1. 在浏览器中打开签署页面:{url}{local};"
                    "点击“首次激活”;或在办公室电脑上运行下面这条命令:", 15)  # fmt: skip
    # The command on a paragraph of its own, small enough never to break ("--" / "person").
    _line(document, f"docgen keys activate --person {sheet.person_id}", 13, font=_CODE_FONT)
    steps = [
        "2. 输入人员编号和上面的激活码。",
        f"3. 设置只有您本人知道的 PIN(至少 {MIN_PIN_LENGTH} 位,不要用 123456、生日等"
        "容易猜到的数字),输入两次。此后签名只用这个 PIN。",
        "注意:激活码只能使用一次,请勿让他人看到;激活完成后请销毁本单。"
        "办公室不知道也无法找回您的 PIN;忘记时请办公室重新签发(原证书将被吊销)。",
    ]
    for text in steps:
        _line(document, text, 15)


def sheets_docx(sheets: Sequence[ActivationSheet], *, institution: str, url: str) -> bytes:
    """The sheets as one .docx, a page each."""
    document = Document()
    for number, sheet in enumerate(sheets):
        if number:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _page(document, sheet, institution, url)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write_sheets(
    sheets: Sequence[ActivationSheet],
    path: Path,
    *,
    institution: str,
    url: str = SERVE_URL_PLACEHOLDER,
) -> None:
    """Write the printable sheets to ``path`` (.docx, mode 0600: it holds the codes)."""
    if not sheets:
        raise UsageError("没有需要打印的激活单")
    if path.suffix.lower() != ".docx":
        raise UsageError(f"激活单应保存为 .docx 文件:{path}", hint="请换用以 .docx 结尾的文件名")
    write_atomic(path, sheets_docx(sheets, institution=institution, url=url), PRIVATE_FILE_MODE)
