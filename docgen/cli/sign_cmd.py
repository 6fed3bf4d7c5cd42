"""``docgen sign --as PERSON``."""

from __future__ import annotations

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
from docgen.signing import passphrase as passphrases
from docgen.signing.sign import sign_as


@click.command("sign")
@workspace_option
@click.option("--as", "person_id", required=True, help="签名人编号(名册中的 id)")
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option("--doc", "doc_id", default=None, help="只签这一份文书(文书编号)")
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="从文件第一行读取私钥口令(文件权限须为 600);也可用环境变量 DOCGEN_PASSPHRASE",
)
def sign(
    workspace_path: Path | None,
    person_id: str,
    year: int | None,
    doc_id: str | None,
    passphrase_file: Path | None,
) -> None:
    """以本人证书签署所有等待本人签名的文书(分离式 CAdES 签名 .p7s)。"""
    ws = open_workspace(workspace_path)
    year = year or ws.config.default_year
    secret = passphrases.resolve(
        file=passphrase_file,
        env_name=passphrases.PERSON_ENV,
        prompt=lambda: read_secret(f"{person_id} 的私钥口令"),
    )
    result = sign_as(
        ws, person_id, secret, year=year, now=now_utc(), doc_id=doc_id, progress=progress
    )
    for item in result.signed:
        echo(f"  已签名 {item.doc_id}  {item.signature_path}")
    if result.signed:
        echo(f"{person_id} 本次签署 {len(result.signed)} 份文书,已记入登记簿。")
    elif result.already_signed:
        echo(f"{person_id} 已签署过全部 {len(result.already_signed)} 份文书,无需重复签名。")
    else:
        echo(f"{year} 年度没有等待 {person_id} 签名的文书。")
