"""Several institutions on one PostgreSQL registry: appends per second with 1, 2 and 4 writing at
once, and ``registry audit`` time at N entries (issue #17).

Usage::

    python benchmarks/registry_multi.py                       # 10 s per run, audit at 10⁵
    python benchmarks/registry_multi.py --seconds 20 --audit-entries 1000000

Starts a throw-away PostgreSQL cluster of its own (the test suite's ``tests/registry/pg_cluster``:
initdb, fsync off, Unix socket only), runs ``docgen registry setup-db`` for four institutions, and
gives each institution one process that appends like a signer does — one transaction of two
``signature`` records (two letters), the registry time read under the lock (live clock), a signed
checkpoint — as fast as it can for ``--seconds``. Then the same four processes on *one*
institution's log, for comparison: those wait for each other's append lock. Last, one log is filled
to ``--audit-entries`` in transactions of 10 000 and audited (every leaf, node and checkpoint
recomputed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "registry"))

from pg_cluster import Cluster  # noqa: E402

from docgen.core.workspace import CONFIG_NAME, config_text, find_workspace  # noqa: E402
from docgen.registry import open_registry  # noqa: E402
from docgen.registry.setup_db import setup_database  # noqa: E402

OFFICES = ("office_a", "office_b", "office_c", "office_d")
NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def record(worker: int, i: int, k: int) -> dict[str, object]:
    n = worker * 10**7 + i * 2 + k
    return {
        "type": "signature",
        "doc_id": f"2027-ZR-P{n % 1000:03d}-P{n:07d}",
        "signer": f"P{n % 1000:03d}",
        "party": "superior" if k else "subordinate",
        "cert_fingerprint": f"{(n * 2654435761) % 2**256:064x}",
        "cert_serial": f"{n:016x}",
        "p7s_sha256": f"{(n * 40503) % 2**256:064x}",
        "doc_sha256": f"{(n * 9973) % 2**256:064x}",
        "signing_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def workspace(root: Path, institution: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(config_text(institution, 2027), encoding="utf-8")
    return root


def appender(root: str, url: str, worker: int, seconds: float, start: object, out: object) -> None:
    ws = find_workspace(Path(root))
    with open_registry(ws, database_url=url, live=True, busy_timeout=120) as registry:
        start.wait()  # type: ignore[attr-defined]
        deadline = time.monotonic() + seconds
        count = 0
        cpu = time.process_time()
        while time.monotonic() < deadline:
            registry.extend([record(worker, count, k) for k in range(2)], now=NOW)
            count += 1
        cpu = time.process_time() - cpu
    out.put((count, cpu))  # type: ignore[attr-defined]


def run(targets: list[tuple[Path, str]], seconds: float) -> tuple[float, list[int], float]:
    """Wall time, appends per process, and the client CPU seconds per append."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=appender, args=(str(root), url, i, seconds, start, out))
        for i, (root, url) in enumerate(targets)
    ]
    for proc in procs:
        proc.start()
    time.sleep(3)  # every process connected and waiting
    started = time.monotonic()
    start.set()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join()
    counts = [count for count, _cpu in results]
    cpu = sum(c for _count, c in results) / max(1, sum(counts))
    return time.monotonic() - started, counts, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--audit-entries", type=int, default=100_000)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="docgen-bench-pg-"))
    cluster = Cluster(base)  # its folder is handed to the server (run as nobody when root)
    cluster.start()
    try:
        superuser = cluster.server.url("public").split("&options")[0]
        setup_database(superuser, owner="docgen_owner", offices=OFFICES, auditors=("jiwei",))
        work = Path(tempfile.mkdtemp(prefix="docgen-bench-ws-"))
        targets = [
            (workspace(work / office, f"第{i + 1}县人民检察院"), cluster.server.url(office, office))
            for i, office in enumerate(OFFICES)
        ]
        print(f"PostgreSQL, {args.seconds:g} s per run; one append = 2 signature records")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print("| institutions writing at once | appends/s in all | per institution |"
              " client CPU per append |")  # fmt: skip
        print("|---:|---:|---:|---:|")
        for n in (1, 2, 4):
            elapsed, counts, cpu = run(targets[:n], args.seconds)
            total = sum(counts) / elapsed
            print(f"| {n} | {total:,.0f} | {total / n:,.0f} | {cpu * 1000:.1f} ms |")
        one = targets[0]
        shared = [(work / f"same{i}", one[1]) for i in range(4)]
        for path, _url in shared:  # copies of office_a's workspace (its key and config)
            path.mkdir()
            for name in (CONFIG_NAME, "keys"):
                src = one[0] / name
                if src.is_dir():
                    import shutil

                    shutil.copytree(src, path / name)
                else:
                    (path / name).write_bytes(src.read_bytes())
        elapsed, counts, cpu = run(shared, args.seconds)
        print(
            f"| 4 processes, one institution's log | {sum(counts) / elapsed:,.0f} | – |"
            f" {cpu * 1000:.1f} ms |"
        )

        ws = find_workspace(targets[1][0])
        with open_registry(ws, database_url=targets[1][1], live=False) as registry:
            have = registry.size()
            started = time.monotonic()
            i = 0
            while have < args.audit_entries:
                size = min(10_000, args.audit_entries - have)
                registry.extend([record(9, i + k, 0) for k in range(size)], now=NOW)
                have += size
                i += size
            built = time.monotonic() - started
            started, cpu = time.monotonic(), time.process_time()
            report = registry.audit()
            audit, cpu = time.monotonic() - started, time.process_time() - cpu
        assert report.ok, report.problems
        print(
            f"audit of {report.size:,} entries (PostgreSQL): {audit:.1f} s wall,"
            f" {cpu:.1f} s client CPU (built in {built:.0f} s, {report.checkpoints:,} checkpoints;"
            f" load average {os.getloadavg()[0]:.1f})"
        )
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
