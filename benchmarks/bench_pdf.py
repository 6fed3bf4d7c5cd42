"""PDF renditions benchmark: docgen's batched LibreOffice vs one ``soffice`` per letter.

Usage::

    python benchmarks/bench_pdf.py --letters 1000 [--naive-sample 30] [--jobs J] [--batch B]

Builds a workspace of about N letters (``benchmarks/make_roster.py``, ``generate`` without PDFs;
not timed), then measures, each in a fresh child process:

* naive — ``soffice --headless --convert-to pdf --outdir … letter.docx``, one process per letter,
  one after the other, on an evenly spread sample of letters (its profile made beforehand, not
  timed), extrapolated to N;
* docgen — ``make_renditions`` (``docgen pdf``): batches of B letters, one LibreOffice per worker,
  J workers, each PDF made deterministic, staged, published and registered, and the proof
  bundles rewritten;
* PAdES — the bulk mode's PDF pass (``sign_everyone`` after the renditions were made: the .docx
  were signed in the set-up, so only the PDFs wait): both parties' PAdES signature with the CJK
  stamp on every PDF, in J worker processes, written and registered. The keys are encrypted
  with a light scrypt cost in the set-up, as in bench.py: opening a key at the default cost
  (≈ 0.5 s) is bench.py's unlock row, and is excluded here, as the target says;
* verify — every letter verified offline as ``docgen verify`` does, its PDF and both PAdES
  signatures included (:func:`docgen.verify.folder.iter_verify_letters`, J workers).

Every stage reports its CPU time (the process and its children, LibreOffice included): on a
shared machine wall times grow with the load, CPU times much less.

Peak memory is sampled from /proc over the whole process tree (LibreOffice runs two levels below
the measured process): the largest single process (``VmHWM``) and the largest sum of ``VmRSS``
seen at one time. The load average is printed: this machine's 2 cores may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
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


class TreePeak:
    """Peak memory of this process and all its descendants, sampled from /proc."""

    def __init__(self, interval: float = 0.25) -> None:
        self.largest_kib = 0  # the largest VmHWM of any one process
        self.total_kib = 0  # the largest sum of VmRSS at one sample
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        memory: dict[int, tuple[int, int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                status = Path(entry.path, "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            pid = int(entry.name)
            parents[pid] = int(fields.get("PPid", "0").strip() or 0)
            if "VmHWM" in fields:
                memory[pid] = (
                    int(fields["VmHWM"].split()[0]),
                    int(fields["VmRSS"].split()[0]),
                )
        tree = {os.getpid()}
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        hwm = [memory[pid][0] for pid in tree if pid in memory]
        rss = [memory[pid][1] for pid in tree if pid in memory]
        self.largest_kib = max(self.largest_kib, *hwm, 0)
        self.total_kib = max(self.total_kib, sum(rss))


PASSPHRASE = b"bench-passphrase-2027"


def _passphrase() -> Any:
    from docgen.signing.passphrase import Passphrase

    return Passphrase(PASSPHRASE, "基准测试")


def setup(workdir: Path, letters: int, jobs: int) -> Path:
    """Letters generated, keys issued (light scrypt), every .docx signed by both parties."""
    from docgen.core import pkcs8
    from docgen.core.workspace import find_workspace
    from docgen.letters.generate import generate
    from docgen.letters.workspace_init import init_workspace
    from docgen.registry import open_registry
    from docgen.roster.load import load_roster
    from docgen.signing.ca import init_ca
    from docgen.signing.certificates import issue_certificates
    from docgen.signing.sign import sign_everyone

    root = workdir / "ws"
    institution = "某省人民检察院(基准测试)"
    init_workspace(root, institution=institution, year=YEAR,
                   roster_yaml=make_roster_yaml(letters))  # fmt: skip
    ws = find_workspace(root)
    generate(ws, YEAR, now=NOW)
    with pkcs8.scrypt_cost(pkcs8.ScryptCost(n=2**6, r=8, p=1)):  # set-up only
        ca = init_ca(ws.keys_dir, institution=institution, passphrase=_passphrase(), now=NOW)
        issued = issue_certificates(
            ws.keys_dir, load_roster(ws.roster_path), None, institution=institution,
            ca_passphrase=_passphrase(), passphrase=_passphrase(), now=NOW,
            days=ws.config.certificate_days,
        )  # fmt: skip
    with open_registry(ws) as registry:
        registry.append([*ca.records, *issued.records], now=NOW)
    sign_everyone(ws, lambda _pid: _passphrase(), year=YEAR, now=NOW, jobs=jobs)
    return root


def _cpu() -> float:
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )  # fmt: skip  (children: the workers and the LibreOffice processes they waited for)


def stage_pades(workspace: Path, jobs: int) -> dict[str, Any]:
    from docgen.core.workspace import find_workspace
    from docgen.registry import open_registry
    from docgen.signing.sign import sign_everyone

    ws = find_workspace(workspace)
    with TreePeak() as peak:
        start, cpu = time.perf_counter(), _cpu()
        sign_everyone(ws, lambda _pid: _passphrase(), year=YEAR, now=NOW, jobs=jobs)
        elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    with open_registry(ws) as registry:
        signatures = sum(1 for _ in registry.entries(type="pdf_signature"))
    return {"signatures": signatures, "seconds": elapsed, "cpu_seconds": cpu, **_memory(peak)}


def stage_verify(workspace: Path, jobs: int) -> dict[str, Any]:
    from docgen.core.workspace import find_workspace
    from docgen.verify.archive import workspace_trust
    from docgen.verify.folder import iter_verify_letters, letters_in_dir
    from docgen.verify.model import LetterStatus

    ws = find_workspace(workspace)
    counts = dict.fromkeys((s.value for s in LetterStatus), 0)
    first_failure = None
    with TreePeak() as peak:
        start, cpu = time.perf_counter(), _cpu()
        letters, _checks = letters_in_dir(ws.year_dir(YEAR), str(ws.year_dir(YEAR)))
        for report in iter_verify_letters(letters, workspace_trust(ws), jobs=jobs):
            counts[report.status.value] += 1
            if report.status is LetterStatus.FAILED and first_failure is None:
                first_failure = [s.detail for s in report.failed_steps]
        elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"letters": sum(counts.values()), "counts": counts, "first_failure": first_failure,
            "seconds": elapsed, "cpu_seconds": cpu, **_memory(peak)}  # fmt: skip


def stage_naive(workspace: Path, sample: int) -> dict[str, Any]:
    from docgen.letters.soffice import find_soffice

    soffice = find_soffice()
    assert soffice is not None
    letters = sorted((workspace / "output" / str(YEAR)).rglob("*.docx"))
    step = max(1, len(letters) // sample)
    chosen = letters[::step][:sample]
    out = Path(tempfile.mkdtemp(prefix="naive-", dir=workspace))
    profile = f"-env:UserInstallation={(out / 'profile').as_uri()}"

    def convert(path: Path) -> None:
        subprocess.run(
            [soffice, profile, "--headless", "--convert-to", "pdf", "--outdir", str(out),
             str(path)],
            check=True, capture_output=True,
        )  # fmt: skip

    convert(chosen[0])  # the profile is made on the first start: not timed
    with TreePeak() as peak:
        start, cpu = time.perf_counter(), _cpu()
        for path in chosen:
            convert(path)
        elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    made = sorted(out.glob("*.pdf"))
    # What docgen adds to each PDF LibreOffice writes (pdfa.normalize_pdf), timed on these.
    from docgen.letters.pdfa import normalize_pdf

    start = time.perf_counter()
    for pdf in made:
        normalize_pdf(pdf.read_bytes(), when=NOW, ident=bytes(16), label=pdf.name)
    fixup = (time.perf_counter() - start) / max(1, len(made))
    return {"letters": len(chosen), "made": len(made), "seconds": elapsed, "cpu_seconds": cpu,
            "fixup_seconds": fixup, **_memory(peak)}  # fmt: skip


def stage_docgen(workspace: Path, jobs: int, batch: int) -> dict[str, Any]:
    from docgen.core.workspace import find_workspace
    from docgen.letters.rendition import make_renditions

    ws = find_workspace(workspace)
    with TreePeak() as peak:
        start, cpu = time.perf_counter(), _cpu()
        result = make_renditions(ws, YEAR, now=NOW, jobs=jobs, batch=batch)
        elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"letters": result.made, "seconds": elapsed, "cpu_seconds": cpu, **_memory(peak)}


def _memory(peak: TreePeak) -> dict[str, float]:
    return {"largest_mib": peak.largest_kib / 1024, "total_mib": peak.total_kib / 1024}


def run_stage(argv: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--stage", *argv], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--naive-sample", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        name, workspace, *rest = args.stage
        if name == "naive":
            result = stage_naive(Path(workspace), int(rest[0]))
        elif name == "pades":
            result = stage_pades(Path(workspace), int(rest[0]))
        elif name == "verify":
            result = stage_verify(Path(workspace), int(rest[0]))
        else:
            result = stage_docgen(Path(workspace), int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return 0

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    workspace = setup(workdir, args.letters, args.jobs)
    letters = len(list((workspace / "output" / str(YEAR)).rglob("*.docx")))
    print(f"set-up: {letters} letters generated in {time.perf_counter() - started:.0f} s")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load before "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    naive = run_stage(["naive", str(workspace), str(args.naive_sample)])
    per_naive = naive["seconds"] / naive["letters"]
    print(f"naive: {naive['letters']} letters in {naive['seconds']:.1f} s "
          f"({per_naive * 1000:.0f} ms/letter), load {os.getloadavg()[0]:.1f}")  # fmt: skip
    docgen = run_stage(["docgen", str(workspace), str(args.jobs), str(args.batch)])
    per_docgen = docgen["seconds"] / max(1, docgen["letters"])
    print(f"docgen: {docgen['letters']} letters in {docgen['seconds']:.1f} s, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    pades = run_stage(["pades", str(workspace), str(args.jobs)])
    print(f"pades: {pades['signatures']} signatures in {pades['seconds']:.1f} s, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    verify = run_stage(["verify", str(workspace), str(args.jobs)])
    print(f"verify: {verify['letters']} letters in {verify['seconds']:.1f} s "
          f"({verify['counts']}), load {os.getloadavg()[0]:.1f}")  # fmt: skip
    if verify["first_failure"]:
        print(f"first verification failure: {verify['first_failure']}")
    print()
    print("| | items | time | ms/item | items/s | CPU ms/item "
          "| peak RSS: largest process / whole tree |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| naive: one `soffice --convert-to pdf` per letter | {letters} (from {naive['letters']}) "
        f"| {per_naive * letters:.0f} s (extrapolated) | {per_naive * 1000:.0f} "
        f"| {1 / per_naive:.1f} | {naive['cpu_seconds'] / naive['letters'] * 1000:.0f} "
        f"| {naive['largest_mib']:.0f} / {naive['total_mib']:.0f} MiB |"
    )
    for label, stage, items in (
        (f"docgen pdf: batches of {args.batch}, {args.jobs} workers", docgen, "letters"),
        (f"PAdES with CJK stamp, bulk, {args.jobs} workers (per signature)", pades, "signatures"),
        (f"verify every letter with its PDF, {args.jobs} workers", verify, "letters"),
    ):
        count = max(1, stage[items])
        print(
            f"| {label} | {stage[items]} | {stage['seconds']:.0f} s "
            f"| {stage['seconds'] / count * 1000:.0f} | {count / stage['seconds']:.1f} "
            f"| {stage['cpu_seconds'] / count * 1000:.0f} "
            f"| {stage['largest_mib']:.0f} / {stage['total_mib']:.0f} MiB |"
        )
    cpu = docgen["cpu_seconds"] / max(1, docgen["letters"])
    print(f"\nspeed-up: {per_naive / per_docgen:.1f}×; 10⁴ letters at this rate: "
          f"{per_docgen * 10_000 / 60:.1f} min")  # fmt: skip
    print(
        f"docgen CPU: {cpu * 1000:.0f} ms a letter (all processes), of which docgen's own "
        f"PDF fix-up ≈ {naive['fixup_seconds'] * 1000:.0f} ms; on {os.cpu_count()} idle cores "
        f"10⁴ letters would take ≥ {cpu * 10_000 / (os.cpu_count() or 1) / 60:.1f} min"
    )
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
