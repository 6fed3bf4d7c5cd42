"""``docgen status`` and ``docgen void``."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from docgen.cli.common import echo, now_utc, open_workspace, workspace_option
from docgen.cli.duties import parse_day
from docgen.core.errors import EXIT_FAILURE
from docgen.core.jsontext import dumps_indented
from docgen.core.workspace import Workspace
from docgen.records.deadline import Timing
from docgen.records.status import LISTED, LetterStatus, StatusReport, void_letter, year_status


@click.command("status")
@workspace_option
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option("--person", default=None, help="只看某人(编号)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON(列出全部文书)")
@click.option(
    "--as-of", "as_of", default=None, help="按哪一天判断逾期,YYYY-MM-DD(默认:今天)"
)
def status(
    workspace_path: Path | None,
    year: int | None,
    person: str | None,
    as_json: bool,
    as_of: str | None,
) -> None:
    """签订进度:每份文书谁已签、谁未签,每人还要签什么。

    退出码:0 表示全部文书已由双方签完;1 表示还有文书未签完(或名册要求的文书尚未生成、
    登记的文书缺少文件),并不表示出错——脚本可据此判断是否已全部签完;2 表示命令用法有误。

    按 docgen.toml [signing] deadline(签订截止日,默认当年1月31日;第十条第3项、第十一条第2项
    “年初”签订)标出逾期补签(截止日后才签完)和逾期未签(截止日已过仍未签完)的文书。
    文书超过 1000 份时,只逐份列出尚未签完的前 1000 份,其余计数;--person 或 --json 可看全部。
    """
    ws = open_workspace(workspace_path)
    chosen = year or ws.config.default_year
    day = parse_day(as_of, "--as-of") if as_of else now_utc().date()
    if as_json:
        report = _print_json(ws, chosen, person, day)
    else:
        report = year_status(
            ws, chosen, person=person, listed=None if person else LISTED, as_of=day
        )
        _render(report)
    if not report.all_complete:
        raise click.exceptions.Exit(EXIT_FAILURE)


def _print_json(ws: Workspace, year: int, person: str | None, as_of: date) -> StatusReport:
    """The whole report as JSON — the text of ``json.dumps(asdict(report), indent=2)`` with every
    letter listed — with the letters spooled to a temporary file as they are read, so a year of
    10⁵ letters is not held, and nothing is printed if reading fails half-way."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        separator = ""

        def spill(letter: LetterStatus) -> None:
            nonlocal separator
            spool.write(separator + "\n    ")
            spool.write(dumps_indented(asdict(letter), indent=2, newline="\n    "))
            separator = ","

        report = year_status(ws, year, person=person, listed=0, each=spill, as_of=as_of)
        # Late and overdue letters are in "letters" with their "timing": not listed twice.
        whole = dataclasses.replace(
            report, letters=(), unlisted=0, late_letters=(), overdue_letters=()
        )
        head, tail = json.dumps(asdict(whole), ensure_ascii=False, indent=2).split(
            '"letters": []', 1
        )
        out = sys.stdout
        out.write(head + '"letters": [')
        spool.seek(0)
        shutil.copyfileobj(spool, out)
        out.write(("\n  ]" if separator else "]") + tail + "\n")
        out.flush()
    return report


def _who(letter: LetterStatus, person_id: str) -> str:
    """A party by name, as the clerk knows them (the id after it, for the commands)."""
    for party in (letter.superior, letter.subordinate):
        if party.id == person_id:
            return f"{party.name}({party.id})"
    return person_id


