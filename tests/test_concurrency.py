"""Several docgen processes on one workspace: the locks are real and the registry stays dense.

Each command runs as its own process (``python -m docgen``), started together, the way two clerks
at two terminals would; nothing is shared but the workspace directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from docgen.core.lock import LOCK_NAME, LOCK_WAIT_ENV
from docgen.core.workspace import find_workspace
from docgen.records.state import read_year_state
from docgen.registry import open_registry
from tests.conftest import NOW, PASSPHRASE
from tests.helpers import run_docgen

YEAR = 2027
SIGNERS = ["P001", "P002", "P003", "P004", "P005", "P010", "P020", "P030"]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DOCGEN_NOW=NOW.isoformat(),
        DOCGEN_PASSPHRASE=PASSPHRASE,
        PYTHONDONTWRITEBYTECODE="1",
        **extra,
    )
    env.pop("DOCGEN_DATABASE_URL", None)
    return env


def _start(root: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "docgen", *args, "-w", str(root)],
        env=_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


def _registry_is_dense_and_audited(root: Path) -> list[dict[str, object]]:
    with open_registry(find_workspace(root)) as registry:
        entries = list(registry.entries())
        audit = registry.audit()
        size = registry.size()
    assert audit.ok, audit.problems
    assert [e.index for e in entries] == list(range(size))
    return [e.record for e in entries]


def test_eight_signers_at_once_each_signature_recorded_exactly_once(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = find_workspace(keyed_workspace)
    with open_registry(ws) as registry:
        before = read_year_state(registry, YEAR)
    expected = {
        (letter.doc_id, pid)
        for letter in before.active()
        for pid in letter.party_ids().values()
        if pid in SIGNERS
    }
    assert len(expected) > len(SIGNERS)  # every signer has letters waiting

    procs = [
        _start(keyed_workspace, "sign", "--as", pid, **{LOCK_WAIT_ENV: "200"}) for pid in SIGNERS
    ]
    results = [_finish(p) for p in procs]
    for pid, (code, out, err) in zip(SIGNERS, results, strict=True):
        assert code == 0, f"{pid}: {out}{err}"
        assert "Traceback" not in err
        assert f"{pid} 本次签署" in out

    records = _registry_is_dense_and_audited(keyed_workspace)
    signatures = Counter(
        (str(r["doc_id"]), str(r["signer"])) for r in records if r["type"] == "signature"
    )
    assert set(signatures) == expected
    assert all(n == 1 for n in signatures.values()), signatures.most_common(3)

    # Every letter both of whose parties signed verifies end to end; nothing fails.
    out = run_docgen("verify", "--json", "-w", str(keyed_workspace), str(ws.year_dir(YEAR)))
    report = json.loads(out.out)
    statuses = Counter(letter["status"] for letter in report["letters"])
    assert statuses["failed"] == 0, out.out[-2000:]
    both = sum(1 for letter in before.active() if set(letter.party_ids().values()) <= set(SIGNERS))
    assert statuses["verified"] == both > 0

    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    again = run_docgen("sign", "--as", "P001", "-w", str(keyed_workspace))
    assert again.code == 0 and "已签署过全部" in again.out


def test_two_generate_runs_racing_register_each_letter_once(demo_workspace: Path) -> None:
    first = _start(demo_workspace, "generate", **{LOCK_WAIT_ENV: "200"})
    second = _start(demo_workspace, "generate", **{LOCK_WAIT_ENV: "200"})
    results = [_finish(first), _finish(second)]
    for code, out, err in results:
        assert code == 0, out + err
    outs = sorted(out for _, out, _ in results)
    new_counts = sorted(int(o.split("本次新生成 ")[1].split(" 份")[0]) for o in outs)
    assert new_counts[0] == 0 and new_counts[1] > 40  # one did the work, the other found it done

    records = _registry_is_dense_and_audited(demo_workspace)
    documents = Counter(str(r["doc_id"]) for r in records if r["type"] == "document")
    assert len(documents) == new_counts[1]
    assert all(n == 1 for n in documents.values())
    ws = find_workspace(demo_workspace)
    manifest = json.loads((ws.year_dir(YEAR) / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["documents"]) == len(documents)
    registered = {str(r["path"]): str(r["sha256"]) for r in records if r["type"] == "document"}
    on_disk = {
        p.relative_to(ws.year_dir(YEAR)).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in ws.year_dir(YEAR).rglob("*.docx")
    }
    assert on_disk == registered


def _hold_workspace_lock(root: Path) -> int:
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_busy_workspace_gives_a_clear_message_and_changes_nothing(keyed_workspace: Path) -> None:
    before = _snapshot(keyed_workspace)
    fd = _hold_workspace_lock(keyed_workspace)
    try:
        started = time.monotonic()
        code, out, err = _finish(
            _start(keyed_workspace, "sign", "--as", "P002", **{LOCK_WAIT_ENV: "0.5"})
        )
        waited = time.monotonic() - started
    finally:
        os.close(fd)
    assert code == 1, out + err
    assert "Traceback" not in err
    assert f"错误:工作目录 {keyed_workspace} 正被另一个 docgen 进程使用(已等待 0.5 秒)" in err
    assert LOCK_WAIT_ENV in err
    assert 0.5 <= waited < 30
    assert _snapshot(keyed_workspace) == before

    # Once the holder is gone, the same command goes through.
    code, out, err = _finish(_start(keyed_workspace, "sign", "--as", "P002"))
    assert code == 0, out + err


def test_every_writing_command_waits_for_the_lock(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv(LOCK_WAIT_ENV, "0")
    root = str(keyed_workspace)
    commands = [
        ["generate"],
        ["sign", "--as", "P003"],
        ["void", "2027-ZR-P001-P002", "--reason", "测试"],
        ["keys", "rotate", "--person", "P004"],
        ["keys", "revoke", "--person", "P004", "--reason", "superseded"],
        ["activity", "add", "--kind", "党组专题会议", "--date", "2027-01-04", "--actor", "P001"],
        ["archive", "--partial"],
    ]
    before = _snapshot(keyed_workspace)
    fd = _hold_workspace_lock(keyed_workspace)
    try:
        for args in commands:
            outcome = run_docgen(*args, "-w", root)
            assert outcome.code == 1, (args, outcome.text)
            assert "正被另一个 docgen 进程使用" in outcome.err, (args, outcome.text)
    finally:
        os.close(fd)
    assert _snapshot(keyed_workspace) == before


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_invalid_lock_wait_is_a_usage_error(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(LOCK_WAIT_ENV, value)
    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    outcome = run_docgen("generate", "-w", str(keyed_workspace))
    assert outcome.code == 2
    assert f"环境变量 {LOCK_WAIT_ENV} 的值“{value}”不是有效的秒数" in outcome.err


def test_signing_waits_for_a_registry_write_transaction(keyed_workspace: Path) -> None:
    """SQLite's BEGIN IMMEDIATE is honoured: a writer holding the database delays, not breaks."""
    ws = find_workspace(keyed_workspace)
    with open_registry(ws) as registry:
        size_before = registry.size()
    holder = sqlite3.connect(ws.registry_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        time.sleep(1.5)
        holder.rollback()
        released.set()

    thread = threading.Thread(target=release)
    started = time.monotonic()
    thread.start()
    try:
        code, out, err = _finish(_start(keyed_workspace, "sign", "--as", "P005"))
    finally:
        thread.join()
        holder.close()
    assert released.is_set()
    assert code == 0, out + err
    assert time.monotonic() - started >= 1.5
    records = _registry_is_dense_and_audited(keyed_workspace)
    assert len(records) > size_before
    assert {r["signer"] for r in records[size_before:]} == {"P005"}
