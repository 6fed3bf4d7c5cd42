"""``docgen status``: read a page of letters at a time, list at most LISTED letters in the text
report (those still waiting first), stream every letter in ``--json``, and refuse a person id
that neither the roster nor the registry knows."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.records import status as status_module
from docgen.records.status import void_letter, year_status
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_as
from tests.conftest import NOW, PASSPHRASE
from tests.helpers import run_docgen

YEAR = 2027
SECRET = Passphrase(PASSPHRASE.encode(), "测试")
LATER = NOW + timedelta(days=1)


@pytest.fixture
def half_signed(keyed_workspace: Path) -> Path:
    """The demo year with the secretary's and one department's letters signed, one voided."""
    ws = find_workspace(keyed_workspace)
    for pid in ("P001", "P002", "P003", "P004", "P005", "P006", "P007", "P008"):
        sign_as(ws, pid, SECRET, year=YEAR, now=LATER)
    for pid in ("P009", "P010", "P011", "P012", "P013"):
        sign_as(ws, pid, SECRET, year=YEAR, now=LATER)
    void_letter(ws, "2027-LJ-P018-P019", "人员调离", now=LATER)
    return keyed_workspace


def test_json_lists_every_letter_with_the_bytes_of_one_dump(half_signed: Path) -> None:
    ws = find_workspace(half_signed)
    out = run_docgen("status", "-w", str(half_signed), "--year", "2027", "--json",
                     "--as-of", "2027-03-01")  # fmt: skip
    assert out.code == 1, out.err  # not complete
    whole = year_status(ws, YEAR, as_of=date(2027, 3, 1))  # every letter held
    assert whole.overdue == whole.incomplete  # after the deadline (31 January)
    # the JSON lists late and overdue letters once, in "letters", with their "timing"
    whole = replace(whole, late_letters=(), overdue_letters=())
    assert out.out == json.dumps(asdict(whole), ensure_ascii=False, indent=2, default=str) + "\n"
    data = json.loads(out.out)
    assert len(data["letters"]) == 59 + 0 and data["unlisted"] == 0
    assert data["incomplete"] == sum(1 for x in data["letters"] if x["missing"] and not x["voided"])
    assert {x["doc_id"] for x in data["letters"] if x["voided"]} == {"2027-LJ-P018-P019"}


def test_json_of_one_person(half_signed: Path) -> None:
    out = run_docgen("status", "-w", str(half_signed), "--person", "P018", "--json")
    data = json.loads(out.out)
    assert {x["doc_id"] for x in data["letters"]} == {
        "2027-ZR-P002-P018", "2027-CN-P002-P018", "2027-LJ-P018-P019", "2027-LJ-P018-P020",
        "2027-LJ-P018-P021", "2027-LJ-P018-P022", "2027-LJ-P018-P023",
    }  # fmt: skip
    assert [t["person_id"] for t in data["todo"]] == ["P018"]
    assert data["not_generated"] == ["2027-LJ-P018-P019"]  # voided, not yet reissued


def test_a_long_year_lists_the_letters_still_waiting(
    half_signed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond LISTED letters the table shows only those not complete, and says how many more."""
    ws = find_workspace(half_signed)
    report = year_status(ws, YEAR, listed=5)
    assert len(report.letters) == 5
    assert all(not s.complete for s in report.letters)
    assert report.unlisted == 59 - 5
    everything = year_status(ws, YEAR)
    waiting = [s for s in everything.letters if not s.complete][:5]
    assert report.letters == tuple(waiting)
    assert (report.counts, report.todo, report.incomplete) == (
        everything.counts, everything.todo, everything.incomplete,
    )  # fmt: skip

    monkeypatch.setattr(status_module, "LISTED", 5)
    monkeypatch.setattr("docgen.cli.status_cmd.LISTED", 5)
    out = run_docgen("status", "-w", str(half_signed), "--year", "2027")
    assert out.code == 1
    assert "……另有 54 份文书未逐一列出" in out.out
    for s in waiting:
        assert s.doc_id in out.out  # whole, never cut short
    assert "待签清单:" in out.out


def test_a_short_year_lists_every_letter_with_whole_ids(half_signed: Path) -> None:
    out = run_docgen("status", "-w", str(half_signed), "--year", "2027")
    assert "另有" not in out.out
    ws = find_workspace(half_signed)
    for s in year_status(ws, YEAR).letters:
        assert s.doc_id in out.out


def test_an_unknown_person_is_refused(half_signed: Path) -> None:
    for args in (("--person", "P999"), ("--person", "P01")):
        out = run_docgen("status", "-w", str(half_signed), *args)
        assert out.code == 1, args
        assert "都没有编号为" in out.err and args[1] in out.err
        assert "roster.yaml" in out.err
        assert out.out == ""


def test_a_person_who_left_the_roster_still_has_their_letters(half_signed: Path) -> None:
    """P019 was removed from the roster after signing: their letters are still theirs."""
    roster = half_signed / "roster.yaml"
    text = roster.read_text(encoding="utf-8")
    text = text.replace("members: [P019, P020,", "members: [P020,")
    text = "\n".join(line for line in text.splitlines() if "id: P019," not in line) + "\n"
    roster.write_text(text, encoding="utf-8")
    out = run_docgen("status", "-w", str(half_signed), "--person", "P019", "--json")
    assert [x["doc_id"] for x in json.loads(out.out)["letters"]] == ["2027-LJ-P018-P019"]


def test_status_names_who_has_not_signed_and_cuts_nothing_off_a_terminal(
    keyed_workspace: Path,
) -> None:
    """The 未签 column gives names (with ids for the commands), and a table written to a file or
    a pipe is not cut at 80 columns."""
    outcome = run_docgen("status", "-w", str(keyed_workspace), "--year", "2027")
    assert outcome.code == 1
    row = next(line for line in outcome.out.splitlines() if "2027-ZR-P001-P002" in line)
    assert "张明远(P001)、李卫东(P002)" in row, row
    assert "…" not in row
