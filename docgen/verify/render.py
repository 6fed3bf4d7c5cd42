"""A verification's report as data and text (the CLI prints them): the plain JSON-able data of
``--json``, written a letter at a time for a streamed year, and the human checklist with ✓/✗.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from docgen.verify.model import MIB, CheckResult, LetterReport, LetterStatus
from docgen.verify.report import VerifyReport, VerifyTally


def _head_data(
    ok: bool,
    summary: str,
    total: int,
    count: Callable[[LetterStatus], int],
    checks: Iterable[CheckResult],
) -> dict[str, Any]:
    return {
        "ok": ok,
        "summary": summary,
        "counts": {"total": total, **{status.value: count(status) for status in LetterStatus}},
        "checks": [
            {"name": c.name, "ok": c.ok, "state": c.state, "detail": c.detail, "file": c.file}
            for c in checks
        ],
    }


def letter_data(letter: LetterReport) -> dict[str, Any]:
    """One letter of ``report_data``."""
    return {
        "doc_id": letter.doc_id,
        "path": letter.path,
        "status": letter.status.value,
        "status_label": letter.status.label,
        "steps": [
            {
                "number": s.number,
                "name": s.name,
                "ok": s.ok,
                "skipped": s.skipped,
                "detail": s.detail,
                "file": s.file,
            }
            for s in letter.steps
        ],
        "signatures": [
            {
                "signer": sig.signer,
                "name": sig.name,
                "party": sig.party,
                "signing_time": sig.signing_time,
                "recorded_at": sig.recorded_at,
                "registry_index": sig.registry_index,
            }
            for sig in letter.signatures
        ],
        "missing": [p.id for p in letter.missing] if letter.void is None else [],
    }


def report_data(report: VerifyReport) -> dict[str, Any]:
    """The report as plain JSON-able data, for ``--json``."""
    data = _head_data(report.ok, report.summary(), len(report.letters), report.count, report.checks)
    data["letters"] = [letter_data(letter) for letter in report.letters]
    return data


class JsonReport:
    """``json.dumps(report_data(report), ensure_ascii=False, indent=2)`` of a streamed
    verification, written without holding the letters: each letter's text goes to ``spool`` as it
    comes, and the head (ok, counts, checks), which needs all of them, is written first when they
    are all in. See ``json_report``."""

    def __init__(self, spool: IO[str]) -> None:
        self._letters = spool
        self._count = 0

    def add(self, letter: LetterReport) -> None:
        text = json.dumps(letter_data(letter), ensure_ascii=False, indent=2)
        # The letter's lines one level deeper, as in the whole report: its strings hold no
        # line feed (JSON escapes it), so every "\n" of the text starts a line.
        self._letters.write(
            ("[\n" if not self._count else ",\n") + _INDENT + text.replace("\n", "\n" + _INDENT)
        )
        self._count += 1

    def chunks(self, tally: VerifyTally) -> Iterator[str]:
        """The whole JSON text, in pieces (no final line feed, as ``json.dumps``)."""
        head = json.dumps(
            _head_data(tally.ok, tally.summary(), tally.total, tally.count, tally.checks),
            ensure_ascii=False,
            indent=2,
        )
        assert head.endswith("\n}")
        yield head[:-2] + ',\n  "letters": '
        if not self._count:
            yield "[]"
        else:
            self._letters.seek(0)
            while piece := self._letters.read(MIB):
                yield piece
            yield "\n  ]"
        yield "\n}"


@contextmanager
def json_report(in_memory_bytes: int = MIB) -> Iterator[JsonReport]:
    """A ``JsonReport`` whose letters wait in a temporary file (in memory while small)."""
    with tempfile.SpooledTemporaryFile(
        max_size=in_memory_bytes, mode="w+", encoding="utf-8"
    ) as spool:
        yield JsonReport(spool)


_INDENT = "    "


def letter_lines(letter: LetterReport, *, verbose: bool = True) -> list[str]:
    """A letter's lines of the checklist: its status, then its steps (only when ``verbose`` or
    it is not verified)."""
    head = f"{letter.status.label}  {letter.doc_id or '(编号未知)'}  {letter.path}"
    lines = [
        (
            "✓ "
            if letter.status is LetterStatus.VERIFIED
            else "✗ "
            if letter.status is LetterStatus.FAILED
            else "• "
        )
        + head
    ]
    if verbose or letter.status is not LetterStatus.VERIFIED:
        for step in letter.steps:
            detail_lines = step.detail.split("\n")
            lines.append(f"    {step.mark} {step.number}. {step.name}:{detail_lines[0]}")
            lines.extend(f"         {extra}" for extra in detail_lines[1:])
    return lines


def closing_lines(checks: Sequence[CheckResult], summary: str) -> list[str]:
    """The lines after the letters: the container checks, then the summary."""
    lines: list[str] = []
    if checks:
        lines.append("整体检查:")
        for check in checks:
            where = f"[{check.file}] " if check.file else ""
            lines.append(f"    {check.mark} {check.name}:{where}{check.detail}")
    lines.append(summary)
    return lines


def report_lines(report: VerifyReport, *, verbose: bool = True) -> list[str]:
    """The human checklist: per letter its steps with ✓/✗, then container checks, then a summary."""
    lines = [line for letter in report.letters for line in letter_lines(letter, verbose=verbose)]
    return lines + closing_lines(report.checks, report.summary())
