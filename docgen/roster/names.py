"""People as a clerk types them: names with Excel's padding, lists with Chinese separators.

Excel and WPS pad two-character names to the width of three with a full-width space ("吕　敏"),
and lists are typed with "，" and "、" as often as with ",". A name is kept in one form everywhere
(certificate, file names, letters, reports), so it is normalised where it enters: spaces between
two CJK characters are removed, full-width letters, digits and spaces become ASCII (Unicode NFKC
applied to those characters only: NFKC of a whole name would also rewrite the CJK compatibility
ideographs some rare names are written with), and runs of spaces between Latin words become one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from docgen.core.errors import Location, ValidationError
from docgen.core.models import Person, Roster

# Separators of a typed list: ASCII and full-width comma and semicolon, 顿号, and whitespace.
LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")
_PUNCTUATION_SEPARATORS = re.compile(r"[,，、;；]+")
_SPACES = "\u0020\u00a0\u3000\u2002\u2003\u2009\u200a"
_SPACE_RUN = re.compile(f"[{_SPACES}]+")


def _is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) == "W" and unicodedata.category(char) in {"Lo", "Lm"}


def _narrow(char: str) -> str:
    """Full-width ASCII (U+FF01–U+FF5E) and the ideographic space as their ASCII forms."""
    if "\uff01" <= char <= "\uff5e" or char in _SPACES:
        return unicodedata.normalize("NFKC", char).replace("\u00a0", " ") or " "
    return char


def normalise_name(text: str) -> str:
    """``"  吕　敏 "`` → ``"吕敏"``; ``"Ｌｉ  Ｍｉｎｇ"`` → ``"Li Ming"``; other text unchanged."""
    narrowed = "".join(_narrow(c) for c in text.strip(_SPACES + "\t\r\n"))
    parts = _SPACE_RUN.split(narrowed)
    out = parts[0]
    for part in parts[1:]:
        if out and part and _is_cjk(out[-1]) and _is_cjk(part[0]):
            out += part
        else:
            out += " " + part
    return out.strip()


def split_list(value: str | Sequence[str]) -> list[str]:
    """Items of a typed list, each once, in order: "吕敏，李四、王五" or a sequence of items."""
    items = LIST_SEPARATORS.split(value) if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if text and text not in out:
            out.append(text)
    return out


def split_people(roster: Roster, value: str | Sequence[str]) -> list[str]:
    """Items of a typed list of people. Punctuation separates; a space separates only where
    the text around it is not one person's name ("吕　敏" is one person, "张三 李四" two)."""
    if not isinstance(value, str):
        return split_list(value)
    known = {p.id.lower() for p in roster.people} | {normalise_name(p.name) for p in roster.people}
    out: list[str] = []
    for piece in _PUNCTUATION_SEPARATORS.split(value):
        whole = normalise_name(piece)
        if not whole:
            continue
        items = [whole] if whole in known or whole.lower() in known else split_list(piece)
        out.extend(i for i in items if i not in out)
    return out


def find_people(roster: Roster, text: str) -> list[Person]:
    """Everyone ``text`` may mean: the person with that id (case does not matter), else the
    people of that name (spaces and full-width forms do not matter)."""
    key = normalise_name(text)
    by_id = [p for p in roster.people if p.id == key]
    if not by_id:
        by_id = [p for p in roster.people if p.id.lower() == key.lower()]
    if by_id:
        return by_id[:1]
    return [p for p in roster.people if normalise_name(p.name) == key]


def resolve_person(roster: Roster, text: str, location: Location) -> Person:
    """A person by id, or by name when the name is unique in the roster; otherwise a Chinese
    error that lists the people of an ambiguous name with their ids."""
    key = normalise_name(text)
    if not key:
        raise ValidationError("缺少人员", location=location, hint="请填写名册中的人员编号或姓名")
    found = find_people(roster, key)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        ids = "、".join(p.id for p in found)
        who = "、".join(f"{p.id} {p.name}({p.title})" for p in found)
        raise ValidationError(
            f"姓名“{key}”在名册中有 {len(found)} 人({ids})",
            location=location,
            hint=f"同名时请填写人员编号:{who}",
        )
    raise ValidationError(
        f"名册中没有人员“{key}”",
        location=location,
        hint="请填写名册中的人员编号或姓名,或先更新名册(docgen roster check)",
    )
