"""Crash safety: ``generate`` and ``sign`` killed with SIGKILL at any moment never leave a half
letter, a half signature, a half-recorded registry append or a duplicate entry behind, and a
re-run always completes the work.

Two kinds of kill: at random moments (seeded delays, the way a power cut strikes), and at exact
points of the commit protocol (inside the registry transaction, between the files and the
registry, right after the registry commit) through a small harness that sends the process
SIGKILL from inside when it reaches that point. Both kill the real ``python -m docgen`` process.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from docgen.core.workspace import Workspace, find_workspace
from docgen.records.state import read_year_state
from docgen.registry import open_registry
from docgen.signing import cades_verify
from docgen.signing.ca import load_ca_certificate
from tests.conftest import NOW, PASSPHRASE
from tests.helpers import run_docgen
from tests.signed_year import build_workspace, copy_workspace

YEAR = 2027
SEED = 20270105

# Runs docgen, sending itself SIGKILL the N-th time it reaches a point of the commit protocol:
#   docx / p7s / proof.json — just before renaming the N-th finished temporary file of that kind
#                             into place (the temporary file is left behind, as after a power cut);
#   manifest.json, …        — the same for a file of that exact name (atomic_write's rename);
#   checkpoint              — inside the registry's append transaction, entries inserted but the
#                             new checkpoint not yet signed and nothing committed.
HARNESS = r"""
import os, signal, sys
point, count = os.environ["DOCGEN_TEST_KILL_AT"].rsplit(":", 1)
count = int(count)
seen = [0]

def reached():
    seen[0] += 1
    if seen[0] == count:
        os.kill(os.getpid(), signal.SIGKILL)

if point == "checkpoint":
    import docgen.registry.store as store
    real_sign = store.sign_checkpoint
    def sign_checkpoint(checkpoint, signer):
        if checkpoint.size > 0:
            reached()
        return real_sign(checkpoint, signer)
    store.sign_checkpoint = sign_checkpoint
else:
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith("." + point) or os.path.basename(str(dst)) == point:
            reached()
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace

