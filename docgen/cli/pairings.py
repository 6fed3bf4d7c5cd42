"""``docgen pairings``: who signs which letter with whom, and why."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from docgen.cli.common import echo, open_workspace, workspace_option
from docgen.core.glossary import LETTER_TITLES, LetterKind
from docgen.core.models import PairingResult, Person, Roster
from docgen.roster.functions import article7_lines
from docgen.roster.hierarchy import build_pairings, counts_by_kind, result_as_dict
from docgen.roster.load import load_roster


def _party(person: Person) -> str:
    return f"{person.name}({person.title})"


def _table(result: PairingResult) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for header in ("文书编号", "文书", "甲方", "乙方", "条款"):
        table.add_column(header, no_wrap=True)
    for p in result.pairings:
        cells = [
            Text(p.doc_id),
            Text(LETTER_TITLES[p.kind]),
            Text(_party(p.superior)),
            Text(_party(p.subordinate)),
            Text("、".join(p.articles)),
        ]
        table.add_row(*cells)
    return table


@click.command("pairings")
@workspace_option
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--explain", is_flag=True, help="列出每份文书的签订依据(条款原意)")
def pairings(workspace_path: Path | None, year: int | None, as_json: bool, explain: bool) -> None:
    """列出本年度应签订的全部文书:文书编号、甲方、乙方、依据条款。

    按第九条第5至7项、第十条第3项、第十一条第2项:党组书记与班子成员、分管院领导与部门负责人
    签订《党风廉政建设责任书》《公开承诺书》,部门负责人与本部门工作人员签订《廉洁从检承诺书》。
    """
    ws = open_workspace(workspace_path)
    the_year = year if year is not None else ws.config.default_year
    roster = load_roster(ws.roster_path)
    result = build_pairings(roster, the_year, ws.config.pairing, source=str(ws.roster_path))
    if as_json:
        data = {"year": the_year, "institution": roster.institution, **result_as_dict(result)}
        echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if explain:
        _print_explained(result)
        _print_article7(roster)
    else:
        console = Console(highlight=False, markup=False, emoji=False, width=None if _tty() else 400)
        with console.capture() as captured:
            console.print(_table(result))
        echo("\n".join(line.rstrip() for line in captured.get().splitlines()))
    counts = counts_by_kind(result)
    echo(
        f"{the_year} 年度共 {len(result.pairings)} 份:"
        + ",".join(f"《{LETTER_TITLES[kind]}》{counts[kind]} 份" for kind in LetterKind)
    )
    console = Console(highlight=False, markup=False, emoji=False, width=_width())
    with console.capture() as captured:
        for note in result.notes:
            console.print(Text(f"注:{note}"))
    echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


EXPLAIN_WIDTH = 100  # columns of --explain when not on a terminal (a file, less, a printer)


def _print_explained(result: PairingResult) -> None:
    """Each letter on a line of its own, its grounds as an indented paragraph wrapped to the
    terminal (CJK characters take two columns), so no line is wider than the screen."""
    console = Console(highlight=False, markup=False, emoji=False, width=_width())
    with console.capture() as captured:
        for p in result.pairings:
            console.print(
                Text(f"{p.doc_id}  《{LETTER_TITLES[p.kind]}》  条款 {'、'.join(p.articles)}")
            )
            parties = f"甲方 {_party(p.superior)};乙方 {_party(p.subordinate)}"
            console.print(Padding(Text(parties), (0, 0, 0, 4)))
            console.print(Padding(Text(f"依据:{p.reason}"), (0, 0, 0, 4)))
    echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _print_article7(roster: Roster) -> None:
    """Which departments are 第七条's 相关职能部门 (their letters carry its paragraph), and why:
    the roster's 职能 field or, where it does not state one, the department's name."""
    console = Console(highlight=False, markup=False, emoji=False, width=_width())
    with console.capture() as captured:
        console.print(Text("第七条 相关职能部门(除本部门责任外,承担党组履行主体责任的相关责任):"))
        for line in article7_lines(roster):
            console.print(Padding(Text(line), (0, 0, 0, 4)))
    echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _width() -> int:
    return min(Console().width, EXPLAIN_WIDTH) if _tty() else EXPLAIN_WIDTH


def _tty() -> bool:
    return sys.stdout.isatty()
