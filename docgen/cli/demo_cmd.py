"""``docgen demo``."""

from __future__ import annotations

from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, progress
from docgen.demo.run import run_demo


@click.command("demo")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="demo-ws")
def demo(directory: Path) -> None:
    """完整演示:虚构的县检察院 → 生成 → 签发证书 → 签名 → 登记 → 验证 → 归档 → 报告。"""
    result = run_demo(directory, now=now_utc(), say=echo, progress=progress)
    echo("")
    echo("演示完成。各项成果:")
    for label, path in result.artefacts.items():
        echo(f"  {label}:{path}")
