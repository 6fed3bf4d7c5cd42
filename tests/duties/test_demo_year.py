"""The demo's realistic year: letters generated on 4 January, signed through January, two people
late (February, March), and the ledger showing the new activity kinds — through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from docgen.demo.run import run_demo
from docgen.demo.signing_plan import year_plan
from docgen.roster.example import demo_roster_yaml
from docgen.roster.load import load_roster
from tests.helpers import run_docgen
from tests.seed import quote

YEAR_END = datetime(2027, 12, 31, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("demo-year") / "demo"
    said: list[str] = []
    run_demo(root, now=YEAR_END, say=said.append, pdf=False)
    return root, said


def test_most_letters_are_signed_in_january_and_a_few_late(
    demo_year: tuple[Path, list[str]],
) -> None:
    quote("年初与班子成员面对面签订")
    root, said = demo_year
    assert any("签订截止日 1月31日(年初),其后补签的文书 7 份" in line for line in said)
    outcome = run_docgen("status", "-w", str(root), "--year", "2027", "--json",
                         "--as-of", "2027-12-31")  # fmt: skip
    assert outcome.code == 0, outcome.text  # every letter signed in the end
    data = json.loads(outcome.out)
    timings = [s["timing"] for s in data["letters"]]
    assert timings.count("late") == 7 and timings.count("on_time") == 52
    assert all(s["signed_on"].startswith("2027-01-") for s in data["letters"]
               if s["timing"] == "on_time")  # fmt: skip
    late_days = {s["signed_on"] for s in data["letters"] if s["timing"] == "late"}
    assert late_days == {"2027-02-18", "2027-03-03"}
    duties = json.loads(run_docgen("duties", "-w", str(root), "--year", "2027", "--json",
                                   "--as-of", "2027-12-31").out)  # fmt: skip
    statuses = {o["article"]: o["status"] for o in duties["obligations"]
                if o["person_id"] is None and o["article"] in ("9.5", "9.6", "9.7")}  # fmt: skip
    assert statuses == {"9.5": "late", "9.6": "late", "9.7": "late"}


def test_the_demo_ledger_shows_the_new_kinds(demo_year: tuple[Path, list[str]]) -> None:
    root, _said = demo_year
    listed = json.loads(run_docgen("activity", "list", "-w", str(root), "--json").out)
    articles = {row["article"] for row in listed}
    assert {"9.4", "9.17", "9.20", "10.1", "10.2", "10.9", "12.2.1", "12.2.4", "12.2.6",
            "13.3", "13.4", "13.7", "13.11", "13.13", "14"} <= articles  # fmt: skip
    grades = [row for row in listed if row["kind"] == "assessment_grade"]
    assert grades and all(row["grade"] in ("优秀", "良好") for row in grades)


def test_the_plan_is_deterministic_and_never_in_the_future(tmp_path: Path) -> None:
    roster_path = tmp_path / "roster.yaml"
    roster_path.write_text(demo_roster_yaml(), encoding="utf-8")
    roster = load_roster(roster_path)
    assert year_plan(roster, 2027, YEAR_END) == year_plan(roster, 2027, YEAR_END)
    early = datetime(2027, 2, 1, tzinfo=UTC)  # before the late signatures' days
    plan = year_plan(roster, 2027, early)
    assert [(r.moment, r.people) for r in plan.rounds] == [(early, None)]
    assert plan.generated_at == early
