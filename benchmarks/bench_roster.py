"""Roster loading benchmark: time and memory of ``docgen.roster.load.load_roster`` at N people.

Usage::

    python benchmarks/bench_roster.py [--people 10000 100000] [--repeat 3] [--workdir DIR]

For each N it writes the synthetic roster of ``make_roster.py N`` (awkward names included) to a
file, then measures ``load_roster`` on it in fresh child processes, so one measurement does not
inherit the heap of another:

* **seconds** — wall time of ``load_roster`` (best and median of ``--repeat`` fresh processes,
  no tracing);
* **peak MiB (tracemalloc)** — the highest traced allocation during the load, with the roster
  file's text included; **roster MiB** — what is still allocated once the load has returned
  (the ``Roster`` itself); **extra MiB** = peak − roster: what the load costs beyond its result;
* **Δ maxrss MiB** — peak resident size (``VmHWM`` on Linux, else ``ru_maxrss``) after the
  load minus the same just before it, in a process without tracing (includes the result, the
  file's text where it is read whole, and allocator slack).

It exits non-zero if a load fails. Run with ``PYTHONPATH=<older checkout>`` to measure an older
revision the same way.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_roster import make_roster_yaml

MIB = 1024 * 1024


def _maxrss_bytes() -> int:
    """This process's peak resident size. On Linux ``VmHWM``: ``ru_maxrss`` starts from the
    parent's peak after ``fork`` (the parent here has just built a large roster text)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(value) if sys.platform == "darwin" else int(value) * 1024  # macOS: bytes


def _child(path: Path, mode: str) -> dict[str, float]:
    """One measurement in this (fresh) process; the result is printed as JSON."""
    from docgen.roster.load import load_roster

    if mode == "time":
        before = _maxrss_bytes()
        start = time.perf_counter()
        roster = load_roster(path)
        seconds = time.perf_counter() - start
        return {
            "seconds": seconds,
            "maxrss_delta": (_maxrss_bytes() - before) / MIB,
            "people": len(roster.people),
            "departments": len(roster.departments),
        }
    import tracemalloc

    tracemalloc.start()
    roster = load_roster(path)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak": peak / MIB, "roster": current / MIB, "extra": (peak - current) / MIB,
            "people": len(roster.people)}  # fmt: skip


def _run_child(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--mode", mode],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"load_roster failed on {path} ({mode}):\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() or "unknown"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="timed processes per N")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--mode", choices=("time", "memory"), default="time", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(_child(args.child, args.mode)))
        return 0

    import docgen.roster.load

    print(f"docgen.roster.load from {docgen.roster.load.__file__}, commit {_commit()}")
    print(
        "| people | file MiB | seconds (best / median) | peak MiB (tracemalloc) | roster MiB "
        "| extra MiB | Δ maxrss MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for n in args.people:
            path = Path(tmp) / f"roster-{n}.yaml"
            path.write_text(make_roster_yaml(n), encoding="utf-8")
            timed = [_run_child(path, "time") for _ in range(max(1, args.repeat))]
            seconds = [t["seconds"] for t in timed]
            memory = _run_child(path, "memory")
            print(
                f"| {int(timed[0]['people']):,} | {path.stat().st_size / MIB:.1f} "
                f"| {min(seconds):.2f} / {statistics.median(seconds):.2f} "
                f"| {memory['peak']:.1f} | {memory['roster']:.1f} | {memory['extra']:.1f} "
                f"| {min(t['maxrss_delta'] for t in timed):.1f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
