"""``docgen report``: .docx drafts of the yearly reports (articles 9.3, 12(二)6, 13.10)."""

from __future__ import annotations

from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, open_workspace, workspace_option
from docgen.cli.duties import parse_day
from docgen.duties.report import reports_in_workspace
from docgen.duties.report_model import ALL_RECIPIENTS


@click.command("report")
@workspace_option
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option(
    "--kind",
    type=click.Choice(["main", "supervision", "all"]),
    default="all",
    show_default=True,
    help="main:党组落实主体责任情况报告;supervision:纪检组履行监督责任情况报告",
)
@click.option(
    "--to",
    "to",
    type=click.Choice([*ALL_RECIPIENTS, "all"]),
    default="all",
    show_default=True,
    help="主送机关",
)
@click.option("--date", "day", default=None, help="成文日期 YYYY-MM-DD(默认:今天),也是统计截至日期")
def report(
    workspace_path: Path | None, year: int | None, kind: str, to: str, day: str | None
) -> None:
    """起草年度报告(.docx,公文格式):党组报县委、县纪委、市检院党组;纪检组报县纪委、市检院纪检组。

    数字均取自登记簿和活动登记簿,需要办公室撰写的内容标为【待填写】。
    """
    ws = open_workspace(workspace_path)
    issued = parse_day(day, "--date") if day else now_utc().date()
    written = reports_in_workspace(
        ws, year or ws.config.default_year, issued=issued, kind=kind, to=to
    )
    for w in written:
        echo(f"已生成 {w.kind.label}(主送{w.recipient}):{w.path}")
    echo("请补充【待填写】处的内容后按程序报送。")
