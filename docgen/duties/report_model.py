"""What a yearly report draft is made of, apart from how it is computed or set.

:mod:`docgen.duties.report` computes a :class:`ReportContent` from the registry and the ledger;
:mod:`docgen.duties.report_docx` sets it in 公文 form. Both read this module, neither the other's
internals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

ATTACHMENT_TITLE = "党风廉政建设责任制落实情况统计表"
TABLE_HEADER = ("序号", "条款", "职责", "责任人", "应完成", "已完成", "逾期", "状态")


def cn_date(day: date) -> str:
    """Arabic numerals, as GB/T 9704 wants for dates: 2027年1月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


class ReportKind(StrEnum):
    MAIN = "main"  # 党组, 主体责任
    SUPERVISION = "supervision"  # 纪检组, 监督责任

    @property
    def label(self) -> str:
        return (
            "党组落实主体责任情况报告" if self is ReportKind.MAIN else "纪检组履行监督责任情况报告"
        )


RECIPIENTS: dict[ReportKind, tuple[str, ...]] = {
    ReportKind.MAIN: ("县委", "县纪委", "市检院党组"),
    ReportKind.SUPERVISION: ("县纪委", "市检院纪检组"),
}
ALL_RECIPIENTS = ("县委", "县纪委", "市检院党组", "市检院纪检组")


PROBLEM_HEADER = ("序号", "条款", "职责", "责任人", "未完成情况", "项数")
TO_FILL = "【待填写】"

# GB/T 15834: Chinese text takes full-width ，：；（）. ASCII ones stay only where they belong
# to an ASCII token: a digit group (1,000), a time (8:30), an id (DOCGEN1:x) or a file name
# (a(1).docx).
_FULL_WIDTH = {",": "\uff0c", ":": "\uff1a", ";": "\uff1b", "(": "\uff08", ")": "\uff09"}
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def _keeps_ascii(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if text[i] == ";":
        return False  # no number, id or file name holds one
    if text[i] == ",":
        return before.isascii() and before.isdigit() and after.isascii() and after.isdigit()
    if text[i] == ")":
        return bool(_ASCII_WORD.fullmatch(before)) and (
            bool(_ASCII_WORD.fullmatch(after)) or after == "."
        )
    return bool(_ASCII_WORD.fullmatch(before)) and bool(_ASCII_WORD.fullmatch(after))


def official_punctuation(text: str) -> str:
    """``text`` with the ASCII ``,:;()`` of Chinese prose made full-width (GB/T 15834)."""
    return "".join(
        _FULL_WIDTH[ch] if ch in _FULL_WIDTH and not _keeps_ascii(text, i) else ch
        for i, ch in enumerate(text)
    )


@dataclass(frozen=True)
class Block:
    """One paragraph of the draft, or a table (``rows`` under ``header``) when ``style`` is
    ``table``. ``style`` says how 公文 sets it."""

    text: str
    style: Literal["body", "h1", "h2", "table"] = "body"
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ReportContent:
    kind: ReportKind
    recipient: str  # short key: 县委, 县纪委, 市检院党组, 市检院纪检组
    addressee: str  # 主送机关 as printed
    title: str
    blocks: tuple[Block, ...]
    table_rows: tuple[tuple[str, ...], ...]
    issuer: str  # 发文机关署名
    issued: date  # 成文日期
    year: int
    institution: str
    attachment_title: str = ATTACHMENT_TITLE
    table_header: tuple[str, ...] = TABLE_HEADER
    # The signing deadline (年初) and how many letters were completed only after it (逾期补签):
    # the body says so in its letters paragraph (docgen.duties.signing.late_sentence).
    signing_deadline: date | None = None
    late_letters: int = 0

    @property
    def issued_text(self) -> str:
        return cn_date(self.issued)

    @property
    def reference(self) -> str:
        """发文字号 of the 上行文: 机关代字〔year〕序号, for the office to fill in."""
        return f"{TO_FILL}〔{self.issued.year}〕{TO_FILL}号"

    @property
    def signer(self) -> str:
        """签发人 (GB/T 9704 7.2.3): the office writes the name of whoever signs it off."""
        return TO_FILL

    @property
    def file_stem(self) -> str:
        return f"{self.year}年度{self.kind.label}_{self.recipient}"
