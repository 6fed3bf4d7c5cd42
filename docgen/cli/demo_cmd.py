"""``docgen demo``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, progress
from docgen.cli.generate_cmd import PDF_SWITCH
from docgen.demo.run import run_demo


@click.command("demo")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="demo-ws")
def demo(directory: Path) -> None:
    """完整演示:虚构的县检察院 → 生成 → 签发证书 → 签名 → 登记 → 验证 → 归档 → 报告。

    装有 LibreOffice 时,每份文书还生成 PDF/A 副本,由双方各加一个带可见签章的 PDF 签名。
    """
    result = run_demo(
        directory,
        now=now_utc(),
        say=echo,
        progress=progress,
        pdf=os.environ.get(PDF_SWITCH) != "0",
    )
    echo("")
    echo("演示完成。各项成果:")
    for label, path in result.artefacts.items():
        echo(f"  {label}:{path}")
