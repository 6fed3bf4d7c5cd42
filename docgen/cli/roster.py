"""``docgen roster check`` and ``docgen roster import``."""

from __future__ import annotations

from pathlib import Path

import click

from docgen.cli.common import echo, open_workspace, workspace_option
from docgen.core.errors import ValidationError
from docgen.core.glossary import INSTITUTION_DEFAULT
from docgen.core.workspace import CONFIG_NAME, Workspace
from docgen.roster.load import inspect_roster, summary_line
from docgen.roster.spreadsheet import import_roster

_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}


@click.group("roster")
def roster() -> None:
    """名册:检查名册(roster check),或从 Excel/CSV 人员表生成名册(roster import)。"""


@roster.command("check")
@workspace_option
@click.argument(
    "path", required=False, type=click.Path(dir_okay=False, path_type=Path), metavar="[名册文件]"
)
def check(workspace_path: Path | None, path: Path | None) -> None:
    """检查名册,一次列出全部错误和警告(默认检查工作目录配置中的名册)。

    有错误时退出码为 1;只有警告时为 0。
    """
    if path is None:
        path = open_workspace(workspace_path).roster_path
    result = inspect_roster(path)
    for problem in result.problems:
        echo(problem.describe())
    if result.ok and not result.problems:
        echo(f"名册 {path} 检查通过。")
    echo(summary_line(result))
    if not result.ok:
        raise ValidationError(
            f"名册 {path} 有 {len(result.errors)} 处错误", hint="请按上面所列逐条修改后重新检查"
        )


def _workspace_for_import(workspace_path: Path | None, output: Path | None) -> Workspace | None:
    """The workspace is needed for the default output path; with ``--output`` it is only
    consulted (for the institution name) when there is one."""
    if output is None or workspace_path is not None:
        return open_workspace(workspace_path)
    if (Path.cwd() / CONFIG_NAME).is_file():
        return open_workspace(None)
    return None


@roster.command("import")
@workspace_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="人员表")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="写入的名册文件(默认:工作目录配置中的名册,通常是 roster.yaml)",
)
@click.option("--sheet", default=None, help="Excel 工作表名称(默认:第一个工作表)")
@click.option("--institution", default=None, help="单位名称(默认:取工作目录配置)")
@click.option("--force", is_flag=True, help="覆盖已有的名册文件")
def import_command(
    workspace_path: Path | None,
    file: Path,
    output: Path | None,
    sheet: str | None,
    institution: str | None,
    force: bool,
) -> None:
    """从 .xlsx 或 .csv 人员表生成名册。

    表头须有 姓名、职务、部门、角色 四列;可选 编号(或 工号)、分管部门(班子成员分管的部门,
    用逗号或顿号分隔)、是否负责人、职能(第七条相关职能部门:办公室、政工科 或 无,
    填在该部门任一行)。没有编号时按行序生成 P001、P002……。CSV 可为 UTF-8 或 GBK 编码。
    有任何错误时不写入文件;已有名册须加 --force 才会覆盖。
    """
    ws = _workspace_for_import(workspace_path, output)
    target = output if output is not None else ws.roster_path if ws is not None else None
    if target is None:
        raise click.UsageError("请用 --output 指定名册文件")
    if institution is None:
        institution = ws.config.institution if ws is not None else INSTITUTION_DEFAULT
    imported = import_roster(file, target, institution=institution, sheet=sheet, force=force)
    where = f"{imported.source}" + (f"(工作表 {imported.sheet})" if imported.sheet else "")
    echo(
        f"已从 {where} 导入 {len(imported.roster.people)} 人、"
        f"{len(imported.roster.departments)} 个部门,写入 {target}"
    )
    if imported.encoding:
        echo(f"CSV 文字编码:{_ENCODING_NAMES.get(imported.encoding, imported.encoding)}")
    if imported.ids_generated:
        echo(f"其中 {imported.ids_generated} 人没有编号,已按行序生成。")
    for problem in imported.warnings:
        echo(problem.describe())
    echo(f"错误 0 条,警告 {len(imported.warnings)} 条。下一步:docgen roster check、docgen pairings")