from docgen.cli import main
sys.argv = ["docgen", *sys.argv[1:]]
main()
"""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DOCGEN_NOW=NOW.isoformat(), DOCGEN_PASSPHRASE=PASSPHRASE, PYTHONDONTWRITEBYTECODE="1"
    )
    env.update(extra)
    env.pop("DOCGEN_DATABASE_URL", None)
    return env


def _docgen(root: Path, args: list[str], *, kill_at: str | None = None) -> subprocess.Popen[str]:
    prefix = ["-c", HARNESS] if kill_at else ["-m", "docgen"]
    extra = {"DOCGEN_TEST_KILL_AT": kill_at} if kill_at else {}
    return subprocess.Popen(
        [sys.executable, *prefix, *args, "-w", str(root)],
        env=_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_after(proc: subprocess.Popen[str], delay: float) -> bool:
    """SIGKILL ``proc`` after ``delay`` seconds; True if it was still running."""
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        return True
    proc.communicate(timeout=60)
    return False


def _duration(root: Path, args: list[str]) -> float:
    """How long ``args`` takes from start to exit on this machine (to aim the random kills)."""
    started = time.monotonic()
    proc = _docgen(root, args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    return time.monotonic() - started


def _killed_at(root: Path, args: list[str], point: str) -> None:
    proc = _docgen(root, args, kill_at=point)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {point}: {out}{err}"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rerun(monkeypatch: pytest.MonkeyPatch, root: Path, *args: str) -> str:
    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    outcome = run_docgen(*args, "-w", str(root))
    assert outcome.code == 0, outcome.text
    assert "Traceback" not in outcome.text
    return outcome.out


def _records(ws: Workspace) -> list[dict[str, Any]]:
    """Every entry, after checking the registry is dense, audited and not duplicated."""
    with open_registry(ws) as registry:
        entries = list(registry.entries())
        audit = registry.audit()
        size = registry.size()
    assert audit.ok, audit.problems
    assert [e.index for e in entries] == list(range(size))
    records = [e.record for e in entries]
    signatures = Counter((r["doc_id"], r["signer"]) for r in records if r["type"] == "signature")
    assert all(n == 1 for n in signatures.values()), signatures.most_common(2)
    documents = Counter((r["doc_id"], r["sha256"]) for r in records if r["type"] == "document")
    assert all(n == 1 for n in documents.values()), documents.most_common(2)
    return records


def _temp_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "output").rglob(".*.tmp") if p.is_file())


def _letters(ws: Workspace, year: int) -> dict[str, Path]:
    year_dir = ws.year_dir(year)
    return {p.relative_to(year_dir).as_posix(): p for p in year_dir.rglob("*.docx")}


def _check_signature_files(ws: Workspace, records: list[dict[str, Any]]) -> int:
    """Every .p7s on disk is a whole, valid signature by the person its name says, over its
    letter; every registered signature has its file with the registered bytes."""
    ca_cert = load_ca_certificate(ws.keys_dir)
    year_dir = ws.year_dir(YEAR)
    documents = {r["doc_id"]: r for r in records if r["type"] == "document"}
    count = 0
    for p7s in sorted(year_dir.rglob("*.p7s")):
        letter_path, signer = p7s.name.removesuffix(".p7s").rsplit(".", 1)
        data = (p7s.parent / letter_path).read_bytes()
        status = cades_verify.verify_detached(
            data, p7s.read_bytes(), ca_cert=ca_cert, crl=None, at=NOW
        )
        assert status.valid, (p7s, status.failures)
        assert status.signer_id == signer
        count += 1
    for record in records:
        if record["type"] == "signature":
            rel = documents[record["doc_id"]]["path"] + f".{record['signer']}.p7s"
            assert _sha(year_dir / rel) == record["p7s_sha256"], rel
    return count


# --------------------------------------------------------------------------------------------
# killed at random moments


def test_generate_killed_at_random_moments(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each round generates a new year, is killed part-way, checked, and run again."""
    ws = find_workspace(keyed_workspace)
    rng = random.Random(SEED)
    full = _duration(keyed_workspace, ["generate", "--year", str(YEAR + 20)])
    kills = 0
    for year in range(YEAR + 1, YEAR + 11):
        proc = _docgen(keyed_workspace, ["generate", "--year", str(year)])
        killed = _kill_after(proc, full * rng.uniform(0.3, 0.95))
        full = full if killed else full * 0.7  # finished first: aim earlier next time
        kills += killed
        after_kill = {rel: _sha(p) for rel, p in _letters(ws, year).items()}
        _records(ws)  # the interrupted append either happened whole or not at all

        _rerun(monkeypatch, keyed_workspace, "generate", "--year", str(year))
        assert not _temp_files(keyed_workspace)  # a killed run's temporary files are cleaned
        records = _records(ws)
        registered: dict[str, set[str]] = {}
        for r in records:
            if r["type"] == "document" and r["year"] == year:
                registered.setdefault(r["path"], set()).add(r["sha256"])
        # No partial letter was ever visible: what the kill left is what was (or is) registered.
        for rel, sha in after_kill.items():
            assert sha in registered.get(rel, set()), f"{year}: {rel} was half-written"
        now_on_disk = {rel: _sha(p) for rel, p in _letters(ws, year).items()}
        assert set(now_on_disk) == set(registered)
        assert all(now_on_disk[rel] in shas for rel, shas in registered.items())
        for rel in registered:
            assert (ws.year_dir(year) / (rel + ".proof.json")).is_file()
        report = run_docgen("verify", "--json", "-w", str(keyed_workspace), str(ws.year_dir(year)))
        letters = json.loads(report.out)["letters"]
        assert len(letters) == len(registered)
        assert {x["status"] for x in letters} == {"incomplete"}, report.out[-1500:]
    assert kills >= 6, "most rounds must really be interrupted"


