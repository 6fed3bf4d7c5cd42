"""``docgen activity``: the ledger of meetings, talks, inspections and reports."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from docgen.cli.common import echo, now_utc, open_workspace, workspace_option
from docgen.core.articles import article_label
from docgen.core.glossary import ActivityKind
from docgen.duties.activity_rules import kinds_help
from docgen.duties.ledger import (
    Activity,
    ActivityInput,
    activities_in_workspace,
    read_activity_file,
    record_in_workspace,
    void_in_workspace,
)

_KINDS_HELP = "、".join(f"{k.label}" for k in ActivityKind)


@click.group("activity")
def activity() -> None:
    """活动登记:党组专题会议、约谈、谈心谈话、廉政党课、督察、专项治理、交换意见等。

    每条活动写入登记簿(与文书、签名同一本可验证日志),登记后不能修改,
    登错的可用 activity void 作废。docgen duties 和 docgen report 据此统计。
    """


def _describe(a: Activity) -> str:
    who = "、".join(a.participants)
    extra = "".join(
        f" {label} {value}"
        for label, value in (
            ("报送", "、".join(a.recipients)),
            ("等次", a.grade),
            ("处理方式", a.disposition),
        )
        if value
    )
    return (
        f"{a.activity_id} {a.date.isoformat()} {a.kind.label}({article_label(a.article)})"
        f" 主持人 {a.actor}" + (f" 参加人 {who}" if who else "") + extra
    )


@activity.command("add")
@workspace_option
@click.option("--kind", required=True, help=f"类型:{_KINDS_HELP}(也可用英文代码)")
@click.option("--date", "day", required=True, help="日期,YYYY-MM-DD")
@click.option("--actor", required=True, help="主持人/责任人(编号或姓名)")
@click.option("--participants", default="", help="参加人/谈话对象,逗号分隔(编号或姓名)")
@click.option("--note", default="", help="备注,例如会议议题")
@click.option(
    "--recipients",
    default="",
    help="报送机关,逗号分隔:年度报告(第九条第3项:县委、县纪委、市院;第十三条第10项:县纪委、"
    "市检院纪检组)和问题线索报告(第十三条第8项:县纪委、市检院纪检组)必填,每个机关都要登记",
)
@click.option(
    "--grade",
    default="",
    help="考核等次(优秀、良好、一般、较差;第十四条、第十八条第9项、第二十二条第3项)",
)
@click.option(
    "--disposition", default="", help="处理方式(直办、督办、转办、阅处、留存;第十三条第11项)"
)
def add(
    workspace_path: Path | None,
    kind: str,
    day: str,
    actor: str,
    participants: str,
    note: str,
    recipients: str,
    grade: str,
    disposition: str,
) -> None:
    """登记一项活动。谁能主持、谁能参加按实施办法检查,例如约谈须由党组书记对班子成员。

    类型及条款依据:有频次的计入 docgen duties 的期限;“适时”“及时”或未定频次的只登记和报告,
    不计逾期(不另定频次)。
    """
    ws = open_workspace(workspace_path)
    raw = ActivityInput(
        kind=kind,
        date=day,
        actor=actor,
        participants=participants,
        note=note,
        recipients=recipients,
        grade=grade,
        disposition=disposition,
    )
    (recorded,) = record_in_workspace(ws, [raw], now=now_utc())
    echo(f"已登记(登记序号 {recorded.index}):{_describe(recorded)}")


add.help = inspect.cleandoc(add.help or "") + "\n\n\b\n" + kinds_help()


@activity.command("import")
@workspace_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(workspace_path: Path | None, file: Path) -> None:
    """从 .xlsx 或 .csv 整批导入活动(表头:类型、日期、主持人、参加人、备注)。

    任何一行有错都不登记,并列出每个错误所在的行和列。
    """
    ws = open_workspace(workspace_path)
    recorded = record_in_workspace(ws, read_activity_file(file), now=now_utc())
    first, last = recorded[0].index, recorded[-1].index
    echo(f"已从 {file} 导入 {len(recorded)} 项活动(登记序号 {first}–{last})。")


@activity.command("list")
@workspace_option
@click.option("--year", type=int, default=None, help="只列某年度(默认:全部)")
@click.option("--all", "include_voided", is_flag=True, help="也列出已作废的活动")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def list_command(
    workspace_path: Path | None, year: int | None, include_voided: bool, as_json: bool
) -> None:
    """列出登记簿中的活动(从登记簿读出)。"""
    ws = open_workspace(workspace_path)
    found = activities_in_workspace(ws, year=year, include_voided=include_voided)
    if as_json:
        rows = [
            {**a.record(), "kind_label": a.kind.label, "index": a.index, "voided": a.voided}
            for a in found
        ]
        echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        echo("登记簿中没有活动。用 docgen activity add 或 docgen activity import 登记。")
        return
    table = Table(title="活动登记" + (f"({year}年度)" if year else ""))
    for column in ("序号", "编号", "日期", "类型", "条款", "主持人", "参加人", "备注"):
        table.add_column(column)
    for a in found:
        table.add_row(
            str(a.index),
            a.activity_id + ("(已作废)" if a.voided else ""),
            a.date.isoformat(),
            a.kind.label,
            a.article,
            a.actor,
            "、".join(a.participants),
            a.note,
        )
    Console(highlight=False, width=None if sys.stdout.isatty() else 200).print(table)
    echo(f"共 {len(found)} 项。")


@activity.command("void")
@workspace_option
@click.argument("activity_id")
@click.option("--reason", required=True, help="作废理由,例如:日期登记错误")
def void_command(workspace_path: Path | None, activity_id: str, reason: str) -> None:
    """作废一项登错的活动。原记录仍留在登记簿中,只是不再计入统计。"""
    ws = open_workspace(workspace_path)
    index = void_in_workspace(ws, activity_id, reason, now=now_utc())
    echo(f"已作废 {activity_id}(登记序号 {index})。如需更正,请重新登记正确的活动。")


@activity.command("kinds")
def kinds_command() -> None:
    """列出可登记的活动类型及其条款依据。"""
    table = Table(title="活动类型")
    for column in ("类型", "代码", "条款"):
        table.add_column(column)
    for k in ActivityKind:
        table.add_row(k.label, k.value, "、".join(article_label(a) for a in k.articles))
    Console(highlight=False).print(table)
