"""The bulk path: worker processes give the same letters, registry and proofs as one process,
byte for byte, and the same bytes as docxtpl itself; bulk signing and verifying in workers."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import docx
import pytest

from docgen.core.durable import atomic_write_many
from docgen.core.glossary import LetterKind
from docgen.core.workspace import find_workspace
from docgen.demo.run import setup_keys
from docgen.letters.generate import Change, generate, letter_context
from docgen.letters.render import load_template, render_letter
from docgen.letters.workspace_init import init_workspace
from docgen.records.letter_code import RegistryIdentity
from docgen.registry import open_registry
from docgen.roster.hierarchy import build_pairings
from docgen.roster.load import load_roster
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_everyone
from docgen.verify.archive import workspace_trust
from docgen.verify.model import LetterStatus
from docgen.verify.paths import verify_paths

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from make_roster import EDGE_NAMES, make_roster_yaml

YEAR = 2027
ROSTER = make_roster_yaml(40)  # two departments: every template and tier, every awkward name
SMALL_CHUNK = 8  # several chunks, so that two workers really share the letters


def _workspace(root: Path, registry_key_from: Path | None = None) -> Path:
    init_workspace(root, institution="测试院", year=YEAR, roster_yaml=ROSTER)
    if registry_key_from is not None:
        # The same registry signing key, so that signed checkpoints can be compared byte for byte.
        shutil.copytree(registry_key_from / "keys" / "registry", root / "keys" / "registry")
    return root


def _files(root: Path) -> dict[str, bytes]:
    output = root / "output"
    return {
        p.relative_to(output).as_posix(): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file()
    }


def _entries(root: Path) -> list[bytes]:
    with open_registry(find_workspace(root)) as registry:
        return [entry.data for entry in registry.entries()]


def test_roster_has_every_awkward_name_and_template(tmp_path: Path) -> None:
    ws = find_workspace(_workspace(tmp_path / "ws"))
    roster = load_roster(ws.roster_path)
    assert set(EDGE_NAMES) <= {p.name for p in roster.people}
    kinds = {p.kind for p in build_pairings(roster, YEAR, ws.config.pairing).pairings}
    assert kinds == set(LetterKind)


def test_jobs_1_and_2_give_identical_files_and_registry(tmp_path: Path, now: datetime) -> None:
    one = _workspace(tmp_path / "one")
    with open_registry(find_workspace(one)):
        pass  # creates the registry key
    two = _workspace(tmp_path / "two", registry_key_from=one)

    first = generate(find_workspace(one), YEAR, now=now, jobs=1, chunk_size=SMALL_CHUNK)
    second = generate(find_workspace(two), YEAR, now=now, jobs=2, chunk_size=SMALL_CHUNK)

    assert first.count(Change.NEW) == second.count(Change.NEW) > 5 * SMALL_CHUNK
    assert [o.doc_id for o in first.outcomes] == [o.doc_id for o in second.outcomes]
    files_one, files_two = _files(one), _files(two)
    assert files_one.keys() == files_two.keys()
    assert any(name.endswith(".proof.json") for name in files_one)
    for name in files_one:
        assert files_one[name] == files_two[name], name
    assert _entries(one) == _entries(two)
    assert not [p for p in (two / "output").rglob("*.tmp")]


def test_a_letter_failing_in_a_worker_leaves_nothing_behind(tmp_path: Path, now: datetime) -> None:
    """A letter of the second chunk cannot be rendered while the other worker renders later
    chunks: no letter, no temporary file, no registry entry is left."""
    root = _workspace(tmp_path / "ws")
    ws = find_workspace(root)
    pairings = build_pairings(load_roster(ws.roster_path), YEAR, ws.config.pairing).pairings
    failing = pairings[SMALL_CHUNK]
    template = ws.templates_dir / f"{failing.kind.value}.docx"
    template.write_bytes(load_template(None, failing.kind))
    document = docx.Document(str(template))
    document.add_paragraph(f"{{{{ doc_id if doc_id != '{failing.doc_id}' else (1 / 0) }}}}")
    document.save(str(template))
    with pytest.raises(ZeroDivisionError):
        generate(ws, YEAR, now=now, jobs=2, chunk_size=SMALL_CHUNK)
    assert not [p for p in root.rglob("*") if p.is_file() and "output" in p.parts]
    assert _entries(root) == []


_KILLED_RUN = """
import sys
from datetime import UTC, datetime
from docgen.letters.generate import generate
from pathlib import Path
from docgen.core.workspace import find_workspace
generate(find_workspace(Path(sys.argv[1])), 2027, now=datetime(2027, 1, 5, tzinfo=UTC), jobs=2,
         chunk_size=1)
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_workers_end_when_the_main_process_is_killed(tmp_path: Path) -> None:
    """kill -9 of a bulk run must not leave worker processes behind."""
    root = _workspace(tmp_path / "ws")
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(root)])
    children_file = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 60
    children: list[int] = []
    while len(children) < 2 and time.monotonic() < deadline and proc.poll() is None:
        children = [int(pid) for pid in children_file.read_text().split()]
        time.sleep(0.02)
    assert len(children) >= 2, "the workers did not start"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if _alive(pid)], "orphaned workers still running"


