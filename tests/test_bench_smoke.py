"""benchmarks/bench.py runs end to end on a tiny roster and prints its table (not timed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert "| unlock one key, scrypt(N=2^17,r=8,p=1) | 5 |" in table  # the default KDF, apart
    assert "measured on 3 letters" in table
    assert "extrapolated" in table
    assert "× the naive loop" in table
    verify_row = next(line for line in table.splitlines() if line.startswith("| verify"))
    assert "failed" not in verify_row and "verified" in verify_row


def test_worker_peak_is_the_workers_own_not_the_parents(tmp_path: Path) -> None:
    """A worker that grows to ~80 MiB is reported at ~80 MiB; a parent holding ~120 MiB when it
    starts a small worker does not make that worker look 120 MiB large (RUSAGE_CHILDREN would)."""
    if not Path("/proc/self/status").exists():
        import pytest

        pytest.skip("no /proc on this system: the benchmark's worker peak needs Linux")
    script = f"""
import sys, subprocess, time
sys.path.insert(0, {str(BENCH.parent)!r})
from bench import WorkerPeak
ballast = bytearray(120 * 2**20)
with WorkerPeak(interval=0.05) as small:
    subprocess.run([sys.executable, "-c", "import time; time.sleep(0.5)"], check=True)
with WorkerPeak(interval=0.05) as big:
    subprocess.run([sys.executable, "-c",
                    "import time; b = bytearray(80 * 2**20); time.sleep(0.5)"], check=True)
print(small.peak_kib // 1024, big.peak_kib // 1024)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    small, big = map(int, done.stdout.split())
    assert 0 < small < 60
    assert 75 <= big < 120


@pytest.mark.skipif(
    os.environ.get("DOCGEN_LONG_TESTS") != "1",
    reason="长跑:设置 DOCGEN_LONG_TESTS=1 才运行 bench_commands.py 的冒烟测试(约 45 秒)",
)
def test_bench_commands_prints_its_table_for_a_small_roster(tmp_path: Path) -> None:
    """benchmarks/bench_commands.py: every command it times succeeds on a small signed year."""
    script = BENCH.parent / "bench_commands.py"
    done = subprocess.run(
        [sys.executable, str(script), "--letters", "30", "--jobs", "1", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    labels = [row.split(" | ")[0][2:] for row in rows[1:]]
    assert labels[:2] == ["status (text)", "status --json"]
    assert "generate again (nothing changed)" in labels and "verify one letter" in labels
    assert sum(label.startswith("sign --as ") for label in labels) == 2
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[3] == "0", row  # every command exited 0
        assert float(cells[2]) > 0  # a peak RSS was measured
    assert "共 1 份:验证通过 1 份" in done.stdout

    # Again on the same (now changed) workspace: it takes the next letter still in force.
    again = subprocess.run(
        [sys.executable, str(script), "--workspace", str(tmp_path / "ws-30")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    rows = [line for line in again.stdout.splitlines() if line.startswith("| ")][2:]
    assert rows and all(row.split("|")[4].strip() == "0" for row in rows), again.stdout
    assert "本次签署 1 份文书" in again.stdout
