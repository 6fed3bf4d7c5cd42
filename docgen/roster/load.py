"""Load a roster (名册) and check it, reporting every problem at once.

The roster is YAML because a clerk edits it by hand. It is read as YAML nodes or events
rather than as plain Python values, for two reasons: every message can then name the line of
the offending field, and scalars keep the text the clerk typed (``id: 007`` stays ``"007"``
instead of becoming the integer 7).

Two readers give the same results. The streaming one (:mod:`docgen.roster.stream_reader`)
reads libyaml's events one entry at a time, straight from the file, and keeps no node tree: a
roster of 10⁵ people loads in about a second and a half with a few MiB beyond the roster itself.
It accepts only rosters without structural problems; anything else (a problem to report,
anchors and aliases, several documents, a file that is not UTF-8) is read again whole by the
tree reader (:mod:`docgen.roster.tree_reader`, over ``yaml.compose``), which gives every message
with its line.

Checking is split in two: :func:`parse_roster_text` turns YAML into a :class:`Roster` and
reports structural problems (syntax, missing fields, unknown roles); :func:`check_roster`
reports problems of meaning (duplicate ids, unknown references, who may head or supervise
what; :mod:`docgen.roster.check`). :func:`load_roster` runs both and refuses a roster with any
error. This module holds the entry points: reading a file, inspecting, loading, summarising.
"""

from __future__ import annotations

import gc
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from docgen.core.errors import Location, Problem, ProblemsError, ValidationError
from docgen.core.models import Roster
from docgen.roster.check import check_roster, in_file_order
from docgen.roster.names import normalise_name
from docgen.roster.stream_reader import parse_streaming
from docgen.roster.tree_reader import parse_tree
from docgen.roster.vocabulary import RosterCheck, RosterLocator


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a roster is read.

    Reading makes hundreds of thousands of objects that all stay alive until the roster is
    built; the collector would walk them over and over (at 10⁵ people that was two thirds of
    the load). They form no cycles that need collecting early; collection resumes after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_roster_text(
    text: str, source: str | None = None
) -> tuple[Roster | None, list[Problem], RosterLocator]:
    """Build a roster from YAML text, with the structural problems found on the way.

    The roster leaves out entries that are too broken to use; they are among the problems.
    ``None`` when the text is not YAML at all.

    A roster without structural problems is read by :func:`parse_streaming` (one entry at a
    time, no node tree); anything else is read again by :func:`parse_tree`, which gives every
    message with its line. Both give equal results on a roster the streaming reader accepts.
    """
    with _gc_paused():
        fast = parse_streaming(text, source)
        if fast is not None:
            return fast[0], [], fast[1]
        return parse_tree(text, source)


def inspect_roster_text(text: str, source: str | None = None) -> RosterCheck:
    roster, problems, locator = parse_roster_text(text, source)
    if roster is not None:
        problems.extend(check_roster(roster, locator))
    return RosterCheck(roster=roster, problems=in_file_order(problems))


def read_roster_text(path: Path) -> str:
    """The file's text; a missing file or bad encoding is one clear error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(
            "找不到名册文件",
            location=Location(file=str(path)),
            hint="请先运行 docgen init,或用 docgen roster import 从人员表生成",
        ) from exc
    except IsADirectoryError as exc:
        raise ValidationError("名册路径是一个目录", location=Location(file=str(path))) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            "名册不是 UTF-8 编码",
            location=Location(file=str(path), row=line),
            hint="请用记事本或 WPS“另存为 UTF-8”后重试",
        ) from exc


def inspect_roster(path: Path) -> RosterCheck:
    """Read and check a roster file; every problem is in the result, nothing is raised
    except for a file that cannot be read at all."""
    fast = _stream_roster_file(path)
    if fast is not None:
        roster, locator = fast
        return RosterCheck(roster=roster, problems=in_file_order(check_roster(roster, locator)))
    return inspect_roster_text(read_roster_text(path), str(path))


def _stream_roster_file(path: Path) -> tuple[Roster, RosterLocator] | None:
    """:func:`parse_streaming` straight from a regular file, decoded as
    :func:`read_roster_text` decodes it (one leading BOM dropped, line ends kept); ``None``
    when the file is to be read whole instead (it cannot be opened, is not a regular file,
    is not UTF-8, or has anything for the tree reader to report)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open(encoding="utf-8-sig", newline="") as stream, _gc_paused():
            return parse_streaming(stream, str(path))
    except OSError:
        return None


def summary_line(check: RosterCheck) -> str:
    people = len(check.roster.people) if check.roster else 0
    departments = len(check.roster.departments) if check.roster else 0
    return (
        f"共 {people} 人,{departments} 个部门;"
        f"错误 {len(check.errors)} 条,警告 {len(check.warnings)} 条"
    )


def raise_for_errors(check: RosterCheck, source: str | None) -> Roster:
    if check.roster is None or check.errors:
        raise ProblemsError(
            f"名册{f' {source} ' if source else ''}有 {len(check.errors)} 处错误,"
            f"{len(check.warnings)} 处警告",
            check.problems,
            hint="请逐条修改后运行 docgen roster check",
        )
    return with_normalised_names(check.roster)


def with_normalised_names(roster: Roster) -> Roster:
    """The roster with every name in the form it is used everywhere (``roster check`` warns of
    each name it changes)."""
    if all(normalise_name(p.name) == p.name for p in roster.people):
        return roster
    people = tuple(replace(p, name=normalise_name(p.name)) for p in roster.people)
    return replace(roster, people=people)


def load_roster(path: Path) -> Roster:
    """The roster at ``path``; raises :class:`ProblemsError` listing every problem if it
    has any error (warnings alone do not block)."""
    return raise_for_errors(inspect_roster(path), str(path))
