"""Run docgen commands in-process and capture what a user would see; shared roster edits."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from docgen.cli import cli
from docgen.cli.common import run_cli


@dataclass(frozen=True)
class CliOutcome:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_docgen(*args: str) -> CliOutcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(cli, list(args))
    return CliOutcome(code, out.getvalue(), err.getvalue())


def move_p045_to_office(roster: Path) -> None:
    """任嘉诚 (P045) moves from 案件管理部 to 办公室 in the demo roster."""
    text = roster.read_text(encoding="utf-8")
    text = text.replace("members: [P044, P045]", "members: [P044]")
    text = text.replace(
        "members: [P010, P011, P012, P013]", "members: [P010, P011, P012, P013, P045]"
    )
    roster.write_text(text, encoding="utf-8")