def test_sign_killed_at_random_moments(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each round one person signs, is killed part-way, the files are checked, and signs again."""
    ws = find_workspace(keyed_workspace)
    rng = random.Random(SEED + 1)
    people = ["P001", "P002", "P003", "P004", "P005", "P006", "P007", "P008", "P009", "P010"]
    full = _duration(keyed_workspace, ["sign", "--as", "P011"])
    kills = 0
    for person in people:
        proc = _docgen(keyed_workspace, ["sign", "--as", person])
        killed = _kill_after(proc, full * rng.uniform(0.3, 0.95))
        full = full if killed else full * 0.7  # finished first: aim earlier next time
        kills += killed
        _check_signature_files(ws, _records(ws))

        _rerun(monkeypatch, keyed_workspace, "sign", "--as", person)
        assert not _temp_files(keyed_workspace)
        records = _records(ws)
        _check_signature_files(ws, records)
        with open_registry(ws) as registry:
            state = read_year_state(registry, YEAR)
        mine = [s for s in state.active() if person in s.party_ids().values()]
        assert mine and all(person in s.signatures for s in mine)
    assert kills >= 6, "most rounds must really be interrupted"


# --------------------------------------------------------------------------------------------
# killed at exact points of the commit protocol


def test_kill_inside_the_registry_transaction_records_nothing(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed inside the append: nothing registered, and no .p7s visible under its name (the
    signatures were only staged); the rerun removes the staged files, says so, and signs."""
    ws = find_workspace(keyed_workspace)
    size_before = len(_records(ws))
    _killed_at(keyed_workspace, ["sign", "--as", "P002"], "checkpoint:1")
    records = _records(ws)
    assert len(records) == size_before  # rolled back: no entry without its checkpoint
    assert not sorted(ws.year_dir(YEAR).rglob("*.P002.p7s"))  # nothing unregistered visible
    staged = _temp_files(keyed_workspace)
    assert staged and all(".P002.p7s." in t.name for t in staged)
    _check_signature_files(ws, records)

    out = _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P002")
    assert f"已删除 {len(staged)} 个未登记的签名文件" in out
    assert not _temp_files(keyed_workspace)
    records = _records(ws)
    signed = [r for r in records if r["type"] == "signature"]
    assert {r["signer"] for r in signed} == {"P002"}
    assert len(signed) == len(staged)
    assert _check_signature_files(ws, records) == len(signed)


def test_kill_while_publishing_after_the_registry_commit(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the append committed, while the .p7s were being renamed into place: the
    registry holds every signature, two files are in place, the rest staged; the next run
    (any signer's) puts the registered ones in place, says so, and verify passes them."""
    ws = find_workspace(keyed_workspace)
    size_before = len(_records(ws))
    _killed_at(keyed_workspace, ["sign", "--as", "P001"], "p7s:3")
    records = _records(ws)
    signed = [r for r in records[size_before:] if r["type"] == "signature"]
    assert signed and {r["signer"] for r in signed} == {"P001"}
    assert len(sorted(ws.year_dir(YEAR).rglob("*.P001.p7s"))) == 2  # renamed whole, or not at all
    temps = _temp_files(keyed_workspace)
    assert len(temps) == len(signed) - 2 and all(".P001.p7s." in t.name for t in temps)

    out = _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P003")
    assert f"已补齐 {len(signed) - 2} 个已登记的文件" in out
    assert not _temp_files(keyed_workspace)
    records = _records(ws)
    assert _check_signature_files(ws, records) == sum(
        1 for r in records if r["type"] == "signature"
    )
    again = _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P001")
    assert "已签署过全部" in again


@pytest.mark.parametrize("point", ["docx:5", "checkpoint:1"])
def test_generate_killed_at_a_phase_leaves_no_temporary_file_after_the_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """A generate killed while renaming letters into place leaves staged files behind; the next
    generate cleans them (saying so) and completes; killed inside its registry append, the rerun
    registers the letters already in place. Either way the letters on disk are the registered."""
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import demo_roster_yaml

    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml())
    _killed_at(root, ["generate"], point)
    left = _temp_files(root)
    # Letters are renamed into place before their append (generate is rerun to the same bytes):
    # killed in the append, nothing is staged any more.
    assert bool(left) == point.startswith("docx")
    out = _rerun(monkeypatch, root, "generate")
    assert ("临时文件" in out) == bool(left)
    assert not _temp_files(root)
    ws = find_workspace(root)
    records = _records(ws)
    registered = {r["path"] for r in records if r["type"] == "document"}
    assert set(_letters(ws, YEAR)) == registered


@pytest.mark.parametrize(
    ("point", "kinds"),
    [
        # staged .p7s files and the journal's own temporary file, the journal not yet in place
        ("docgen-publish.json:1", (".P002.p7s.", ".docgen-publish.json.")),
        # atomic_write of the year's manifest, after the signatures were published
        ("manifest.json:1", (".manifest.json.",)),
    ],
)
def test_a_killed_signer_leaves_no_journal_and_the_next_run_still_cleans(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch, point: str, kinds: tuple[str, ...]
) -> None:
    """Killed where no publish journal tells what it staged: only the lock knows the signer
    died. The next command (another signer's) removes every temporary file it left, says how
    many, and the recovery marker is gone afterwards."""
    ws = find_workspace(keyed_workspace)
    _killed_at(keyed_workspace, ["sign", "--as", "P002"], point)
    assert not (ws.year_dir(YEAR) / ".docgen-publish.json").exists()
    left = _temp_files(keyed_workspace)
    for kind in kinds:
        assert any(kind in t.name for t in left), (kind, left)

    out = _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P003")
    assert f"已清理上次中断留下的 {len(left)} 个临时文件" in out
    assert not _temp_files(keyed_workspace)
    assert not (keyed_workspace / ".docgen-recover").exists()
    records = _records(ws)
    _check_signature_files(ws, records)


def test_a_clean_run_does_not_walk_the_year_and_a_killed_one_makes_the_next_walk(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a clean run the next signer does not walk the output folder (os.walk counted) and
    leaves a temporary-looking file alone: no lock holder died, so it is not a leftover (a
    writer without the lock may be writing it now). Once a lock holder of any kind is killed
    (here a stand-in for void / pdf / archive, which do not recover themselves), the next
    signer walks every year folder and removes it, with the Chinese message."""
    ws = find_workspace(keyed_workspace)
    _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P001")  # state: a clean release
    other_year = ws.year_dir(YEAR - 1)
    other_year.mkdir(parents=True)
    planted = [
        ws.year_dir(YEAR) / ".manifest.json.u2b7c4q1.tmp",  # mkstemp's pattern
        other_year / ".letter.docx.0123456789ab.tmp",  # durable.staged_for's pattern
    ]
    for path in planted:
        path.write_bytes(b"half")
    output = str(keyed_workspace / "output")
    walked: list[str] = []
    real_walk = os.walk

    def counting_walk(top: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(top).startswith(output):
            walked.append(os.fspath(top))
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", counting_walk)
    out = _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P002")
    assert walked == []
    assert all(path.exists() for path in planted)
    assert "临时文件" not in out

    holder = subprocess.run(
        [sys.executable, "-c", KILLED_HOLDER, str(keyed_workspace)], env=_env(), timeout=60
    )
    assert holder.returncode == -signal.SIGKILL
    assert (keyed_workspace / ".docgen.lock").read_bytes().startswith(b"held ")
    out = _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P003")
    assert sorted(walked) == sorted({str(ws.year_dir(YEAR)), str(other_year)})
    assert "已清理上次中断留下的 2 个临时文件" in out
    assert not any(path.exists() for path in planted)
    assert not (keyed_workspace / ".docgen-recover").exists()

    walked.clear()
    _rerun(monkeypatch, keyed_workspace, "sign", "--as", "P004")
    assert walked == []  # the walk ran once; the state is clean again


# A lock holder that is killed while it holds the workspace lock (what a killed ``void``,
# ``pdf`` or ``archive`` is, seen from the lock).
KILLED_HOLDER = r"""
import os, signal, sys
from pathlib import Path
from docgen.core.lock import workspace_lock
with workspace_lock(Path(sys.argv[1])):
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("command", ["sign", "generate"])
def test_kill_right_after_the_registry_commit_is_repaired_by_a_rerun(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """The registry is the truth; the proof bundles are views of it that a re-run must refresh.

    ``sign``: killed after its signatures are registered, before any proof bundle names them.
    ``generate``: killed after a changed, unsigned letter was registered again, before its proof
    bundle was rewritten. Re-running the same command and then ``generate`` must leave every
    letter verifiable.
    """
    ws = find_workspace(keyed_workspace)
    if command == "sign":
        args = ["sign", "--as", "P002"]
    else:
        config = keyed_workspace / "docgen.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace(
                'institution = "庆城县人民检察院"', 'institution = "庆城县人民检察院(更名)"'
            ),
            encoding="utf-8",
        )
        args = ["generate"]
    _killed_at(keyed_workspace, args, "proof.json:1")
    _records(ws)
    _rerun(monkeypatch, keyed_workspace, *args)
    _rerun(monkeypatch, keyed_workspace, "generate")
    report = run_docgen("verify", "--json", "-w", str(keyed_workspace), str(ws.year_dir(YEAR)))
    statuses = Counter(x["status"] for x in json.loads(report.out)["letters"])
    assert statuses["failed"] == 0, statuses


# --------------------------------------------------------------------------------------------
# what a crash leaves behind is never taken for a letter


def test_leftover_temporary_files_are_not_letters(tmp_path: Path) -> None:
    """Temporary files of interrupted writes (``.<name>.<random>.tmp``) are ignored by verify
    and never packed by archive."""
    ws = build_workspace(tmp_path / "signed")
    year_dir = ws.year_dir(YEAR)
    letter = sorted(year_dir.rglob("*.docx"))[0]
    half = letter.read_bytes()[:1000]
    planted = [
        letter.parent / f".{letter.name}.k3j9x2.tmp",
        letter.parent / f".{letter.name}.P001.p7s.a8f0q1.tmp",
        letter.parent / f".{letter.name}.proof.json.zz81ab.tmp",
        year_dir / ".manifest.json.u2b7c4.tmp",
    ]
    for path in planted:
        path.write_bytes(half)
    verified = run_docgen("verify", "--json", "-w", str(ws.root), str(year_dir))
    assert verified.code == 0, verified.text[-2000:]
    report = json.loads(verified.out)
    assert len(report["letters"]) == 11 and report["ok"]
    assert ".tmp" not in verified.out

    archived = run_docgen("archive", "-w", str(ws.root))
    assert archived.code == 0, archived.text
    archive = year_dir / f"archive-{YEAR}.zip"
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert names and not [n for n in names if n.endswith(".tmp") or "/." in n]
    again = run_docgen("verify", "-w", str(ws.root), str(archive))
    assert again.code == 0, again.text[-2000:]


def test_a_killed_archive_leaves_no_partial_zip(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "signed")
    copy = copy_workspace(ws.root, tmp_path / "copy")
    archive = copy.year_dir(YEAR) / f"archive-{YEAR}.zip"
    _killed_at(copy.root, ["archive"], "zip:1")
    assert not archive.exists()
    assert [p.name for p in _temp_files(copy.root)] != []
    started = time.monotonic()
    outcome = run_docgen("archive", "-w", str(copy.root))
    assert outcome.code == 0, outcome.text
    assert time.monotonic() - started < 60
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
