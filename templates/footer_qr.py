"""The verification QR code in a letter template's footers (used by ``build.py``).

Each footer gets a 20 mm picture anchored to the page at the inner side of its bottom margin
(left on odd pages, right on even pages, opposite the page number), level with the footer's
last line, which carries the 核验码 next to it.  The picture floats (``wp:anchor``, no text
wrapping) inside the 35 mm bottom margin: it never changes the height of the footer, so the
body of a letter flows exactly as without it and the signature block stays where it was.

The picture is a placeholder: its ``wp:docPr`` is named :data:`QR_PICTURE_NAME`, by which
``docgen.letters.render`` finds the media part it shows and puts each letter's own QR code
there.  Both footers show the one media part ``word/media/qr.png``.
"""

from __future__ import annotations

import io
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.packuri import PackURI
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Length, Mm

from docgen.letters.render import QR_PICTURE_NAME
from docgen.records.letter_code import SCHEME, qr_png

QR_SIZE_MM = 20
QR_BOTTOM_MM = 12  # from the bottom edge of the page to the bottom of the picture
QR_GAP_MM = 2  # between the picture and the 核验码
QR_MEDIA = "/word/media/qr.png"
# What the placeholder says when a template itself is scanned.
PLACEHOLDER_PAYLOAD = f"{SCHEME}:模板中的示例二维码,生成文书时替换为每份文书的二维码"
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
LEFT_MARGIN_MM, RIGHT_MARGIN_MM = 28, 26


def _emu(mm: float) -> int:
    return int(Mm(mm))


def _anchor(inline: Any, *, x_mm: float, y_mm: float, shape_id: int) -> Any:
    """A ``wp:anchor`` showing ``inline``'s picture at (x, y) mm from the page's top left."""
    extent = inline.find(qn("wp:extent"))
    graphic = inline.find(qn("a:graphic"))
    anchor = parse_xml(
        f"<wp:anchor {nsdecls('wp', 'a')}"
        ' distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1"'
        ' behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        f'<wp:positionH relativeFrom="page"><wp:posOffset>{_emu(x_mm)}</wp:posOffset>'
        "</wp:positionH>"
        f'<wp:positionV relativeFrom="page"><wp:posOffset>{_emu(y_mm)}</wp:posOffset>'
        "</wp:positionV>"
        f'<wp:extent cx="{extent.get("cx")}" cy="{extent.get("cy")}"/>'
        '<wp:effectExtent l="0" t="0" r="0" b="0"/>'
        "<wp:wrapNone/>"
        f'<wp:docPr id="{shape_id}" name="{QR_PICTURE_NAME}" descr="核验二维码"/>'
        '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
        "</wp:anchor>"
    )
    anchor.append(graphic)
    return anchor


def code_line_with_qr(paragraph: Any, *, inner_left: bool, outer_indent: Length) -> Any:
    """Lay out a footer's last line, ``核验码<tab>编号`` (``编号<tab>核验码`` on even pages), to
    start beside the QR code and end at the outer side, and anchor the placeholder QR picture to
    it; returns the ``w:rPr`` of the run that holds the picture, for its fonts."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
    fmt, inner = paragraph.paragraph_format, Mm(QR_SIZE_MM + QR_GAP_MM)
    sides = (inner, outer_indent) if inner_left else (outer_indent, inner)
    fmt.left_indent, fmt.right_indent = sides
    text_width = Mm(PAGE_WIDTH_MM - LEFT_MARGIN_MM - RIGHT_MARGIN_MM)
    fmt.tab_stops.add_tab_stop(text_width - fmt.right_indent, WD_TAB_ALIGNMENT.RIGHT)
    run = _add_qr_picture(paragraph, inner_left=inner_left, shape_id=1 if inner_left else 2)
    return run._r.get_or_add_rPr()


def _add_qr_picture(paragraph: Any, *, inner_left: bool, shape_id: int) -> Any:
    run = paragraph.add_run()
    inline = run.part.new_pic_inline(io.BytesIO(qr_png(PLACEHOLDER_PAYLOAD)), Mm(QR_SIZE_MM))
    x = LEFT_MARGIN_MM if inner_left else PAGE_WIDTH_MM - RIGHT_MARGIN_MM - QR_SIZE_MM
    y = PAGE_HEIGHT_MM - QR_BOTTOM_MM - QR_SIZE_MM
    drawing = parse_xml(f"<w:drawing {nsdecls('w')}/>")
    drawing.append(_anchor(inline, x_mm=x, y_mm=y, shape_id=shape_id))
    run._r.append(drawing)
    return run


def name_qr_media(doc: Any) -> None:
    """Call the placeholder's image part ``word/media/qr.png`` (python-docx says image1.png)."""
    for part in doc.part.package.iter_parts():
        if part.content_type == "image/png":
            part.partname = PackURI(QR_MEDIA)
