"""Bulk pipeline benchmark: generate, sign, register and verify N letters on one roster.

Usage::

    python benchmarks/bench.py --letters 10000 [--jobs J] [--naive-sample 2000] [--workdir DIR]

Prints one table (ms per letter, letters per second, peak RSS) for:

* a naive docxtpl loop — a new ``DocxTemplate`` per letter, ``render(context, autoescape=True)``,
  ``save`` — timed on a sample of letters and extrapolated to N;
* ``docgen generate`` — the whole command (roster, pairings, render, registry, proofs, manifest);
* bulk signing by both parties (``sign_everyone``: keys opened, CAdES signatures, registry appends);
* verifying every letter offline (``docgen.verify.folder.iter_verify_letters``);
* unlocking one person's key at docgen's default KDF (scrypt, ``docgen.core.pkcs8``), on its own.

Each measured stage runs in a fresh child process, so its peak RSS (the process itself, and its
largest worker process as sampled from /proc, see :class:`WorkerPeak`) is its own. Issuing the
certificates is set-up and is not timed.

The set-up keys are encrypted with a light scrypt cost (:func:`_setup_kdf`, N = 2^6: about
what the old PBKDF2 keys cost to open), so the sign row measures signing, as in earlier rounds:
at the default (≈ 0.5 s per key) unlocking would be nearly all of it — 10⁵ people, ≈ 14 hours of
one core. What unlocking costs per person is its own row, measured on a sample of keys at the
default.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_roster import make_roster_yaml

NOW = datetime(2027, 1, 5, 9, 0, 0, tzinfo=UTC)
YEAR = 2027
PASSPHRASE = b"bench-passphrase-2027"
UNLOCK_SAMPLE = 5  # keys unlocked at the default KDF for the unlock row


class WorkerPeak:
    """The largest peak RSS (``VmHWM``) of this process's worker processes, sampled from /proc.

    ``RUSAGE_CHILDREN`` cannot be used: a spawned worker is started by fork (or vfork) and exec,
    and Linux carries the parent's high-water mark over the exec, so every worker would seem as
    large as the process that started it. ``VmHWM`` is the worker's own, and a high-water mark, so
    sampling a few times a second misses at most the last fraction of a second of a worker's life.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.peak_kib = 0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-peak", daemon=True)

    def __enter__(self) -> WorkerPeak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        me = str(os.getpid())
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                status = Path(entry.path, "status").read_text()
            except OSError:
                continue  # the process ended between the listing and the read
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                self.peak_kib = max(self.peak_kib, int(fields["VmHWM"].split()[0]))


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended: a stage's
    worker processes are ended and waited for before it returns, so the difference of two reads
    around a stage is its whole CPU cost. On a machine shared with other work, wall times grow
    with the load; this does not (much), so it is the fairer column for comparisons."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mib(workers: WorkerPeak) -> tuple[float, float]:
    """Peak RSS of this process and of its largest worker process, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return own, workers.peak_kib / 1024


# --- stages, each run in its own process ----------------------------------------------------


def stage_naive(workspace: Path, sample: int) -> dict[str, Any]:
    from docxtpl import DocxTemplate

    from docgen.core.workspace import find_workspace
    from docgen.letters.generate import letter_context
    from docgen.letters.render import load_template
    from docgen.roster.hierarchy import build_pairings
    from docgen.roster.load import load_roster

    ws = find_workspace(workspace)
    roster = load_roster(ws.roster_path)
    pairings = build_pairings(roster, YEAR, ws.config.pairing).pairings
    # The same mix of letter kinds as the whole run, spread evenly over the roster.
    step = max(1, len(pairings) // sample)
    chosen = list(pairings[::step])[:sample]
    out = Path(tempfile.mkdtemp(prefix="naive-", dir=workspace))
    templates = {}
    for kind in {p.kind for p in chosen}:
        path = out / f"{kind.value}.docx"
        path.write_bytes(load_template(ws.templates_dir, kind))
        templates[kind] = path
    contexts = [(p, letter_context(p, roster, ws.config.institution, p.doc_id)) for p in chosen]
    start, cpu = time.perf_counter(), cpu_seconds()
    for i, (pairing, context) in enumerate(contexts):
        tpl = DocxTemplate(str(templates[pairing.kind]))
        tpl.render(context, autoescape=True)
        tpl.save(str(out / f"{i}.docx"))
    elapsed = time.perf_counter() - start
    return {"letters": len(chosen), "seconds": elapsed, "cpu_seconds": cpu_seconds() - cpu}


def stage_generate(workspace: Path, jobs: int) -> dict[str, Any]:
    from docgen.cli import cli
    from docgen.cli.common import invoke

    os.environ["DOCGEN_NOW"] = NOW.isoformat()
    sink = io.StringIO()
    start, cpu = time.perf_counter(), cpu_seconds()
    stdout, sys.stdout = sys.stdout, sink
    try:
        code = invoke(
            cli, ["generate", "-w", str(workspace), "--year", str(YEAR), "--jobs", str(jobs)]
        )
    finally:
        sys.stdout = stdout
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    if code != 0:
        raise SystemExit(f"docgen generate failed ({code}): {sink.getvalue()[-2000:]}")
    from docgen.core.workspace import find_workspace
    from docgen.registry import open_registry

    with open_registry(find_workspace(workspace)) as registry:
        documents = sum(1 for _ in registry.entries(type="document"))
    return {"letters": documents, "seconds": elapsed, "cpu_seconds": cpu}


def _setup_kdf() -> Any:
    from docgen.core import pkcs8

    return pkcs8.ScryptCost(n=2**6, r=8, p=1)


def stage_keys(workspace: Path, jobs: int) -> dict[str, Any]:
    from docgen.core import pkcs8
    from docgen.core.parallel import map_chunks
    from docgen.core.workspace import find_workspace
    from docgen.registry import open_registry
    from docgen.roster.load import load_roster
    from docgen.signing.ca import init_ca
    from docgen.signing.passphrase import Passphrase

    ws = find_workspace(workspace)
    roster = load_roster(ws.roster_path)
    secret = Passphrase(PASSPHRASE, "基准测试")
    with pkcs8.scrypt_cost(_setup_kdf()):
        ca = init_ca(ws.keys_dir, institution=ws.config.institution, passphrase=secret, now=NOW)
    start, cpu = time.perf_counter(), cpu_seconds()
    records: list[dict[str, Any]] = []
    setup = (str(ws.keys_dir), ws.config.institution, ws.config.certificate_days)
    for chunk in map_chunks(
        _keys_setup, setup, _issue_chunk, roster.people, jobs=jobs, chunk_size=200
    ):
        records.extend(chunk)
    with open_registry(ws) as registry:  # the first CRL too, as `keys init-ca` registers it
        registry.append([*ca.records, *records], now=NOW)
    return {
        "people": len(records),
        "seconds": time.perf_counter() - start,
        "cpu_seconds": cpu_seconds() - cpu,
    }


def _keys_setup(setup: tuple[str, str, int]) -> tuple[str, str, int]:
    return setup


def _issue_chunk(setup: tuple[str, str, int], people: Any) -> list[dict[str, Any]]:
    from docgen.core import pkcs8
    from docgen.core.models import Roster
    from docgen.signing.certificates import issue_certificates
    from docgen.signing.passphrase import Passphrase

    keys_dir, institution, days = setup
    secret = Passphrase(PASSPHRASE, "基准测试")
    with pkcs8.scrypt_cost(_setup_kdf()):
        issued = issue_certificates(
            Path(keys_dir),
            Roster(institution, tuple(people), ()),
            None,
            institution=institution,
            ca_passphrase=secret,
            passphrase=secret,
            now=NOW,
            days=days,
        )
    return list(issued.records)


def stage_unlock(workspace: Path) -> dict[str, Any]:
    """Open a sample of the people's keys re-encrypted at the default KDF, one by one, as bulk
    signing opens each signer's key once: the per-person cost the sign row leaves out."""
    from docgen.core import pkcs8
    from docgen.core.workspace import find_workspace
    from docgen.signing.keyfiles import KEY_NAME, PEOPLE_DIR, load_private_key
    from docgen.signing.passphrase import Passphrase

    ws = find_workspace(workspace)
    secret = Passphrase(PASSPHRASE, "基准测试")
    sample = sorted((ws.keys_dir / PEOPLE_DIR).glob(f"*/{KEY_NAME}"))[:UNLOCK_SAMPLE]
    out = Path(tempfile.mkdtemp(prefix="unlock-", dir=workspace))
    os.chmod(out, 0o700)
    copies = []
    for i, path in enumerate(sample):
        copy = out / f"{i}.pem"
        copy.write_bytes(pkcs8.encrypt_pem(load_private_key(path, secret), PASSPHRASE))
        os.chmod(copy, 0o600)
        copies.append(copy)
    start, cpu = time.perf_counter(), cpu_seconds()
    for copy in copies:
        load_private_key(copy, secret)
    return {
        "keys": len(copies),
        "seconds": time.perf_counter() - start,
        "cpu_seconds": cpu_seconds() - cpu,
        "kdf": pkcs8.SCRYPT_DEFAULT.label(),
    }


