"""Run docgen commands in-process and capture what a user would see."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

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
