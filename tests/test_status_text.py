"""``docgen status`` as the new user read it (report item 7): the deadline is stated once above
the table and every row says where the letter stands against it (the column was empty on every
row before the deadline), and ``status --help`` says what the exit codes mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_docgen
from tests.signed_year import YEAR
from tests.signing.keys_workspace import build_unissued


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("status") / "ws"
    build_unissued(root)
    return root


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("│") and "-ZR-" in line]


def test_before_the_deadline_every_row_says_so_and_the_deadline_is_above(unsigned: Path) -> None:
    out = run_docgen("status", "--as-of", f"{YEAR}-01-10", "-w", str(unsigned))
    assert out.code == 1, out.text  # nothing signed yet: still waiting
    table_start = out.out.index("文书编号")
    assert f"签订截止日:{YEAR}年1月31日" in out.out[:table_start]
    rows = _rows(out.out[table_start:])
    assert rows and all("未到截止日" in row for row in rows), rows


def test_after_the_deadline_unsigned_letters_are_overdue(unsigned: Path) -> None:
    out = run_docgen("status", "--as-of", f"{YEAR}-03-01", "-w", str(unsigned))
    assert out.code == 1, out.text
    rows = _rows(out.out[out.out.index("文书编号"):])
    assert rows and all("逾期未签" in row for row in rows), rows


def test_help_says_what_the_exit_codes_mean() -> None:
    text = " ".join(run_docgen("status", "--help").out.split())
    assert "退出码" in text
    assert "0" in text and "1" in text
    assert "尚未签完" in text or "未签完" in text