def _render(report: StatusReport) -> None:
    # Off a terminal (a file, a pipe) rich would assume 80 columns and cut names and ids.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    # The deadline is one day for the whole year: said once above the table, and the last
    # column says where each letter stands against it (it was empty before the deadline).
    deadline = date.fromisoformat(report.deadline)
    echo(f"签订截止日:{report.year}年{deadline.month}月{deadline.day}日,即{report.deadline_rule}。")
    table = Table(title=f"{report.year} 年度签订情况")
    # The letter id is what `docgen void` and `docgen sign --doc` take: never cut it short.
    width = max((len(s.doc_id) for s in report.letters), default=8)
    table.add_column("文书编号", no_wrap=True, min_width=width)
    for column in ("文书", "甲方", "乙方", "状态", "未签", "按期情况"):
        table.add_column(column)
    for s in report.letters:
        table.add_row(
            s.doc_id,
            s.kind.title,
            s.superior.name,
            s.subordinate.name,
            s.label if not s.voided or s.missing_files else f"已作废({s.void_reason})",
            "、".join(_who(s, pid) for pid in s.missing) if not s.voided else "",
            _timing(s),
        )
    console.print(table)
    if report.unlisted:
        echo(
            f"……另有 {report.unlisted} 份文书未逐一列出(上表只列尚未签完的文书,至多 {LISTED} 份);"
            "用 --person 编号 查看某人的全部文书,或用 --json 导出全部。"
        )
    for c in report.counts:
        echo(f"{c.kind.title}:有效 {c.active} 份,已完成 {c.complete} 份,已作废 {c.voided} 份")
    _render_deadline(report)
    waiting = [t for t in report.todo if t.waiting]
    if waiting:
        echo("待签清单:")
        for t in waiting:
            echo(f"  {t.person_id} {t.name}:还有 {len(t.waiting)} 份待签({'、'.join(t.waiting)})")
    if report.not_generated:
        missing = "、".join(report.not_generated)
        echo(f"名册要求但尚未生成的文书 {len(report.not_generated)} 份:{missing}")
        echo("请运行 docgen generate。")
    if report.files_missing:
        echo(
            f"登记簿中已登记、但 output/{report.year}/ 中缺少文件的文书 {report.files_missing} 份"
            "(登记的文书不能删除;请从备份恢复这些文件,再用 docgen verify 核对):"
        )
        for s in report.missing_files:
            echo(f"  {s.doc_id}:缺少 {'、'.join(s.missing_files)}")
        if report.files_missing > len(report.missing_files):
            echo(f"  ……另有 {report.files_missing - len(report.missing_files)} 份未逐一列出")
    if report.all_complete:
        echo("全部文书已由双方签署完毕。")


def _timing(s: LetterStatus) -> str:
    """The letter against the deadline, with the day it was completed when it was late."""
    if s.timing == Timing.LATE:
        return f"逾期补签({_md(s.signed_on)})" if s.signed_on else "逾期补签(签署时间不明)"
    if s.timing == Timing.PENDING:
        return "未到截止日"
    if s.timing == Timing.VOIDED:
        return "—"
    return s.timing_label


def _md(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.month}月{day.day}日"


def _render_deadline(report: StatusReport) -> None:
    if report.as_of and report.as_of <= report.deadline:
        echo(f"截至 {report.as_of} 尚未到截止日,未签完的文书不算逾期。")
    echo(
        f"逾期补签(截止日后才签完){report.late} 份,"
        f"逾期未签(截至 {report.as_of or '—'} 仍未签完){report.overdue} 份。"
    )
    for title, letters, total in (
        ("逾期补签", report.late_letters, report.late),
        ("逾期未签", report.overdue_letters, report.overdue),
    ):
        if not letters:
            continue
        echo(f"{title}清单:")
        for s in letters:
            when = f",{_md(s.signed_on)}签完" if s.timing == Timing.LATE and s.signed_on else ""
            made = f",{_md(s.generated_on)}生成" if s.generated_on > report.deadline else ""
            waiting = "、".join(_who(s, pid) for pid in s.missing)
            tail = f",待 {waiting} 签" if waiting else ""
            echo(f"  {s.doc_id} {s.kind.title}{when}{made}{tail}")
        if total > len(letters):
            echo(f"  ……另有 {total - len(letters)} 份未逐一列出")


@click.command("void")
@workspace_option
@click.argument("doc_id")
@click.option("--reason", required=True, help="作废原因,例如:人员调离")
def void(workspace_path: Path | None, doc_id: str, reason: str) -> None:
    """作废一份文书。作废记录写入登记簿,文书本身仍保留在登记簿和年度档案中。"""
    ws = open_workspace(workspace_path)
    letter = void_letter(ws, doc_id, reason, now=now_utc())
    index = letter.void.index if letter.void else ""
    echo(f"已作废 {letter.doc_id}(原因:{reason}),登记序号 {index}。")
    echo("如需重新签订,请运行 docgen generate --reissue。")