def stage_sign(workspace: Path, jobs: int) -> dict[str, Any]:
    from docgen.core.workspace import find_workspace
    from docgen.signing.passphrase import Passphrase
    from docgen.signing.sign import sign_everyone

    ws = find_workspace(workspace)
    secret = Passphrase(PASSPHRASE, "基准测试")
    start, cpu = time.perf_counter(), cpu_seconds()
    count = sign_everyone(ws, lambda _pid: secret, year=YEAR, now=NOW, jobs=jobs)
    return {
        "signatures": count,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": cpu_seconds() - cpu,
    }


def stage_verify(workspace: Path, jobs: int) -> dict[str, Any]:
    from docgen.core.workspace import find_workspace
    from docgen.verify.archive import workspace_trust
    from docgen.verify.folder import iter_verify_letters, letters_in_dir
    from docgen.verify.model import LetterStatus

    ws = find_workspace(workspace)
    start, cpu = time.perf_counter(), cpu_seconds()
    letters, checks = letters_in_dir(ws.year_dir(YEAR), str(ws.year_dir(YEAR)))
    counts = dict.fromkeys((s.value for s in LetterStatus), 0)
    first_failure = None
    for report in iter_verify_letters(letters, workspace_trust(ws), jobs=jobs):
        counts[report.status.value] += 1
        if report.status is LetterStatus.FAILED and first_failure is None:
            first_failure = [s.detail for s in report.failed_steps]
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {
        "cpu_seconds": cpu,
        "letters": sum(counts.values()),  # len(letters) would list the year again
        "counts": counts,
        "checks_ok": all(c.ok for c in checks),
        "first_failure": first_failure,
        "seconds": seconds,
    }


