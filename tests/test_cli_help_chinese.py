"""Every ``--help`` in Chinese to the end (new-user report item 11): Click's own line for the help
option ("Show this message and exit.") read "显示本帮助并退出" in every command and group."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from docgen.cli import cli
from tests.helpers import run_docgen


def _paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _paths(sub, (*path, name))


ALL = list(_paths(cli))


def test_the_walk_finds_the_commands_and_their_subcommands() -> None:
    assert ("keys", "issue") in ALL and ("status",) in ALL and () in ALL
    assert len(ALL) > 30


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "docgen")
def test_help_option_is_described_in_chinese(path: tuple[str, ...]) -> None:
    for flag in ("--help", "-h"):
        out = run_docgen(*path, flag)
        assert out.code == 0, out.text
        assert "Show this message and exit" not in out.out
        assert "显示本帮助并退出" in out.out


def test_version_option_is_described_in_chinese() -> None:
    out = run_docgen("--help")
    assert "Show the version and exit" not in out.out
    assert "显示版本号并退出" in out.out
