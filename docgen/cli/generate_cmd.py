"""``docgen generate``: one letter per pairing, registered, with a manifest — and, where
LibreOffice is installed, the PDF rendition of each letter (as ``docgen pdf``)."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, open_workspace, progress, workspace_option
from docgen.cli.pdf_cmd import fail_on_refused, show_renditions
from docgen.core.glossary import LetterKind
from docgen.core.workspace import Workspace
from docgen.letters.generate import Change, GenerateResult, generate
from docgen.letters.rendition import make_renditions
from docgen.letters.soffice import INSTALL_COMMAND, find_soffice

# DOCGEN_PDF=0: generate makes no PDF renditions (docgen pdf still does). The test suite sets it;
# a user may, to generate quickly and make the PDFs later.
PDF_SWITCH = "DOCGEN_PDF"

_LABELS = {
    Change.NEW: "新生成",
    Change.UNCHANGED: "未变化",
    Change.RESTORED: "已恢复",
    Change.UPDATED: "已更新",
    Change.REISSUED: "已重新签发",
    Change.NEEDS_REISSUE: "待确认重签",
    Change.OBSOLETE: "已过时",
    Change.VOIDED: "已作废",
}


@click.command("generate")
@workspace_option
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option("--reissue", is_flag=True, help="确认作废已变化或已过时的已签文书并重新签发")
@click.option("--yes", "-y", is_flag=True, help="不询问,直接确认(与 --reissue 一起用)")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="并行生成的进程数(默认:CPU 核数);结果与进程数无关",
)
@click.option("--no-pdf", is_flag=True, help="不生成 PDF 副本(以后可运行 docgen pdf 生成)")
def generate_command(
    workspace_path: Path | None,
    year: int | None,
    reissue: bool,
    yes: bool,
    jobs: int | None,
    no_pdf: bool,
) -> None:
    """按名册和模板生成全部责任书、承诺书,登记并写出 manifest.json。

    装有 LibreOffice 时,同时为每份文书生成 PDF/A 副本并登记(同 docgen pdf)。
    """
    ws = open_workspace(workspace_path)
    year = year or ws.config.default_year
    now = now_utc()
    result = generate(ws, year, now=now, reissue=False, progress=progress, jobs=jobs)
    if result.pending_confirmation and not reissue and sys.stdin.isatty() and not yes:
        _show(result, ws.year_dir(year))
        if click.confirm("以上文书需要作废并重新签发,是否继续?", default=False):
            result = generate(ws, year, now=now, reissue=True, progress=progress, jobs=jobs)
    elif reissue and result.pending_confirmation:
        if not yes and sys.stdin.isatty():
            _show(result, ws.year_dir(year))
            click.confirm("以上文书将被作废并重新签发,是否继续?", abort=True)
        result = generate(ws, year, now=now, reissue=True, progress=progress, jobs=jobs)
    _show(result, ws.year_dir(year))
    _renditions(ws, year, now, jobs, skip=no_pdf or os.environ.get(PDF_SWITCH) == "0")


def _renditions(ws: Workspace, year: int, now: datetime, jobs: int | None, *, skip: bool) -> None:
    """The PDF renditions of the letters in force, or one line saying why there are none."""
    if skip:
        echo(f"未生成 PDF 副本(--no-pdf 或 {PDF_SWITCH}=0);需要时运行 docgen pdf --year {year}")
        return
    if find_soffice() is None:
        echo(
            f"提示:未找到 LibreOffice,本次没有生成文书的 PDF 副本。"
            f"安装:{INSTALL_COMMAND};装好后运行 docgen pdf --year {year}"
        )
        return
    result = make_renditions(ws, year, now=now, jobs=jobs, progress=progress)
    show_renditions(result, ws.year_dir(year))
    fail_on_refused(result)


def _show(result: GenerateResult, year_dir: Path) -> None:
    for note in result.notes:
        echo(f"提示:{note}")
    for outcome in result.outcomes:
        if outcome.change is Change.UNCHANGED:
            continue
        detail = f"({outcome.detail})" if outcome.detail else ""
        echo(f"  {_LABELS[outcome.change]}  {outcome.doc_id}  {outcome.path}{detail}")
    listed_new = sum(1 for outcome in result.outcomes if outcome.change is Change.NEW)
    if result.count(Change.NEW) > listed_new:
        echo(
            f"  ……另有 {result.count(Change.NEW) - listed_new} 份新生成的文书未逐一列出,"
            f"见清单 {result.manifest.name}"
        )
    counts = result.per_kind()
    echo(
        f"{result.year} 年度文书:"
        + ",".join(f"{kind.title} {counts[kind]} 份" for kind in LetterKind)
        + f",共 {sum(counts.values())} 份。"
    )
    echo(
        f"本次新生成 {result.count(Change.NEW)} 份,更新 {result.count(Change.UPDATED)} 份,"
        f"重新签发 {result.count(Change.REISSUED)} 份,作废 {result.count(Change.VOIDED)} 份,"
        f"未变化 {result.count(Change.UNCHANGED)} 份。"
    )
    waiting = result.count(Change.NEEDS_REISSUE) + result.count(Change.OBSOLETE)
    if waiting:
        echo(
            f"注意:{waiting} 份已签文书已变化或已过时,尚未处理。"
            "确认后运行 docgen generate --reissue 作废并重新签发。"
        )
    echo(f"文书目录:{year_dir}")
    echo(f"清单:{result.manifest}")