def stage_proof(workspace: Path) -> dict[str, Any]:
    from docgen.core.workspace import find_workspace
    from docgen.registry import open_registry

    with open_registry(find_workspace(workspace)) as registry:
        size = registry.size()
        times = []
        for index in range(size // 7, size, max(1, size // 50)):
            start = time.perf_counter()
            registry.proof_bundle(index)
            times.append(time.perf_counter() - start)
    times.sort()
    return {"size": size, "median_ms": times[len(times) // 2] * 1000}


STAGES = {
    "naive": lambda a: stage_naive(a.workspace, a.naive_sample),
    "generate": lambda a: stage_generate(a.workspace, a.jobs),
    "keys": lambda a: stage_keys(a.workspace, a.jobs),
    "sign": lambda a: stage_sign(a.workspace, a.jobs),
    "verify": lambda a: stage_verify(a.workspace, a.jobs),
    "unlock": lambda a: stage_unlock(a.workspace),
    "proof": lambda a: stage_proof(a.workspace),
}


def run_stage(name: str, workspace: Path, jobs: int, sample: int) -> dict[str, Any]:
    """Run one stage in a fresh interpreter and return what it measured."""
    command = [
        sys.executable, __file__, "--stage", name, "--workspace", str(workspace),
        "--jobs", str(jobs), "--naive-sample", str(sample),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the table --------------------------------------------------------------------------------


def _row(
    label: str, items: int, seconds: float, rss: str, note: str = "", *, cpu: float = 0.0
) -> str:
    ms = seconds * 1000 / items if items else 0.0
    rate = items / seconds if seconds else 0.0
    cpu_ms = cpu * 1000 / items if items else 0.0
    return (
        f"| {label} | {items:,} | {seconds:,.1f} | {ms:.2f} | {rate:,.0f} | {cpu_ms:.2f} "
        f"| {rss} | {note} |"
    )


def load_average() -> str:
    """The machine's 1-minute load average (what else was running shapes every wall time)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def _rss(stage: dict[str, Any]) -> str:
    return f"{stage['rss_self_mib']:.0f} / {stage['rss_workers_mib']:.0f}"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = "CPU model unknown (/proc/cpuinfo unreadable)"
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()}"
    )


def code_version() -> str:
    """The commit the measured code is from, and whether docgen/ had uncommitted changes."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "docgen"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {commit}" + (" + uncommitted changes in docgen/" if dirty else "")


def generate_table(
    args: argparse.Namespace,
    naive: dict[str, Any],
    generate: dict[str, Any],
    load_before: str,
    version: str,
) -> str:
    """The naive loop's and generate's rows alone (``--generate-only``)."""
    letters = generate["letters"]
    naive_total = naive["seconds"] / naive["letters"] * letters
    naive_cpu = naive["cpu_seconds"] / naive["letters"] * letters
    ratio = naive_total / generate["seconds"] if generate["seconds"] else 0.0
    cpu_ratio = naive_cpu / generate["cpu_seconds"] if generate["cpu_seconds"] else 0.0
    return "\n".join(
        [
            f"docgen generate: {letters:,} letters, --jobs {args.jobs}; {machine()}; {version}",
            f"load average before / after: {load_before} / {load_average()}",
            "",
            "| stage | items | seconds | ms / item | items / s | CPU ms / item "
            "| peak RSS MiB (main / worker) | note |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            _row(
                "naive docxtpl loop",
                letters,
                naive_total,
                _rss(naive),
                f"measured on {naive['letters']:,} letters ({naive['seconds']:.1f} s), "
                "extrapolated",
                cpu=naive_cpu,
            ),
            _row(
                "docgen generate (whole command)",
                letters,
                generate["seconds"],
                _rss(generate),
                f"{ratio:.1f}× the naive loop (in CPU time: {cpu_ratio:.1f}×)",
                cpu=generate["cpu_seconds"],
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="docgen bulk pipeline benchmark")
    parser.add_argument("--letters", type=int, default=10_000, help="roster size (≈ letters)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--naive-sample", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the workspace here")
    parser.add_argument(
        "--generate-only",
        action="store_true",
        help="only the naive loop and generate (the rows issue #8's ratio is about)",
    )
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.stage:
        with WorkerPeak() as workers:
            result = STAGES[args.stage](args)
        own, children = _peak_rss_mib(workers)
        result.update(rss_self_mib=own, rss_workers_mib=children)
        print(json.dumps(result))
        return 0

    from docgen.letters.workspace_init import init_workspace

    base = args.workdir or Path(tempfile.mkdtemp(prefix="docgen-bench-"))
    workspace = base / f"ws-{args.letters}"
    init_workspace(
        workspace, institution="某省人民检察院(基准测试)", year=YEAR,
        roster_yaml=make_roster_yaml(args.letters),
    )  # fmt: skip
    sample = min(args.letters, args.naive_sample)
    load_before = load_average()
    version = code_version()  # before the stages run: the code they measure
    naive = run_stage("naive", workspace, args.jobs, sample)
    generate = run_stage("generate", workspace, args.jobs, sample)
    if args.generate_only:
        print(generate_table(args, naive, generate, load_before, version))
        return 0
    keys = run_stage("keys", workspace, args.jobs, sample)
    sign = run_stage("sign", workspace, args.jobs, sample)
    verify = run_stage("verify", workspace, args.jobs, sample)
    unlock = run_stage("unlock", workspace, args.jobs, sample)
    proof = run_stage("proof", workspace, args.jobs, sample)

    letters = generate["letters"]
    naive_per_letter = naive["seconds"] / naive["letters"]
    naive_total = naive_per_letter * letters
    ratio = naive_total / generate["seconds"] if generate["seconds"] else 0.0
    naive_cpu = naive["cpu_seconds"] / naive["letters"] * letters
    cpu_ratio = naive_cpu / generate["cpu_seconds"] if generate["cpu_seconds"] else 0.0
    peak = max(max(s["rss_self_mib"], s["rss_workers_mib"]) for s in (generate, sign, verify))
    per_unlock = unlock["seconds"] / unlock["keys"] if unlock["keys"] else 0.0
    people = keys["people"]
    lines = [
        f"docgen bulk pipeline: {letters:,} letters, --jobs {args.jobs}; {machine()}; {version}",
        f"load average before / after: {load_before} / {load_average()}",
        "",
        "| stage | items | seconds | ms / item | items / s | CPU ms / item "
        "| peak RSS MiB (main / worker) | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        _row(
            "naive docxtpl loop",
            letters,
            naive_total,
            _rss(naive),
            f"measured on {naive['letters']:,} letters ({naive['seconds']:.1f} s), extrapolated",
            cpu=naive_cpu,
        ),
        _row(
            "docgen generate (whole command)",
            letters,
            generate["seconds"],
            _rss(generate),
            f"{ratio:.1f}× the naive loop (in CPU time: {cpu_ratio:.1f}×)",
            cpu=generate["cpu_seconds"],
        ),
        _row(
            "sign, both parties, registered",
            sign["signatures"],
            sign["seconds"],
            _rss(sign),
            "signatures",
            cpu=sign["cpu_seconds"],
        ),
        _row(
            "verify every letter",
            verify["letters"],
            verify["seconds"],
            _rss(verify),
            ", ".join(f"{k} {v:,}" for k, v in verify["counts"].items() if v),
            cpu=verify["cpu_seconds"],
        ),
        _row(
            f"unlock one key, {unlock['kdf']}",
            unlock["keys"],
            unlock["seconds"],
            _rss(unlock),
            f"per person, not in the sign row: {people:,} people ≈ "
            f"{people * per_unlock / max(1, args.jobs):,.0f} s more with --jobs {args.jobs}",
            cpu=unlock["cpu_seconds"],
        ),
        _row(
            "(set-up) issue certificates",
            keys["people"],
            keys["seconds"],
            _rss(keys),
            "not a target; keys at a light scrypt cost (see the module docstring)",
            cpu=keys["cpu_seconds"],
        ),
        "",
        f"generate vs naive: {ratio:.1f}× (CPU {cpu_ratio:.1f}×); "
        f"peak RSS of any stage: {peak:.0f} MiB; "
        f"inclusion proof bundle in this registry ({proof['size']:,} entries): "
        f"median {proof['median_ms']:.2f} ms",
    ]
    if verify["first_failure"]:
        lines.append(f"first verification failure: {verify['first_failure']}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
