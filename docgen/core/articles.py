"""Article references such as ``"9.5"`` rendered the way the regulation writes them."""

from __future__ import annotations

from collections.abc import Iterable

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals, as used in 第二十一条."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    prefix = "十" if tens == 1 else f"{_DIGITS[tens]}十"
    return prefix + (_DIGITS[ones] if ones else "")


def article_label(ref: str) -> str:
    """``"9.5"`` → ``第九条第5项``; ``"12(6)"`` → ``第十二条第(六)项``; ``"6"`` → ``第六条``;
    ``"12.2.6"`` → ``第十二条第(二)项第6目`` (article 12's items are numbered within 办公室 (一)
    and 政工科 (二))."""
    ref = ref.strip()
    if "(" in ref:
        article, _, item = ref.partition("(")
        return f"第{chinese_number(int(article))}条第({chinese_number(int(item.rstrip(')')))})项"
    if ref.count(".") == 2:
        article, item, sub = ref.split(".")
        return f"第{chinese_number(int(article))}条第({chinese_number(int(item))})项第{int(sub)}目"
    article, _, item = ref.partition(".")
    label = f"第{chinese_number(int(article))}条"
    return f"{label}第{item}项" if item else label


def articles_label(refs: Iterable[str]) -> str:
    return "、".join(article_label(r) for r in refs)
