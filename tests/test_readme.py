"""What the README shows works: every command and option it names exists, and the January
workflow it describes runs from start to finish in a fresh workspace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import run_docgen

README = Path(__file__).resolve().parent.parent / "README.md"


def _snippets() -> list[str]:
    return sorted(set(re.findall(r"`docgen ([^`]*)`", README.read_text(encoding="utf-8"))))


def _commands(snippet: str) -> list[tuple[list[str], list[str]]]:
    """``keys init-ca / issue`` → [(["keys", "init-ca"], opts), (["keys", "issue"], opts)]."""
    words = snippet.replace("[", " ").replace("]", " ").split()
    options = [w for w in words if w.startswith("--")]
    head = words[0]
    rest = [w for w in words[1:] if not w.startswith("--")]
    if "/" in rest:
        subs = [w for w in rest if w != "/" and re.fullmatch(r"[a-z-]+", w)]
        return [([head, sub], options) for sub in subs]
    if rest and re.fullmatch(r"[a-z][a-z-]+", rest[0]) and head in {
        "roster", "keys", "registry", "activity"
    }:  # fmt: skip
        return [([head, rest[0]], options)]
    return [([head], options)]


@pytest.mark.parametrize("snippet", _snippets())
def test_every_command_and_option_in_the_readme_exists(snippet: str) -> None:
    for command, options in _commands(snippet):
        out = run_docgen(*command, "--help")
        assert out.code == 0, f"docgen {' '.join(command)}: {out.err}"
        for option in options:
            assert option in out.out, f"docgen {' '.join(command)} 没有 {option} 选项"


def test_the_january_workflow_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_PASSPHRASE", "readme-workflow-secret")
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", "readme-workflow-ca-secret")
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-05T09:00:00+00:00")
    ws = tmp_path / "2027年度"
    steps = [
        ["init", str(ws)],
        ["roster", "check", "-w", str(ws)],
        ["pairings", "--explain", "-w", str(ws)],
        ["generate", "--year", "2027", "-w", str(ws)],
        ["keys", "init-ca", "-w", str(ws)],
        ["keys", "issue", "--all", "-w", str(ws)],
    ]
    for step in steps:
        out = run_docgen(*step)
        assert out.code == 0, f"docgen {' '.join(step)}: {out.err}"
    people = re.findall(r"id: (P\d+)", (ws / "roster.yaml").read_text(encoding="utf-8"))
    for person in people:
        out = run_docgen("sign", "--as", person, "--year", "2027", "-w", str(ws))
        assert out.code == 0, out.err
    status = run_docgen("status", "--year", "2027", "-w", str(ws))
    assert status.code == 0 and "全部文书已由双方签署完毕" in status.out
    verify = run_docgen("verify", "-w", str(ws), str(ws / "output" / "2027"))
    assert verify.code == 0, verify.out + verify.err
    archive = run_docgen("archive", "--year", "2027", "-w", str(ws))
    assert archive.code == 0, archive.err
    assert (ws / "output" / "2027" / "archive-2027.zip").is_file()
    report = run_docgen("report", "--year", "2027", "-w", str(ws), "--date", "2027-12-28")
    assert report.code == 0, report.err
