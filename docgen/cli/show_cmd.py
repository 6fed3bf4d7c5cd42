"""``docgen show DOC_ID``: a letter's text in the terminal, read from the registered file."""

from __future__ import annotations

from pathlib import Path

import click

from docgen.cli.common import echo, open_workspace, workspace_option
from docgen.records.reading import letter_text


@click.command("show")
@workspace_option
@click.argument("doc_id", metavar="文书编号")
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
def show(workspace_path: Path | None, doc_id: str, year: int | None) -> None:
    """显示一份文书的全文(从登记的 .docx 读取,先核对与登记簿一致),供签署前阅读。"""
    ws = open_workspace(workspace_path)
    year = year or ws.config.default_year
    letter = letter_text(ws, doc_id.strip(), year)
    echo(f"《{letter.title}》 {letter.doc_id}" + ("(已作废)" if letter.voided else ""))
    echo(f"文件:{letter.path}")
    if letter.pdf is not None:
        echo(f"PDF:{letter.pdf}")
    echo("-" * 40)
    for paragraph in letter.paragraphs:
        echo(paragraph)
