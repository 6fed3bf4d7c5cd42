"""Shared CLI plumbing: the workspace option, error rendering, exit codes, progress."""

from __future__ import annotations

import getpass
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from docgen.cli.usage_text import chinese_usage
from docgen.core.errors import EXIT_FAILURE, EXIT_USAGE, DocgenError, UsageError
from docgen.core.workspace import Workspace, find_workspace
from docgen.registry.clock import registry_clock

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def workspace_option(func: F) -> F:
    """Add ``--workspace`` (default: the current directory) to a command."""
    return click.option(
        "--workspace",
        "-w",
        "workspace_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="工作目录(默认:当前目录)",
    )(func)


def open_workspace(workspace_path: Path | None) -> Workspace:
    return find_workspace(workspace_path if workspace_path is not None else Path.cwd())


def now_utc() -> datetime:
    """The clock, read only here at the edge; everything below takes ``now`` as an argument."""
    fixed = os.environ.get("DOCGEN_NOW")
    if fixed:
        return datetime.fromisoformat(fixed).astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)


def _read_hidden(prompt: str) -> str:
    """A line typed without echo on a terminal; read from standard input otherwise (a script's
    pipe), without getpass's English warning."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    click.echo(prompt, err=True, nl=False)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        click.echo("", err=True)
        raise click.Abort
    return line.rstrip("\r\n")


def read_secret(label: str, *, confirm: bool = False) -> str:
    """A passphrase or PIN typed by the user, asked twice when ``confirm`` (a new one)."""
    first = _read_hidden(f"{label}:")
    if not confirm:
        return first
    second = _read_hidden(f"请再输入一次{label}:")
    if first != second:
        raise UsageError(f"两次输入的{label}不一致", hint="请重新运行命令,两次输入同一个口令")
    return first


def echo(text: str = "") -> None:
    click.echo(text)


def fail(message: str) -> None:
    click.echo(message, err=True)


def run_cli(group: click.Group, argv: list[str] | None = None) -> int:
    """Run the click group, turning every DocgenError into one clear message and an exit code."""
    raw = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in raw
    args = [a for a in raw if a != "--verbose"]
    try:
        # Without standalone mode click returns (not raises) the code of ``Exit`` from a command.
        # Registry times: the clock read under the append lock, unless DOCGEN_NOW fixes the time.
        with registry_clock(live=not os.environ.get("DOCGEN_NOW")):
            result = group.main(args=args, prog_name="docgen", standalone_mode=False)
    except DocgenError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"错误:{exc.diagnostics()}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("已取消。", err=True)
        return EXIT_FAILURE
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a group typed alone: its help, which lists what to type next
        return EXIT_USAGE
    except click.UsageError as exc:
        click.echo(f"错误:{chinese_usage(exc)}", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        click.echo(f"错误:{exc.format_message()}", err=True)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        click.echo("已中断。", err=True)
        return 130
    except OSError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"错误:读写文件失败:{exc.strerror or exc}({exc.filename or ''})", err=True)
        return EXIT_FAILURE
    return result if isinstance(result, int) else 0


def invoke(group: click.Group, args: list[str]) -> int:
    """Run a command in-process (for tests and the demo), with the same error handling."""
    return run_cli(group, list(args))


class RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/秒")


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar with rate and ETA on a TTY; silent otherwise."""
    if not sys.stderr.isatty() or total == 0:
        yield lambda _n: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def tracked(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    with progress(total, label) as advance:
        for item in items:
            yield item
            advance(1)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
