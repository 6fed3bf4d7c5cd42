"""``docgen verify PATH…``: check letters, directories and archives, step by step."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

import click

from docgen.cli.common import echo, now_utc, open_workspace, workspace_option
from docgen.core.errors import EXIT_FAILURE, DocgenError, UsageError
from docgen.core.parallel import default_jobs
from docgen.core.workspace import Workspace
from docgen.records.code_lookup import letter_for_code
from docgen.registry import Registry, open_registry
from docgen.registry.store import DATABASE_URL_ENV
from docgen.registry.witness_check import required_witnesses
from docgen.verify.anchors import load_trust_anchors
from docgen.verify.archive import workspace_trust
from docgen.verify.model import DEFAULT_TOLERANCE, LetterReport, TrustAnchors
from docgen.verify.paths import stream_verify_paths
from docgen.verify.render import closing_lines, json_report, letter_lines
from docgen.verify.report import VerifyTally
from docgen.verify.witnesses import archive_witness_results, witness_results

_FILE = click.Path(dir_okay=False, path_type=Path)


def _is_archive(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    return (path / "manifest.json").is_file() and (path / "checkpoint.txt").is_file()


def _trust(
    paths: tuple[Path, ...],
    ca: Path | None,
    crl: Path | None,
    verifier_key: Path | None,
    ws: Workspace | None,
    tolerance: timedelta,
) -> TrustAnchors | None:
    given = [p for p in (ca, crl, verifier_key) if p is not None]
    if given:
        if ca is None or crl is None or verifier_key is None:
            raise UsageError(
                "--ca、--crl、--verifier-key 须同时指定",
                hint="三者分别是根证书 ca.pem、吊销列表 crl.pem、登记簿验证公钥 registry.vkey",
            )
        return load_trust_anchors(ca, crl, verifier_key, tolerance=tolerance)
    if ws is None:
        return None
    try:
        return workspace_trust(ws)
    except DocgenError:
        if all(_is_archive(p) for p in paths):
            return None
        raise


def _reference_registry(
    ws: Workspace | None, paths: tuple[Path, ...], online: bool
) -> Registry | None:
    """The workspace's registry, for ``--online`` or when a letter or folder is checked (an
    archive carries its own log); never created by a verification."""
    if ws is None:
        return None
    if not online and all(_is_archive(p) for p in paths):
        return None
    if not online and not os.environ.get(DATABASE_URL_ENV) and not ws.registry_path.exists():
        return None
    return open_registry(ws)


@click.command("verify")
@workspace_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--code",
    metavar="核验码",
    default=None,
    help="按文书页脚的核验码或扫描二维码得到的内容(DOCGEN1:…)找到文书并核验",
)
@click.option("--ca", type=_FILE, default=None, help="根证书 ca.pem(默认:工作目录或归档中的)")
@click.option("--crl", type=_FILE, default=None, help="证书吊销列表 crl.pem")
@click.option("--verifier-key", type=_FILE, default=None, help="登记簿验证公钥 registry.vkey")
@click.option(
    "--online", is_flag=True, help="同时与工作目录中的在线登记簿核对(条目逐字节、一致性证明)"
)
@click.option(
    "--witness",
    "witness_keys",
    multiple=True,
    metavar="见证方公钥",
    help="要求该见证方的副署(可重复;另见 docgen.toml 的 [witness] require)",
)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--failures-only", is_flag=True, help="只列出未通过的文书的检查步骤")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="并行验证的进程数(默认:CPU 核数;在线核对时为 1)",
)
def verify(
    workspace_path: Path | None,
    paths: tuple[Path, ...],
    code: str | None,
    ca: Path | None,
    crl: Path | None,
    verifier_key: Path | None,
    online: bool,
    witness_keys: tuple[str, ...],
    as_json: bool,
    failures_only: bool,
    jobs: int | None,
) -> None:
    """逐份验证文书:文件哈希、登记证明、数字签名、签名人、证书链、吊销状态、签名是否齐全。

    PATH 可以是 .docx 文书、目录(其中所有文书)或归档包 .zip。离线验证只需要签名文件、证明文件、
    根证书、吊销列表和登记簿验证公钥;在工作目录中默认使用 keys/ 下的文件,归档包使用自带的文件。
    签名按登记时登记簿中有效的吊销列表判断。归档包用自带的全部登记条目证明该年度登记的文书
    一份不少;年度目录(output/<年度>)在工作目录中按登记簿核对是否齐全,没有登记簿时无法证明,
    报告为“?”。全部通过(或已作废)时退出码为 0,否则为 1。

    --code 按纸面文书上的核验码(如 7K3M-Q9XD-2PWA)或二维码内容,在工作目录的登记簿中找到
    文书并同样核验;先列出找到的文书编号、标题和双方,请与纸面核对。找不到时退出码为 1。
    """
    if not paths and code is None:
        raise UsageError(
            "没有给出要核验的文书", hint="请给出文书、目录或归档包的路径,或用 --code 给出核验码"
        )
    ws: Workspace | None
    try:
        ws = open_workspace(workspace_path)
    except UsageError:
        if workspace_path is not None or online or code is not None:
            raise
        ws = None
    if code is not None:
        assert ws is not None
        lookup = letter_for_code(ws, code)
        paths = (*paths, lookup.path)
        for line in () if as_json else lookup.lines:
            echo(line)
    tolerance = (
        timedelta(seconds=ws.config.signing_time_tolerance_seconds)
        if ws is not None
        else DEFAULT_TOLERANCE
    )
    trust = _trust(paths, ca, crl, verifier_key, ws, tolerance)
    witnesses = required_witnesses(ws, witness_keys)
    workers = default_jobs() if jobs is None else jobs
    now = now_utc()

    def run(emit: Callable[[LetterReport], None]) -> VerifyTally:
        # Each letter is shown (or spooled, for JSON) as soon as it is verified: a year of 10⁵
        # letters is never held at once. The workspace's registry, when there is one, is what
        # letters and year folders are judged against (read only).
        reference = _reference_registry(ws, paths, online)
        notes: set[str] = set()

        def take(letter: LetterReport) -> None:
            notes.update(letter.checkpoints)
            emit(letter)

        with reference if reference is not None else nullcontext() as registry:
            tally = stream_verify_paths(
                list(paths),
                trust,
                take if witnesses else emit,
                registry if online else None,
                tolerance=tolerance,
                jobs=workers,
                registry=registry,
                workspace=ws,
                now=now,
            )
            if witnesses:
                # an archive is judged by the cosignatures it carries; letters and folders by the
                # workspace's cosigned checkpoints and registry
                for path in paths:
                    if _is_archive(path):
                        tally.checks.extend(archive_witness_results(path, witnesses))
                if not all(_is_archive(p) for p in paths):
                    tally.checks.extend(witness_results(witnesses, notes, trust, ws, registry))
            return tally

    if as_json:
        with json_report() as report:
            tally = run(report.add)
            for piece in report.chunks(tally):
                click.echo(piece, nl=False)
        echo()
    else:
        verbose = not failures_only

        def show(letter: LetterReport) -> None:
            for line in letter_lines(letter, verbose=verbose):
                echo(line)

        tally = run(show)
        for line in closing_lines(tally.checks, tally.summary()):
            echo(line)
    if not tally.ok:
        raise click.exceptions.Exit(EXIT_FAILURE)