def test_worker_output_is_byte_identical_to_plain_docxtpl(tmp_path: Path, now: datetime) -> None:
    root = _workspace(tmp_path / "ws")
    ws = find_workspace(root)
    generate(ws, YEAR, now=now, jobs=2, chunk_size=SMALL_CHUNK)
    roster = load_roster(ws.roster_path)
    templates = {kind: load_template(None, kind) for kind in LetterKind}
    seen_names: set[str] = set()
    checked = 0
    with open_registry(ws) as registry:
        by_id = {e.record["doc_id"]: e.record for e in registry.entries(type="document")}
        identity = RegistryIdentity.of_registry(registry)  # named by each letter's QR code
    for pairing in build_pairings(roster, YEAR, ws.config.pairing).pairings:
        record = by_id[pairing.doc_id]
        data = (ws.year_dir(YEAR) / record["path"]).read_bytes()
        context = letter_context(pairing, roster, ws.config.institution, pairing.doc_id, identity)
        plain = render_letter(templates[pairing.kind], context, year=YEAR)
        assert data == plain, pairing.doc_id
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
        seen_names.add(pairing.subordinate.name)
        checked += 1
    assert set(EDGE_NAMES) <= seen_names
    assert checked == len(by_id)


def test_rerun_with_workers_changes_nothing(tmp_path: Path, now: datetime) -> None:
    ws = find_workspace(_workspace(tmp_path / "ws"))
    generate(ws, YEAR, now=now, jobs=1)
    before = _files(ws.root)
    again = generate(ws, YEAR, now=now, jobs=2, chunk_size=SMALL_CHUNK)
    assert {o.change for o in again.outcomes} == {Change.UNCHANGED}
    assert _files(ws.root) == before


def test_bulk_sign_and_verify_in_workers(tmp_path: Path, now: datetime) -> None:
    ws = find_workspace(_workspace(tmp_path / "ws"))
    generate(ws, YEAR, now=now, jobs=1)
    secret = Passphrase("并行测试口令-2027".encode(), "测试")
    setup_keys(ws, secret, now=now)
    signed = sign_everyone(ws, lambda _pid: secret, year=YEAR, now=now, jobs=2, chunk_size=4)
    with open_registry(ws) as registry:
        documents = sum(1 for _ in registry.entries(type="document"))
    assert signed == 2 * documents

    with open_registry(ws) as registry:  # the year folder is proved complete against it
        in_workers = verify_paths(
            [ws.year_dir(YEAR)], workspace_trust(ws), jobs=2, registry=registry, workspace=ws
        )
        assert in_workers.ok, in_workers.summary()
        assert in_workers.count(LetterStatus.VERIFIED) == documents
        alone = verify_paths(
            [ws.year_dir(YEAR)], workspace_trust(ws), jobs=1, registry=registry, workspace=ws
        )
    assert alone == in_workers
    assert sign_everyone(ws, lambda _pid: secret, year=YEAR, now=now, jobs=2) == 0


def test_atomic_write_many_writes_all_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    files = [(tmp_path / f"d{i % 3}" / f"f{i}.txt", f"内容{i}".encode()) for i in range(25)]
    assert atomic_write_many(files, mode=0o600, batch=7) == 25
    for path, data in files:
        assert path.read_bytes() == data
        assert path.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.rglob("*.tmp"))


def test_atomic_write_many_shows_nothing_of_a_failed_batch(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a directory should be")
    files = [
        (tmp_path / "ok" / "a.txt", b"a"),
        (tmp_path / "blocker" / "b.txt", b"b"),
    ]
    with pytest.raises(OSError):
        atomic_write_many(files)
    assert not (tmp_path / "ok" / "a.txt").exists()
    assert not list(tmp_path.rglob("*.tmp"))
