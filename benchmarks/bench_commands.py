"""What one person's command costs in a large year: status, one signer, a void, generate again.

Usage::

    python benchmarks/bench_commands.py --workspace DIR [--year 2027] [--archive]
    python benchmarks/bench_commands.py --letters 10000 [--jobs J] [--workdir DIR]

``--workspace``: a signed year as ``benchmarks/bench.py --workdir DIR`` leaves it
(``DIR/ws-N``); ``--letters``: build one first with bench.py's stages (generate, keys, sign).
The commands run in this order, each as ``python -m docgen`` in its own process (its time is
the wall clock of that process, its peak RSS the process's own ``ru_maxrss`` from ``wait4``):

* ``status`` (text, at most 1 000 letters listed), ``status --json``, ``status --person``;
* ``generate`` again with nothing changed (every letter rendered and compared);
* ``void`` of one letter, ``generate --reissue`` (its new revision), ``sign --as`` by each of
  its two parties — what a real year at scale does one person at a time;
* ``verify`` of that one letter;
* with ``--archive``: ``archive --partial`` of the whole year.

The workspace is changed (one letter voided and reissued): use a copy to keep the original.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import NOW, PASSPHRASE, YEAR, code_version, machine, run_stage


@dataclass(frozen=True)
class Measured:
    label: str
    seconds: float
    peak_mib: float
    code: int
    last_line: str


def run_command(label: str, args: list[str], env: dict[str, str]) -> Measured:
    """Run ``python -m docgen ARGS`` and measure that process alone: ``wait4`` gives this
    child's own resource use (``RUSAGE_CHILDREN`` would mix in the earlier ones)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "docgen", *args], stdout=out, stderr=err, env=env
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        text = (_tail(out) or _tail(err)).strip().splitlines()
    return Measured(label, seconds, usage.ru_maxrss / 1024, code, text[-1][:70] if text else "")


def _tail(file: IO[bytes], size: int = 4096) -> str:
    """The end of a command's output. Never the whole of it: a child's peak RSS as ``wait4``
    reports it starts from this process's own (a forked child inherits the high-water mark), so
    this process must stay small — reading 10⁵ letters of ``status --json`` would not."""
    end = file.seek(0, os.SEEK_END)
    file.seek(max(0, end - size))
    return file.read().decode("utf-8", errors="replace")


def first_letter(year_dir: Path, code: str) -> tuple[str, str, str]:
    """The first letter of a kind (by its id code) that both parties have signed, from the
    manifest: (doc id, superior, subordinate). The synthetic roster's ids hold no "-", so the
    parties are the id's parts. Read line by line: this process must stay small (see _tail)."""
    doc_id = ""
    with (year_dir / "manifest.json").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith('      "doc_id": '):
                doc_id = json.loads(line.split(": ", 1)[1].rstrip(",\n"))
            elif line == '      "status": "complete",\n' and f"-{code}-" in doc_id:
                parts = doc_id.split("-")
                if len(parts) == 4:  # not a reissued revision
                    return doc_id, parts[2], parts[3]
    raise SystemExit(f"no signed {code} letter in {year_dir / 'manifest.json'}")


def reissued_file(year_dir: Path, doc_id: str) -> Path:
    """The file of ``doc_id``'s newest revision, found without listing a folder into memory."""
    found: list[str] = []
    for folder in year_dir.iterdir():
        if folder.is_dir():
            with os.scandir(folder) as entries:
                found += [
                    e.path
                    for e in entries
                    if e.name.startswith(f"{doc_id}-R") and e.name.endswith(".docx")
                ]
    if not found:
        raise SystemExit(f"no reissued revision of {doc_id} in {year_dir}")
    return Path(max(found))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="docgen: one person's commands in a large year")
    parser.add_argument("--workspace", type=Path, help="a signed bench workspace (changed!)")
    parser.add_argument("--letters", type=int, help="build a signed year of this roster size")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--archive", action="store_true", help="also time archive --partial")
    args = parser.parse_args(argv)
    if (args.workspace is None) == (args.letters is None):
        parser.error("give --workspace or --letters")

    version = code_version()
    if args.workspace is not None:
        workspace = args.workspace.resolve()
    else:
        from make_roster import make_roster_yaml

        from docgen.letters.workspace_init import init_workspace

        base = args.workdir or Path(tempfile.mkdtemp(prefix="docgen-bench-commands-"))
        workspace = (base / f"ws-{args.letters}").resolve()
        init_workspace(
            workspace, institution="某省人民检察院(基准测试)", year=YEAR,
            roster_yaml=make_roster_yaml(args.letters),
        )  # fmt: skip
        for stage in ("generate", "keys", "sign"):
            run_stage(stage, workspace, args.jobs, 1)

    env = {
        **os.environ,
        "DOCGEN_NOW": NOW.replace(day=NOW.day + 1).isoformat(),
        "DOCGEN_PASSPHRASE": PASSPHRASE.decode(),
    }
    ws = ["-w", str(workspace)]
    year = ["--year", str(YEAR)]
    year_dir = workspace / "output" / str(YEAR)
    doc_id, superior, subordinate = first_letter(year_dir, "LJ")
    letters = sum(1 for _ in (year_dir / "manifest.json").open(encoding="utf-8")
                  if _.startswith('      "doc_id": '))  # fmt: skip

    commands = [
        ("status (text)", ["status", *ws, *year]),
        ("status --json", ["status", *ws, *year, "--json"]),
        (f"status --person {subordinate}", ["status", *ws, *year, "--person", subordinate]),
        ("generate again (nothing changed)", ["generate", *ws, *year]),
        (f"void {doc_id}", ["void", *ws, doc_id, "--reason", "人员调离"]),
        ("generate --reissue (one new revision)", ["generate", *ws, *year, "--reissue"]),
        (f"sign --as {superior} (one letter)", ["sign", *ws, *year, "--as", superior]),
        (f"sign --as {subordinate} (one letter)", ["sign", *ws, *year, "--as", subordinate]),
    ]
    runs = [run_command(label, command, env) for label, command in commands]
    reissued = reissued_file(year_dir, doc_id)
    runs.append(run_command("verify one letter", ["verify", *ws, str(reissued)], env))
    if args.archive:
        whole = ["archive", *ws, *year, "--partial"]
        runs.append(run_command("archive --partial (whole year)", whole, env))

    print(f"docgen commands in a year of {letters:,} letters; {machine()}; {version}")
    print()
    print("| command | seconds | peak RSS MiB | exit | last line printed |")
    print("|---|---:|---:|---:|---|")
    for run in runs:
        line = run.last_line.replace("|", "\\|")
        print(f"| {run.label} | {run.seconds:.1f} | {run.peak_mib:.0f} | {run.code} | {line} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
