"""Tamper matrix: every kind of alteration of a signed year is caught, and the report says where.

Each case alters a private copy of one signed year, runs ``docgen verify`` the way an auditor
would (offline for files, ``--online`` for the registry database) and requires exit code 1, the
altered file named in the report and the step (or archive check) that failed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from docgen.core.workspace import Workspace
from docgen.verify.archive import build_archive, default_archive_path
from tests.helpers import run_docgen
from tests.signed_year import (
    YEAR,
    build_workspace,
    copy_workspace,
    flip_byte,
    letters_of,
    rewrite_zip,
    zip_member,
)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tamper") / "ws"
    ws = build_workspace(root)
    build_archive(ws, YEAR)
    return root


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Workspace], tuple[list[str], str]]  # -> (verify args, altered file part)
    step: tuple[int, ...] | str  # letter steps that may report it, or an archive/registry check


def _output(ws: Workspace) -> str:
    return str(ws.year_dir(YEAR))


def _archive(ws: Workspace) -> Path:
    return default_archive_path(ws, YEAR)


def _signatures(ws: Workspace, signer: str) -> list[Path]:
    return sorted(ws.year_dir(YEAR).rglob(f"*.docx.{signer}.p7s"))


def _docx_byte(ws: Workspace) -> tuple[list[str], str]:
    letter = letters_of(ws)[0]
    flip_byte(letter)
    return [_output(ws)], letter.name


def _p7s_byte(ws: Workspace) -> tuple[list[str], str]:
    sig = _signatures(ws, "P002")[0]
    flip_byte(sig, offset=len(sig.read_bytes()) - 10)
    return [_output(ws)], sig.name


def _p7s_middle(ws: Workspace) -> tuple[list[str], str]:
    sig = _signatures(ws, "P001")[1]
    flip_byte(sig)
    return [_output(ws)], sig.name


def _proof_byte(ws: Workspace) -> tuple[list[str], str]:
    proof = sorted(ws.year_dir(YEAR).rglob("*.proof.json"))[2]
    flip_byte(proof)
    return [_output(ws)], proof.name


def _proof_checkpoint(ws: Workspace) -> tuple[list[str], str]:
    """One byte of the root hash line of the signed checkpoint inside a proof bundle."""
    proof = sorted(ws.year_dir(YEAR).rglob("*.proof.json"))[3]
    data = json.loads(proof.read_text(encoding="utf-8"))
    note: str = data["checkpoint"]
    root_line = note.split("\n")[2]
    changed = root_line[:5] + ("A" if root_line[5] != "A" else "B") + root_line[6:]
    data["checkpoint"] = note.replace(root_line, changed)
    for entry in data["entries"]:
        entry["checkpoint"] = data["checkpoint"]
    proof.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    return [_output(ws)], proof.name


def _swap_signatures(ws: Workspace) -> tuple[list[str], str]:
    first, second = _signatures(ws, "P001")[:2]
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    return [_output(ws)], first.name


def _delete_signature(ws: Workspace) -> tuple[list[str], str]:
    sig = _signatures(ws, "P006")[0]
    sig.unlink()
    return [_output(ws)], sig.name


def _foreign_signature(ws: Workspace) -> tuple[list[str], str]:
    """A valid signature by the right person, but over another letter, copied over."""
    letters = letters_of(ws)
    target = Path(str(letters[0]) + ".P008.p7s")
    target.write_bytes(_signatures(ws, "P008")[0].read_bytes())
    return [_output(ws)], target.name


def _archive_member(member: Callable[[list[str]], str], *, how: str) -> Callable[
    [Workspace], tuple[list[str], str]
]:
    def mutate(ws: Workspace) -> tuple[list[str], str]:
        original = _archive(ws)
        with zipfile.ZipFile(original) as zf:
            names = sorted(zf.namelist())
        name = member(names)
        data = bytearray(zip_member(original, name))
        if how == "flip":
            data[len(data) // 2] ^= 0x01
            change: dict[str, bytes | None] = {name: bytes(data)}
        else:
            change = {name: None}
        altered = original.with_name("altered.zip")
        rewrite_zip(original, altered, change)
        return [str(altered)], name

    return mutate


def _first(suffix: str) -> Callable[[list[str]], str]:
    return lambda names: next(n for n in names if n.endswith(suffix))


def _named(name: str) -> Callable[[list[str]], str]:
    return lambda _names: name


def _archive_checkpoint(ws: Workspace) -> tuple[list[str], str]:
    """Flip one character of the root hash in checkpoint.txt (the signed part of the note)."""
    original = _archive(ws)
    note = zip_member(original, "checkpoint.txt").decode("utf-8")
    root_line = note.split("\n")[2]
    changed = root_line[:3] + ("Q" if root_line[3] != "Q" else "R") + root_line[4:]
    altered = original.with_name("altered.zip")
    rewrite_zip(original, altered, {"checkpoint.txt": note.replace(root_line, changed).encode()})
    return [str(altered)], "checkpoint.txt"


def _db(ws: Workspace, *statements: str) -> None:
    with sqlite3.connect(ws.registry_path) as db:
        for trigger in ("registry_entries_no_update", "registry_entries_no_delete"):
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            db.execute(statement)


def _db_edit_entry(ws: Workspace) -> tuple[list[str], str]:
    """Rewrite the registered hash of the first letter: offline proofs still verify, online not."""
    with sqlite3.connect(ws.registry_path) as db:
        (idx, data) = db.execute(
            "SELECT idx, data FROM registry_entries WHERE type = 'document' ORDER BY idx LIMIT 1"
        ).fetchone()
    record = json.loads(bytes(data))
    forged = bytes(data).replace(record["sha256"].encode(), b"0" * 64)
    _db(ws, f"UPDATE registry_entries SET data = x'{forged.hex()}' WHERE idx = {idx}")
    return ["--online", _output(ws)], record["path"].split("/")[-1]


def _db_delete_entry(ws: Workspace) -> tuple[list[str], str]:
    """Remove the last signature row: the live registry no longer holds what the proofs show."""
    with sqlite3.connect(ws.registry_path) as db:
        (last,) = db.execute("SELECT MAX(idx) FROM registry_entries").fetchone()
        (data,) = db.execute("SELECT data FROM registry_entries WHERE idx = ?", (last,)).fetchone()
    record = json.loads(bytes(data))
    _db(ws, f"DELETE FROM registry_entries WHERE idx = {last}")
    doc_path = next(
        p for p in letters_of(ws) if p.name.startswith(record["doc_id"] + "_")
    )
    return ["--online", _output(ws)], doc_path.name


CASES = [
    Case("letter: one byte of a .docx", _docx_byte, (1,)),
    Case("signature: one byte near the end of a .p7s", _p7s_byte, (3,)),
    Case("signature: one byte in the middle of a .p7s", _p7s_middle, (3,)),
    Case("proof bundle: one byte", _proof_byte, (1, 2)),
    Case("proof bundle: checkpoint root hash", _proof_checkpoint, (2,)),
    Case("two letters' signatures swapped", _swap_signatures, (3,)),
    Case("one signature deleted", _delete_signature, (3,)),
    Case("a signature of another letter added", _foreign_signature, (3,)),
    Case("archive: one byte of a .docx", _archive_member(_first(".docx"), how="flip"), (1,)),
    Case("archive: one byte of a .p7s", _archive_member(_first(".p7s"), how="flip"), (3,)),
    Case(
        "archive: one byte of a proof bundle",
        _archive_member(_first(".proof.json"), how="flip"),
        (1, 2),
    ),
    Case("archive: checkpoint.txt", _archive_checkpoint, "检查点签名"),
    Case(
        "archive: one byte of manifest.json",
        _archive_member(_named("manifest.json"), how="flip"),
        "manifest.json 与归档内容一致",
    ),
    Case(
        "archive: one byte of 索引.txt",
        _archive_member(_named("索引.txt"), how="flip"),
        "索引.txt 与归档内容一致",
    ),
    Case(
        "archive: one byte of VERIFY.txt",
        _archive_member(_named("VERIFY.txt"), how="flip"),
        "VERIFY.txt 与归档内容一致",
    ),
    Case("archive: a signature removed", _archive_member(_first(".p7s"), how="drop"), (3,)),
    Case("registry database: entry edited", _db_edit_entry, (8,)),
    Case("registry database: entry deleted", _db_delete_entry, (8,)),
]


def _detected(report: dict[str, Any], file_part: str, step: tuple[int, ...] | str) -> bool:
    if isinstance(step, tuple):
        return any(
            s["number"] in step
            and not s["ok"]
            and not s["skipped"]
            and file_part in ((s["file"] or "") + " " + letter["path"] + " " + s["detail"])
            for letter in report["letters"]
            if letter["status"] == "failed"
            for s in letter["steps"]
        )
    return any(
        c["name"] == step and not c["ok"] and file_part in (c["file"] or "")
        for c in report["checks"]
    )


def test_every_alteration_is_detected(signed: Path, tmp_path: Path) -> None:
    detected: list[str] = []
    missed: list[str] = []
    for number, case in enumerate(CASES):
        ws = copy_workspace(signed, tmp_path / f"case{number}")
        args, file_part = case.mutate(ws)
        outcome = run_docgen("verify", "--json", "-w", str(ws.root), *args)
        report = json.loads(outcome.out) if outcome.out.strip() else {}
        if outcome.code == 1 and report and _detected(report, file_part, case.step):
            detected.append(case.name)
        else:
            missed.append(f"{case.name}: exit {outcome.code}, {outcome.text[-400:]}")
    assert missed == []
    assert len(detected) == len(CASES)


def test_database_edit_needs_online_check(signed: Path, tmp_path: Path) -> None:
    """Offline proofs were issued before the edit, so they still verify; the live registry
    shows it — and a year folder checked in the workspace is compared with the registry's log,
    whose root is recomputed from its entries, so even without --online the edit is found."""
    ws = copy_workspace(signed, tmp_path / "ws")
    _db_edit_entry(ws)
    offline = run_docgen("verify", "-w", str(ws.root), _output(ws))
    assert offline.code == 1
    assert "✓ 验证通过" in offline.out and "✗ 验证失败" not in offline.out
    assert "✗ 登记簿条目:" in offline.out and "与签名检查点不符" in offline.out
    online = run_docgen("verify", "--online", "-w", str(ws.root), _output(ws))
    assert online.code == 1
    assert "✗ 8. 与在线登记簿一致" in online.out
    assert "✗ 在线登记簿自检" in online.out


def test_human_report_names_file_and_step(signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    _args, name = _docx_byte(ws)
    outcome = run_docgen("verify", "-w", str(ws.root), _output(ws))
    assert outcome.code == 1
    failed = [line for line in outcome.out.splitlines() if line.startswith("✗ 验证失败")]
    assert len(failed) == 1 and name in failed[0]
    assert "✗ 1. 文件哈希与登记一致" in outcome.out
    assert "文件在登记后被改动过" in outcome.out
    assert outcome.out.splitlines()[-1] == "共 11 份:验证通过 10 份,失败 1 份,签名不全 0 份"


@pytest.mark.parametrize("what", ["signature", "letter"])
def test_a_fifo_in_a_files_place_is_refused_without_hanging(
    signed: Path, tmp_path: Path, what: str
) -> None:
    """A named pipe where a .p7s or the .docx should be: opened without blocking, refused as
    not a regular file (nobody ever writes to it, so a blocking open would wait forever)."""
    ws = copy_workspace(signed, tmp_path / "ws")
    target = _signatures(ws, "P001")[0] if what == "signature" else sorted(
        ws.year_dir(YEAR).rglob("*.docx")
    )[0]
    target.unlink()
    os.mkfifo(target)
    outcome = run_docgen("verify", "-w", str(ws.root), _output(ws), "--jobs", "1")
    assert outcome.code == 1
    assert "不是普通文件" in outcome.out
    assert target.name in outcome.out
