"""GB/T 9704-2012 page geometry, shared by the letter templates and the report drafts."""

from __future__ import annotations

from typing import Any

from docx.shared import Mm


def set_official_page(section: Any, *, footer_distance_mm: float) -> None:
    """A4 with the 公文 margins (top 37, bottom 35, left 28, right 26 mm; 版心 156 × 225 mm)."""
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    section.top_margin = Mm(37)
    section.bottom_margin = Mm(35)
    section.left_margin = Mm(28)
    section.right_margin = Mm(26)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(footer_distance_mm)
