"""benchmarks/bench_pades.py runs end to end with tiny counts and prints its table (not timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pades_support import needs_soffice

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_pades.py"


@needs_soffice
@pytest.mark.slow
def test_bench_pades_prints_every_row(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--counts", "2", "--naive-sample", "0",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for row in (
        "pades, CJK stamp, 签名 line read from the PDF",
        "pades, CJK stamp, 签名 line already read",
        "pades, no stamp",
        "verify one letter's PDF (2 signatures)",
    ):
        assert f"| {row} | 2 |" in done.stdout, done.stdout
