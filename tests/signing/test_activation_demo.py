"""``docgen demo`` leaves its people able to log in: each has a printed activation code (#19).

The demo signs every letter, then marks every key pending and prints ``激活单.docx``; a person
activates with the code on their sheet and their own PIN, and then signs with that PIN.
"""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.demo.run import run_demo
from docgen.roster.load import load_roster
from docgen.signing.activation import activate, is_pending
from docgen.signing.keyfiles import load_private_key, person_paths
from docgen.signing.passphrase import Passphrase
from tests.conftest import NOW
from tests.signing.keys_workspace import sheet_codes

PIN = "Harbour-5173"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    said: list[str] = []
    root = tmp_path_factory.mktemp("demo-activation") / "demo"
    run_demo(root, now=NOW, say=said.append, pdf=False)
    return root, said


def test_every_demo_person_has_a_sheet_and_a_pending_key(demo: tuple[Path, list[str]]) -> None:
    root, said = demo
    sheets = root / "激活单.docx"
    assert stat.S_IMODE(sheets.stat().st_mode) == 0o600
    codes = sheet_codes(sheets)
    ws = find_workspace(root)
    people = [p.id for p in load_roster(ws.roster_path).people]
    assert set(codes) == set(people) and len(set(codes.values())) == len(people)
    assert all(is_pending(ws, pid) for pid in people)
    text = "\n".join(said)
    assert "激活单" in text and f"docgen serve {ws.root}" in text
    assert not any(code in text for code in codes.values())


def test_a_demo_person_activates_with_the_printed_code(demo: tuple[Path, list[str]]) -> None:
    root, _ = demo
    ws = find_workspace(root)
    code = sheet_codes(root / "激活单.docx")["P007"]
    activate(ws, "P007", code, Passphrase(PIN.encode(), "测试"), now=NOW + timedelta(hours=1))
    assert not is_pending(ws, "P007")
    load_private_key(person_paths(ws.keys_dir, "P007").key, Passphrase(PIN.encode(), "测试"))
