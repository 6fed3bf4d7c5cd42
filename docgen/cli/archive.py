"""``docgen archive --year Y``: one verified, self-checking zip per year."""

from __future__ import annotations

from pathlib import Path

import click

from docgen.cli.common import echo, open_workspace, progress, workspace_option
from docgen.verify.archive import build_archive
from docgen.verify.model import LetterStatus


@click.command("archive")
@workspace_option
@click.option("--year", type=int, default=None, help="年度(默认:配置中的 default_year)")
@click.option("--partial", is_flag=True, help="允许归档尚未签齐的年度(在索引中列出缺少的签名)")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="归档文件路径(默认:output/<年度>/archive-<年度>.zip)",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="分卷时并行打包的进程数(默认:CPU 核数)",
)
@click.option(
    "--witness",
    "witness_keys",
    multiple=True,
    metavar="见证方公钥",
    help="要求该见证方的副署(可重复;另见 docgen.toml 的 [witness] require),归档带上副署",
)
def archive(
    workspace_path: Path | None,
    year: int | None,
    partial: bool,
    output: Path | None,
    jobs: int | None,
    witness_keys: tuple[str, ...],
) -> None:
    """把一个年度已验证的文书、签名、登记证明、根证书、吊销列表和检查点打包成 zip。

    文书超过 5000 份时分卷(按文件路径排序,每卷 5000 份,各卷可单独核对)。

    每份文书先按 docgen verify 的步骤验证,有任何一份未通过则拒绝归档;有文书未签齐时拒绝归档,
    除非加 --partial。包内的 VERIFY.txt 说明如何只用 sha256sum 和 openssl 核对,verify.sh 自动核对。
    """
    ws = open_workspace(workspace_path)
    year = year or ws.config.default_year
    result = build_archive(
        ws, year, partial=partial, output=output, jobs=jobs, progress=progress,
        witnesses=witness_keys,
    )  # fmt: skip
    echo(
        f"已生成 {year} 年度归档:{result.path}\n"
        f"  文书 {result.total} 份:已签齐 {result.count(LetterStatus.VERIFIED)} 份,"
        f"签名不全 {result.count(LetterStatus.INCOMPLETE)} 份,"
        f"已作废 {result.count(LetterStatus.VOIDED)} 份;共 {result.members} 个文件\n"
        f"  SHA-256:{result.sha256}"
    )
    if len(result.volumes) > 1:
        echo(
            f"  文书超过 {result.volume_letters} 份,按文件路径排序后分 {len(result.volumes)} 卷归档"
            "(每卷自带根证书、检查点和 VERIFY.txt,可单独核对;全年缺一不可):"
        )
        for volume in result.volumes:
            echo(f"    {volume.path}  文书 {volume.letters} 份  SHA-256:{volume.sha256}")
    if result.incomplete:
        echo("这是不完整归档(--partial),以下文书尚未签齐:")
        for letter in result.incomplete:
            who = "、".join(f"{p.name}({p.id})" for p in letter.missing)
            echo(f"  {letter.doc_id}《{letter.title}》尚缺:{who}")
    echo(f"核对方法见包内 VERIFY.txt;也可运行 docgen verify {result.path}")
