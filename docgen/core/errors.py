"""Every error a user can see derives from :class:`DocgenError`.

The CLI prints :meth:`DocgenError.diagnostics` as one Chinese line and exits with
:attr:`DocgenError.exit_code`; a traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, and inside it a line/row and a field."""

    file: str | None = None
    row: int | None = None
    field: str | None = None
    sheet: str | None = None

    def describe(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(f"文件 {self.file}")
        if self.sheet:
            parts.append(f"工作表 {self.sheet}")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.field:
            parts.append(f"字段“{self.field}”")
        return ",".join(parts)


class DocgenError(Exception):
    """A failure the user can act on: what went wrong, where, and how to fix it."""

    exit_code = EXIT_FAILURE

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def diagnostics(self) -> str:
        text = self.message
        if self.location is not None:
            where = self.location.describe()
            if where:
                text = f"{where}:{text}"
        if self.hint:
            text = f"{text}。{self.hint}" if not text.endswith("。") else f"{text}{self.hint}"
        return text

    def __str__(self) -> str:
        return self.diagnostics()


class UsageError(DocgenError):
    """The command was called wrongly (missing workspace, bad option value)."""

    exit_code = EXIT_USAGE


class ValidationError(DocgenError):
    """Input data (roster, activity, template) is wrong; nothing was written."""


class WorkspaceBusyError(DocgenError):
    """Another docgen process holds the workspace lock."""


class VerificationError(DocgenError):
    """A signature, proof, checkpoint or file did not verify."""


class Problem:
    """One problem in a batch check (a roster has many at once)."""

    __slots__ = ("location", "message", "severity")

    def __init__(self, message: str, location: Location, severity: str = "error") -> None:
        self.message = message
        self.location = location
        self.severity = severity

    def describe(self) -> str:
        where = self.location.describe()
        label = "错误" if self.severity == "error" else "警告"
        return f"[{label}] {where}:{self.message}" if where else f"[{label}] {self.message}"

    def __repr__(self) -> str:
        return f"Problem({self.describe()!r})"


class ProblemsError(ValidationError):
    """Several problems found at once; all of them are reported."""

    def __init__(self, summary: str, problems: Sequence[Problem], *, hint: str | None = None):
        super().__init__(summary, hint=hint)
        self.problems = list(problems)

    def diagnostics(self) -> str:
        lines = [super().diagnostics()]
        lines.extend(p.describe() for p in self.problems)
        return "\n".join(lines)
