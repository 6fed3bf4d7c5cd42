"""``docgen pdf --year Y``: the PDF/A-2b rendition of every registered letter that lacks one."""

from __future__ import annotations

from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, open_workspace, progress, workspace_option
from docgen.core.errors import Location, Problem, ProblemsError
from docgen.letters.rendition import BATCH, Change, RenditionResult, make_renditions
from docgen.letters.soffice import INSTALL_COMMAND

_SC_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")


@click.command("pdf")
@workspace_option
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="同时运行的 LibreOffice 进程数(默认:CPU 核数);结果与进程数无关",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=BATCH,
    show_default=True,
    help="每个 LibreOffice 进程一次转换的文书份数",
)
def pdf(workspace_path: Path | None, year: int | None, jobs: int | None, batch: int) -> None:
    """为已登记的文书生成 PDF/A-2b 副本(与 .docx 同名同目录),并登记。

    用 LibreOffice 按登记的 .docx 内容转换;登记后被改动过的 .docx 不转换。重复运行不会改动
    已有的 PDF;作废的文书不再生成。需要安装 LibreOffice 和中文字体:
    apt install libreoffice-writer-nogui fonts-noto-cjk
    """
    ws = open_workspace(workspace_path)
    year = year or ws.config.default_year
    result = make_renditions(ws, year, now=now_utc(), jobs=jobs, batch=batch, progress=progress)
    show_renditions(result, ws.year_dir(year))
    fail_on_refused(result)


def show_renditions(result: RenditionResult, year_dir: Path) -> None:
    """What a run of :func:`make_renditions` did, the fonts it used, and any substitution."""
    echo(
        f"{result.year} 年度 PDF 副本:新生成 {result.count(Change.NEW)} 份,"
        f"恢复 {result.count(Change.RESTORED)} 份,重新生成 {result.count(Change.REMADE)} 份,"
        f"已有 {result.unchanged} 份未变化"
        + (f",作废的文书 {result.voided} 份不生成" if result.voided else "")
        + "。"
    )
    if result.made:
        _show_fonts(result)
        echo(f"PDF 与 .docx 在同一目录:{year_dir}")


def _show_fonts(result: RenditionResult) -> None:
    if result.font_uses is None:
        echo("注意:本机没有 fontconfig 的 fc-match,未能检查所配置的字体是否安装;")
        echo("  PDF 实际嵌入的字体见下一行和登记记录(fonts)。")
    elif result.substituted:
        pairs = ",".join(f"{use.requested}→{use.used or '(无)'}" for use in result.substituted)
        echo(
            f"注意:本机未安装 docgen.toml 中配置的字体,PDF 中以相近字体代替:{pairs}。"
            "字形为简体中文,但不是原字体;安装原字体后删除 PDF 再运行 docgen pdf 可重新生成。"
        )
        if any(use.used not in _SC_FAMILIES for use in result.substituted):
            echo(
                "注意:代替字体不是 Noto CJK SC,PDF 中的汉字可能显示为日文字形或方框;"
                f"请安装中文字体:{INSTALL_COMMAND}"
            )
    if result.fonts:
        names = "、".join(f"{name}({count} 份)" for name, count in result.fonts.items())
        echo(f"PDF 嵌入的字体:{names}(Noto CJK 各地区共用一套字体程序,名称中的 jp 不表示日文字形)")


def fail_on_refused(result: RenditionResult) -> None:
    """Exit 1 listing the letters whose .docx was not the registered one."""
    if result.refused:
        raise ProblemsError(
            f"{len(result.refused)} 份文书的 .docx 与登记不符,未生成 PDF",
            [
                Problem(f"文书 {doc_id}:{why}", Location(file=path))
                for doc_id, path, why in result.refused
            ],
            hint="运行 docgen generate 按登记内容恢复这些文书,再运行 docgen pdf",
        )
