"""``docgen sign --as PERSON`` and ``docgen sign import FILES…``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from docgen.cli.common import (
    echo,
    now_utc,
    open_workspace,
    progress,
    read_secret,
    workspace_option,
)
from docgen.core.errors import EXIT_FAILURE, Location
from docgen.records.reading import awaiting
from docgen.registry import open_registry
from docgen.roster.load import load_roster
from docgen.roster.names import resolve_person
from docgen.signing import passphrase as passphrases
from docgen.signing.pdf_sign import not_made_notice, pdfs_unsigned_by
from docgen.signing.sign import sign_as
from docgen.signing.signature_import import import_signatures

LISTED = 50  # letters listed one by one before signing; the rest are counted


@click.group("sign", invoke_without_command=True)
@workspace_option
@click.option("--as", "person", default=None, help="签名人:名册中的编号,或不重名的姓名")
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option("--doc", "doc_id", default=None, help="只签这一份文书(文书编号)")
@click.option("--yes", "-y", is_flag=True, help="不再询问确认(在终端上默认先列出文书并询问)")
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="从文件第一行读取私钥口令(文件权限须为 600);也可用环境变量 DOCGEN_PASSPHRASE",
)
@click.pass_context
def sign(
    ctx: click.Context,
    workspace_path: Path | None,
    person: str | None,
    year: int | None,
    doc_id: str | None,
    yes: bool,
    passphrase_file: Path | None,
) -> None:
    """以本人证书签署所有等待本人签名的文书(分离式 CAdES 签名 .p7s)。

    先列出将要签署的文书(标题、对方、编号);在终端上询问确认后再输入口令。
    签署前可用 docgen show 文书编号 阅读全文。
    在别处(本人电脑上的工作目录副本)所作的签名用 docgen sign import 文件… 导入。
    """
    if ctx.invoked_subcommand is not None:
        if person is not None:
            raise click.UsageError("--as 不能与子命令同用")
        return
    if person is None:  # required unless a subcommand (import) is given
        option = next(p for p in ctx.command.params if p.name == "person")
        raise click.MissingParameter(ctx=ctx, param=option)
    ws = open_workspace(workspace_path)
    year = year or ws.config.default_year
    roster = load_roster(ws.roster_path)
    person_id = resolve_person(roster, person, Location(file=str(ws.roster_path), field="--as")).id
    name = roster.person(person_id).name
    plan = awaiting(ws, person_id, year, doc_id)
    count = len(plan.waiting)
    if not plan.waiting:
        with open_registry(ws) as registry:
            pdfs = pdfs_unsigned_by(registry, person_id, plan.signed)
        if not pdfs:
            if plan.signed:
                echo(f"{name}({person_id})已签署过全部 {len(plan.signed)} 份文书,无需重复签名。")
            else:
                echo(f"{year} 年度没有等待 {name}({person_id})签名的文书。")
            return
        # PDFs made after the letters were signed: signed now, with a stamp on the person's line.
        echo(f"{name}({person_id})已签署全部文书;{len(pdfs)} 份文书的 PDF 转换件尚待本人签署:")
        for pdf_doc in pdfs[:LISTED]:
            echo(f"  {pdf_doc}")
        count = len(pdfs)
    else:
        echo(f"{name}({person_id})将签署 {len(plan.waiting)} 份文书:")
        for line in plan.waiting[:LISTED]:
            echo(f"  {line.doc_id}  《{line.title}》  对方:{line.other_party}")
    if count > LISTED:
        echo(f"  ……另有 {count - LISTED} 份(docgen status --person {person_id})")
    echo("阅读全文:docgen show 文书编号")
    if not yes and sys.stdin is not None and sys.stdin.isatty():
        click.confirm(f"确认以 {name} 的证书签署以上 {count} 份文书?", abort=True)
    secret = passphrases.resolve(
        file=passphrase_file,
        env_name=passphrases.PERSON_ENV,
        prompt=lambda: read_secret(f"{name}({person_id})的私钥口令"),
    )
    result = sign_as(
        ws, person_id, secret, year=year, now=now_utc(), doc_id=doc_id, progress=progress
    )
    for note in result.notes:
        echo(f"注意:{note}")
    for item in result.signed:
        echo(f"  已签名 {item.doc_id}  {item.signature_path}")
    notice = not_made_notice(result.pdf_missing, year)
    if notice is not None:
        echo(notice)
    if result.signed:
        echo(f"{person_id} 本次签署 {len(result.signed)} 份文书,已记入登记簿。")
    elif result.pdf_signed:
        pass  # only PDFs made since: said below
    elif result.already_signed:
        echo(f"{person_id} 已签署过全部 {len(result.already_signed)} 份文书,无需重复签名。")
    else:
        echo(f"{year} 年度没有等待 {person_id} 签名的文书。")
    if result.pdf_signed:
        verb = "同时签署了" if result.signed else "签署了"
        pdfs_signed = len(result.pdf_signed)
        echo(f"{person_id} {verb} {pdfs_signed} 份 PDF 转换件,签章在本人的签名栏,已记入登记簿。")


@sign.command("import")
@workspace_option
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
def import_command(workspace_path: Path | None, files: tuple[Path, ...]) -> None:
    """导入在别处(本人电脑上的工作目录副本)所作的签名文件(.p7s)或已签名的 PDF:逐个完整核验
    (登记的文书内容、本单位根证书、登记簿中现行的吊销列表、签订方本人),通过的放到文书旁并
    记入登记簿;未通过的逐个说明原因,不写入任何文件。有文件被拒绝时退出码为 1。

    签名时间可早于导入时间(如前一晚在家签名、次日导入),但不得早于所签文书(或 PDF)的登记时间;
    证书是否吊销按导入(登记)时判断。
    """
    ws = open_workspace(workspace_path)
    outcomes = import_signatures(ws, list(files), now=now_utc())
    refused = 0
    for item in outcomes:
        if item.accepted:
            echo(f"{item.path}:已登记({item.reason})")
        else:
            refused += 1
            echo(f"{item.path}:拒绝:{item.reason}")
    echo(f"共 {len(outcomes)} 个文件:已登记 {len(outcomes) - refused} 个,拒绝 {refused} 个。")
    if refused:
        raise click.exceptions.Exit(EXIT_FAILURE)
