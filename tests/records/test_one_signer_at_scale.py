"""What one person's command reads: ``sign --as``, ``void`` and ``status --person`` find the
person's (or the one) letters by their ids, and put their manifest entries in place instead of
rebuilding the year — with the same bytes as a rebuild, and a rebuild whenever the manifest on
disk is not the one docgen wrote."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from docgen.core.models import Roster
from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.records import manifest, state, views
from docgen.records.state import person_letters, read_year_state
from docgen.records.status import void_letter
from docgen.records.views import refresh_year
from docgen.registry import open_registry
from docgen.roster.load import load_roster
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_as
from tests.conftest import NOW, PASSPHRASE

YEAR = 2027
SECRET = Passphrase(PASSPHRASE.encode(), "测试")
LATER = NOW + timedelta(days=1)


def _rebuilt(ws: Workspace, tmp_path: Path) -> bytes:
    """The year's manifest as a whole rebuild writes it (in a copy of the workspace)."""
    copy = tmp_path / "rebuilt"
    shutil.copytree(ws.root, copy)
    other = find_workspace(copy)
    (other.year_dir(YEAR) / manifest.STATE_NAME).unlink()
    with open_registry(other) as registry:
        refresh_year(other, registry, YEAR, rewrite=(), jobs=1)
    return (other.year_dir(YEAR) / manifest.MANIFEST_NAME).read_bytes()


def _manifest(ws: Workspace) -> bytes:
    return (ws.year_dir(YEAR) / manifest.MANIFEST_NAME).read_bytes()


def test_signing_and_voiding_splice_the_manifest_to_the_bytes_of_a_rebuild(
    keyed_workspace: Path, tmp_path: Path
) -> None:
    ws = find_workspace(keyed_workspace)
    state_file = ws.year_dir(YEAR) / manifest.STATE_NAME
    assert manifest.spliceable_manifest(ws.year_dir(YEAR)) is not None  # generate recorded it

    sign_as(ws, "P001", SECRET, year=YEAR, now=LATER)  # the secretary: 16 letters
    assert _manifest(ws) == _rebuilt(ws, tmp_path / "a")
    sign_as(ws, "P009", SECRET, year=YEAR, now=LATER)
    void_letter(ws, "2027-LJ-P009-P010", "人员调离", now=LATER)
    assert _manifest(ws) == _rebuilt(ws, tmp_path / "b")

    # generate --reissue adds a new revision at the end; a signature on it is spliced in too.
    generate(ws, YEAR, now=LATER, reissue=True, jobs=1)
    sign_as(ws, "P010", SECRET, year=YEAR, now=LATER)
    text = _manifest(ws)
    assert text == _rebuilt(ws, tmp_path / "c")
    documents = json.loads(text)["documents"]
    assert documents[-1]["doc_id"] == "2027-LJ-P009-P010-R2"
    assert [s["signer"] for s in documents[-1]["signatures"]] == ["P010"]
    recorded = json.loads(state_file.read_text())
    with open_registry(ws) as registry:
        assert recorded["registry_size"] == registry.size()


def test_a_manifest_changed_by_hand_is_rebuilt_not_carried_forward(
    keyed_workspace: Path, tmp_path: Path
) -> None:
    ws = find_workspace(keyed_workspace)
    path = ws.year_dir(YEAR) / manifest.MANIFEST_NAME
    edited = path.read_text(encoding="utf-8").replace('"status": "pending"', '"status": "complete"')
    path.write_text(edited, encoding="utf-8")
    assert manifest.spliceable_manifest(ws.year_dir(YEAR)) is None

    sign_as(ws, "P002", SECRET, year=YEAR, now=LATER)
    assert _manifest(ws) == _rebuilt(ws, tmp_path / "a")
    assert '"status": "pending"' in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("damage", ["truncated", "no record", "layout"])
def test_a_manifest_that_cannot_be_spliced_is_rebuilt(
    keyed_workspace: Path, tmp_path: Path, damage: str
) -> None:
    ws = find_workspace(keyed_workspace)
    year_dir = ws.year_dir(YEAR)
    path = year_dir / manifest.MANIFEST_NAME
    record = year_dir / manifest.STATE_NAME
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:5000])
    elif damage == "no record":
        record.unlink()
    else:  # the same JSON, laid out otherwise — and its record made to match it
        data = json.loads(path.read_bytes())
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        size = json.loads(record.read_text())["registry_size"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        record.write_text(json.dumps({"registry_size": size, "sha256": digest}))
        assert manifest.spliceable_manifest(year_dir) == size

    sign_as(ws, "P003", SECRET, year=YEAR, now=LATER)
    assert _manifest(ws) == _rebuilt(ws, tmp_path / "a")
    assert manifest.spliceable_manifest(year_dir) is not None


def test_person_letters_match_whole_ids_only(keyed_workspace: Path) -> None:
    """P01 is not P010; ids holding LIKE's wildcards or '-' are taken literally."""
    ws = find_workspace(keyed_workspace)
    with open_registry(ws) as registry:
        whole = read_year_state(registry, YEAR)
        for pid in ("P001", "P010", "P045", "P01", "P0%", "P_01", "p001"):
            found = person_letters(registry, YEAR, pid)
            expected = [s.doc_id for s in whole.of_party(pid)]
            assert list(found.letters) == expected, pid
        assert person_letters(registry, YEAR, "P01").letters == {}
        assert len(person_letters(registry, YEAR, "P001").letters) == 16


def test_person_ids_with_wildcards_dashes_and_case(demo_workspace: Path) -> None:
    """A roster whose ids hold '_' (a LIKE wildcard) and '-', and ids that differ only in case
    (SQLite's LIKE ignores ASCII case): each person's letters are exactly theirs."""
    ws = find_workspace(demo_workspace)
    text = ws.roster_path.read_text(encoding="utf-8")
    renames = {"P010": "p009", "P011": "P_1", "P012": "P-13", "P013": "P1", "P014": "P0_4"}
    text = re.sub(r"\bP0\d\d\b", lambda m: renames.get(m.group(0), m.group(0)), text)
    ws.roster_path.write_text(text, encoding="utf-8")
    roster: Roster = load_roster(ws.roster_path)
    assert {"p009", "P009", "P_1", "P-13", "P1", "P0_4"} <= {p.id for p in roster.people}
    generate(ws, YEAR, now=NOW, jobs=1)
    with open_registry(ws) as registry:
        whole = read_year_state(registry, YEAR)
        for person in roster.people:
            found = person_letters(registry, YEAR, person.id)
            assert list(found.letters) == [s.doc_id for s in whole.of_party(person.id)], person.id
        assert "2027-LJ-P009-p009" in person_letters(registry, YEAR, "p009").letters
        assert len(person_letters(registry, YEAR, "P_1").letters) == 1


def test_one_signer_does_not_read_the_year(
    keyed_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a manifest docgen wrote, signing and voiding never list the year's letters: the
    manifest is spliced, not rebuilt."""
    ws = find_workspace(keyed_workspace)

    def listing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the whole year was read")

    monkeypatch.setattr(views, "year_letter_ids", listing)
    monkeypatch.setattr(state, "year_letter_ids", listing)
    signed = sign_as(ws, "P018", SECRET, year=YEAR, now=LATER)
    assert len(signed.signed) == 7  # 责任书, 公开承诺书, five 承诺书
    void_letter(ws, "2027-LJ-P018-P019", "人员调离", now=LATER)
    monkeypatch.undo()
    assert _manifest(ws) == _rebuilt(ws, tmp_path / "a")
