"""benchmarks/bench.py runs end to end on a tiny roster and prints its table (not timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def test_bench_prints_the_table_for_a_small_roster(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--letters", "30", "--jobs", "1", "--naive-sample", "3",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = done.stdout
    for stage in (
        "naive docxtpl loop",
        "docgen generate (whole command)",
        "sign, both parties, registered",
        "verify every letter",
    ):
        assert f"| {stage} |" in table
    assert "measured on 3 letters" in table
    assert "extrapolated" in table
    assert "× the naive loop" in table
    verify_row = next(line for line in table.splitlines() if line.startswith("| verify"))
    assert "failed" not in verify_row and "verified" in verify_row
