"""Staff changes: moving a person to another department voids their signed letter and reissues."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.letters.generate import Change, generate
from docgen.records.status import year_status
from docgen.registry import open_registry
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_everyone
from tests.conftest import NOW, PASSPHRASE
from tests.helpers import move_p045_to_office, run_docgen


def test_moving_a_person_voids_and_reissues(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = find_workspace(keyed_workspace)
    later = NOW + timedelta(days=1)
    sign_everyone(ws, lambda _pid: Passphrase(PASSPHRASE.encode(), "测试"), year=2027, now=later)
    assert year_status(ws, 2027).all_complete

    move_p045_to_office(ws.roster_path)
    monkeypatch.setenv("DOCGEN_NOW", (NOW + timedelta(days=30)).isoformat())

    # Without confirmation: the difference is shown, nothing is voided.
    out = run_docgen("generate", "-w", str(keyed_workspace), "--year", "2027")
    assert out.code == 0, out.err
    assert "2027-LJ-P043-P045" in out.out and "已过时" in out.out
    assert "2027-LJ-P009-P045" in out.out and "新生成" in out.out
    assert "docgen generate --reissue" in out.out
    with open_registry(ws) as registry:
        assert not list(registry.entries(type="void"))

    out = run_docgen("generate", "-w", str(keyed_workspace), "--year", "2027", "--reissue", "--yes")
    assert out.code == 0, out.err
    assert "已作废" in out.out
    with open_registry(ws) as registry:
        voids = [e.record for e in registry.entries(type="void")]
        assert registry.audit().ok
    assert [v["doc_id"] for v in voids] == ["2027-LJ-P043-P045"]

    status = year_status(ws, 2027)
    letters = {s.doc_id: s for s in status.letters}
    assert letters["2027-LJ-P043-P045"].voided
    assert letters["2027-LJ-P009-P045"].missing == ("P009", "P045")
    # The voided letter and its signatures stay on disk and in the manifest, marked.
    manifest = json.loads((ws.year_dir(2027) / "manifest.json").read_text(encoding="utf-8"))
    old = next(d for d in manifest["documents"] if d["doc_id"] == "2027-LJ-P043-P045")
    assert old["status"] == "voided" and len(old["signatures"]) == 2
    assert (ws.year_dir(2027) / old["path"]).is_file()


def test_changed_signed_letter_is_reissued_with_a_new_revision(keyed_workspace: Path) -> None:
    ws = find_workspace(keyed_workspace)
    sign_everyone(ws, lambda _pid: Passphrase(PASSPHRASE.encode(), "测试"), year=2027, now=NOW)
    roster = ws.roster_path
    roster.write_text(
        roster.read_text(encoding="utf-8").replace(
            "title: 书记员, role: 工作人员}", "title: 检察官助理, role: 工作人员}", 1
        ),
        encoding="utf-8",
    )
    pending = generate(ws, 2027, now=NOW + timedelta(days=2))
    waiting = [o for o in pending.outcomes if o.change is Change.NEEDS_REISSUE]
    assert len(waiting) == 1
    done = generate(ws, 2027, now=NOW + timedelta(days=2), reissue=True)
    reissued = [o for o in done.outcomes if o.change is Change.REISSUED]
    assert [o.doc_id for o in reissued] == [waiting[0].doc_id + "-R2"]
    with open_registry(ws) as registry:
        void = [e.record for e in registry.entries(type="void")]
    assert void[0]["doc_id"] == waiting[0].doc_id
    assert void[0]["replaced_by"] == waiting[0].doc_id + "-R2"
