"""``docgen init``: create a workspace."""

from __future__ import annotations

from pathlib import Path

import click

from docgen.cli.common import echo
from docgen.letters.workspace_init import init_workspace


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--institution", default="庆城县人民检察院", show_default=True, help="单位名称")
@click.option("--year", type=int, default=2027, show_default=True, help="默认年度")
def init(directory: Path, institution: str, year: int) -> None:
    """新建工作目录:配置文件、示例名册、keys/、output/、可编辑的模板。"""
    created = init_workspace(directory, institution=institution, year=year)
    echo(f"已建立工作目录:{directory.resolve()}")
    for path in created:
        echo(f"  {path}")
    echo(
        "下一步:编辑 roster.yaml(示例名册),或用本单位人员表替换它:"
        "docgen roster import 人员表.xlsx --force;再运行 docgen roster check。"
    )
