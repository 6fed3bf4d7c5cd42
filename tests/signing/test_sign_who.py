"""``sign --as`` knows who signs and lists what they sign; ``show`` prints a letter to read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.helpers import run_docgen


@pytest.fixture
def ws(keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-06T10:00:00+00:00")
    return keyed_workspace


def p7s_files(root: Path) -> list[Path]:
    return sorted((root / "output").rglob("*.p7s"))


@pytest.mark.parametrize("who", ["张明远X", "9999", "P0001"])
def test_an_unknown_signer_is_refused_before_any_passphrase(
    ws: Path, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_PASSPHRASE", "wrong")
    outcome = run_docgen("sign", "-w", str(ws), "--as", who, "--year", "2027")
    assert outcome.code == 1
    assert f"名册中没有人员“{who}”" in outcome.err
    assert str(ws / "roster.yaml") in outcome.err
    assert "没有等待" not in outcome.text
    assert p7s_files(ws) == []


def test_a_wrong_passphrase_for_a_real_signer_is_refused(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_PASSPHRASE", "wrong-passphrase-123")
    outcome = run_docgen("sign", "-w", str(ws), "--as", "张明远", "--year", "2027")
    assert outcome.code != 0
    assert "口令" in outcome.err
    assert p7s_files(ws) == []


@pytest.mark.parametrize("who", ["张明远", "p001", " P001 "])
def test_a_unique_name_or_a_lower_case_id_signs_as_that_person(
    ws: Path, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    outcome = run_docgen("sign", "-w", str(ws), "--as", who, "--year", "2027")
    assert outcome.code == 0, outcome.text
    listed = outcome.out.split("阅读全文")[0]
    assert "张明远(P001)将签署" in listed
    assert "《党风廉政建设责任书》  对方:李卫东(党组成员、副检察长)" in listed
    assert "2027-ZR-P001-P002" in listed
    assert "P001 本次签署" in outcome.out
    assert {p.name.rsplit(".", 2)[-2] for p in p7s_files(ws)} == {"P001"}


def test_an_ambiguous_name_lists_the_people_with_their_ids(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = ws / "roster.yaml"
    text = roster.read_text("utf-8").replace("name: 宋佳琪", "name: 张明远")
    roster.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    outcome = run_docgen("sign", "-w", str(ws), "--as", "张明远", "--year", "2027")
    assert outcome.code == 1
    assert "姓名“张明远”在名册中有 2 人" in outcome.err
    assert "P001 张明远" in outcome.err
    assert p7s_files(ws) == []


def test_show_prints_the_registered_letter_and_refuses_an_altered_one(ws: Path) -> None:
    outcome = run_docgen("show", "-w", str(ws), "2027-ZR-P001-P002", "--year", "2027")
    assert outcome.code == 0, outcome.text
    assert outcome.out.startswith("《党风廉政建设责任书》 2027-ZR-P001-P002\n")
    assert "甲方(责任领导):党组书记、检察长 张明远".replace("(", "（").replace(")", "）").replace(
        ":", "："
    ).replace(" ", "　") in outcome.out
    assert "2027-ZR-P001-P002" in outcome.out.splitlines()[-1] or "一、明确职责" in outcome.out
    letter = next((ws / "output" / "2027").rglob("2027-ZR-P001-P002_*.docx"))
    shutil.copy(next((ws / "output" / "2027").rglob("2027-ZR-P001-P003_*.docx")), letter)
    altered = run_docgen("show", "-w", str(ws), "2027-ZR-P001-P002", "--year", "2027")
    assert altered.code == 1
    assert "文书文件与登记簿中登记的不一致" in altered.err
    missing = run_docgen("show", "-w", str(ws), "2027-ZR-P404-P405", "--year", "2027")
    assert missing.code == 1 and "没有编号为 2027-ZR-P404-P405 的文书" in missing.err
