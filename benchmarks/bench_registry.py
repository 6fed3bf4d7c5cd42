"""Registry benchmark: append throughput and proof latency at N entries.

Usage::

    python benchmarks/bench_registry.py --entries 1000000
    python benchmarks/bench_registry.py --entries 100000 --batch 10000 --audit
    DOCGEN_DATABASE_URL=postgresql://... python benchmarks/bench_registry.py --entries 100000

Builds a throw-away workspace (``--dir``, default: a temporary directory), appends ``--entries``
realistic signature records in batches of ``--batch`` (each batch is one transaction ending with
a signed checkpoint), then times inclusion proofs, consistency proofs, roots and full proof
bundles at random positions, and optionally a full audit.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docgen.core.workspace import CONFIG_NAME, config_text, find_workspace
from docgen.registry import merkle, open_registry

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def record(i: int) -> dict[str, object]:
    return {
        "type": "signature",
        "doc_id": f"2027-LJ-{i:07d}",
        "signer": f"p{i % 50_000:05d}",
        "party": "subordinate" if i % 2 else "superior",
        "cert_fingerprint": f"{(i * 2654435761) % 2**256:064x}",
        "cert_serial": f"{i:016x}",
        "p7s_sha256": f"{(i * 40503) % 2**256:064x}",
        "doc_sha256": f"{(i * 9973) % 2**256:064x}",
        "signing_time": "2027-01-05T09:00:00Z",
    }


def timed_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100_000, help="entries per append")
    parser.add_argument("--proofs", type=int, default=500, help="timed proofs of each kind")
    parser.add_argument("--dir", type=Path, default=None, help="workspace directory (kept)")
    parser.add_argument("--audit", action="store_true", help="also time a full audit")
    args = parser.parse_args()

    temp = None
    if args.dir is None:
        temp = tempfile.TemporaryDirectory(prefix="docgen-bench-")
        root = Path(temp.name)
    else:
        root = args.dir
        root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(config_text("庆城县人民检察院", 2027), encoding="utf-8")
    ws = find_workspace(root)
    backend = "PostgreSQL" if os.environ.get("DOCGEN_DATABASE_URL") else "SQLite"
    rng = random.Random(1)

    with open_registry(ws) as reg:
        start_size = reg.size()
        n = args.entries
        print(f"docgen registry benchmark — {backend}, {n:,} entries, batches of {args.batch:,}")
        started = time.perf_counter()
        done = 0
        while done < n:
            count = min(args.batch, n - done)
            reg.append([record(start_size + done + i) for i in range(count)], now=NOW)
            done += count
        elapsed = time.perf_counter() - started
        size = reg.size()
        print(f"append            {n / elapsed:>12,.0f} entries/s   ({elapsed:.1f} s)")

        root_hash = reg.root()
        leaf_cache: dict[int, bytes] = {}

        def inclusion() -> None:
            index = rng.randrange(size)
            proof = reg.inclusion_proof(index)
            leaf = leaf_cache.setdefault(index, reg.entry(index).leaf_hash)
            assert merkle.verify_inclusion(leaf, index, size, proof, root_hash)

        def consistency() -> None:
            old = rng.randrange(1, size + 1)
            reg.consistency_proof(old)

        def bundle() -> None:
            reg.proof_bundle(rng.randrange(size))

        for label, fn in (
            ("inclusion proof", lambda: reg.inclusion_proof(rng.randrange(size))),
            ("  + leaf, verify", inclusion),
            ("consistency proof", consistency),
            ("root(size)", lambda: reg.root(rng.randrange(size + 1))),
            ("proof bundle", bundle),
        ):
            median, p95 = timed_ms(fn, args.proofs)
            print(f"{label:<18}{median:>9.3f} ms median  {p95:>8.3f} ms p95   at {size:,}")

        if args.audit:
            started = time.perf_counter()
            report = reg.audit()
            elapsed = time.perf_counter() - started
            rate = size / elapsed
            print(f"audit             {elapsed:>9.1f} s  ({rate:,.0f} entries/s), ok={report.ok}")
    if ws.registry_path.exists() and backend == "SQLite":
        print(f"database size     {ws.registry_path.stat().st_size / 2**20:>9.1f} MiB")
    if temp is not None:
        temp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
