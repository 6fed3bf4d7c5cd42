"""``docgen duties``: what the seed requires of whom, and what is done, due or overdue."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from docgen.cli.common import echo, now_utc, open_workspace, workspace_option
from docgen.core.articles import article_label
from docgen.core.errors import EXIT_FAILURE, UsageError
from docgen.core.models import Roster
from docgen.core.workspace import atomic_write
from docgen.duties.engine import DutiesReport, duties_in_workspace, duties_workbook

_COLOURS = {"done": "green", "late": "magenta", "due": "yellow", "overdue": "red"}


def parse_day(value: str, option: str) -> date:
    """A strict ``YYYY-MM-DD`` option value."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{option} 的日期“{value}”不存在", hint="请检查月份和日数") from None
    raise UsageError(f"{option} 的日期“{value}”格式不对", hint="请写成 YYYY-MM-DD,例如 2027-03-31")


@click.command("duties")
@workspace_option
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option("--as-of", "as_of", default=None, help="统计截至日期 YYYY-MM-DD(默认:今天)")
@click.option("--person", default=None, help="只看某人的职责(编号)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option(
    "--xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None, help="另存为 Excel"
)
def duties(
    workspace_path: Path | None,
    year: int | None,
    as_of: str | None,
    person: str | None,
    as_json: bool,
    xlsx: Path | None,
) -> None:
    """按人、按期列出实施办法规定的各项职责:已完成、待完成、逾期,并注明条款。

    依据活动登记簿和登记簿中的签署记录统计。有逾期事项时退出码为 1。
    """
    ws = open_workspace(workspace_path)
    day = parse_day(as_of, "--as-of") if as_of else now_utc().date()
    roster, report = duties_in_workspace(ws, year or ws.config.default_year, day)
    if person is not None:
        if person not in roster.by_id():
            raise UsageError(f"名册中没有人员 {person}", hint="--person 请填写名册中的人员编号")
        report = report.for_person(person)
    if xlsx is not None:
        atomic_write(xlsx, duties_workbook(report, roster))
    if as_json:
        data = asdict(report)
        data["counts"] = {s: report.count(s) for s in ("done", "late", "due", "overdue")}
        data["signing_deadline"] = ws.config.signing.describe
        echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        _render(report, roster)
        echo(f"签订截止日:{ws.config.signing.describe}。")
        if xlsx is not None:
            echo(f"已另存为 {xlsx}")
    if report.count("overdue"):
        raise click.exceptions.Exit(EXIT_FAILURE)


def _render(report: DutiesReport, roster: Roster) -> None:
    names = {p.id: p.name for p in roster.people}
    table = Table(title=f"{report.year}年度党风廉政建设职责落实情况(截至 {report.as_of})")
    for column in ("条款", "职责", "责任人", "对象", "期间", "期限", "完成", "状态"):
        table.add_column(column)
    for o in report.obligations:
        counterpart = names.get(o.counterpart_id, o.counterpart_id) if o.counterpart_id else ""
        table.add_row(
            article_label(o.article),
            o.duty + (f"({o.detail})" if o.detail else ""),
            names.get(o.person_id, o.person_id) if o.person_id else "党组",
            counterpart or (o.department or ""),
            o.period,
            o.due.isoformat(),
            f"{o.done}/{o.required}" + (f"(另逾期完成 {o.late})" if o.late else ""),
            f"[{_COLOURS[o.status]}]{o.status_label}[/]",
        )
    # Piped output is for grep and files: do not wrap rows at 80 columns.
    Console(highlight=False, width=None if sys.stdout.isatty() else 200).print(table)
    echo(
        f"共 {len(report.obligations)} 项:已完成 {report.count('done')},"
        f"逾期完成 {report.count('late')},"
        f"待完成 {report.count('due')},逾期 {report.count('overdue')}。"
    )
    if report.records:
        echo("实施办法未规定频次(“适时”“及时”等)的事项,只登记和报告,不计逾期:")
        for record in report.records:
            echo(f"  {record.line}")
    for note in report.notes:
        echo(f"说明:{note}")
