"""``docgen pairings``: who signs which letter with whom, and why."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from docgen.cli.common import echo, open_workspace, workspace_option
from docgen.core.glossary import LETTER_TITLES, LetterKind
from docgen.core.models import PairingResult, Person
from docgen.roster.hierarchy import build_pairings, counts_by_kind, result_as_dict
from docgen.roster.load import load_roster


def _party(person: Person) -> str:
    return f"{person.name}({person.title})"


def _table(result: PairingResult, explain: bool) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for header in ("文书编号", "文书", "甲方", "乙方", "条款"):
        table.add_column(header, no_wrap=True)
    if explain:
        table.add_column("依据")
    for p in result.pairings:
        cells = [
            Text(p.doc_id),
            Text(LETTER_TITLES[p.kind]),
            Text(_party(p.superior)),
            Text(_party(p.subordinate)),
            Text("、".join(p.articles)),
        ]
        if explain:
            cells.append(Text(p.reason))
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
    console = Console(highlight=False, markup=False, emoji=False, width=None if _tty() else 400)
    with console.capture() as captured:
        console.print(_table(result, explain))
    echo("\n".join(line.rstrip() for line in captured.get().splitlines()))
    counts = counts_by_kind(result)
    echo(
        f"{the_year} 年度共 {len(result.pairings)} 份:"
        + ",".join(f"《{LETTER_TITLES[kind]}》{counts[kind]} 份" for kind in LetterKind)
    )
    for note in result.notes:
        echo(f"注:{note}")


def _tty() -> bool:
    return sys.stdout.isatty()
