"""generate at scale holds counts, not letters: routine outcomes beyond ``LISTED`` are counted,
the registry records wait in an unnamed spill file, and the year's views read the letter ids page
by page. What a user sees — files, registry, manifest, the CLI's summary — is unchanged."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import docgen.letters.generate as generate_module
from docgen.core.glossary import LetterKind
from docgen.core.lock import workspace_lock
from docgen.core.parallel import chunks_of, map_chunks
from docgen.core.workspace import find_workspace
from docgen.letters.generate import Change, generate
from docgen.records.state import read_year_state
from docgen.records.status import void_letter
from docgen.registry import open_registry
from docgen.roster.hierarchy import build_pairings
from docgen.roster.load import load_roster
from tests.helpers import move_p045_to_office, run_docgen


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_counts_cover_every_letter_when_only_some_are_listed(
    demo_workspace: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = find_workspace(demo_workspace)
    pairings = build_pairings(load_roster(ws.roster_path), 2027, ws.config.pairing).pairings
    monkeypatch.setattr(generate_module, "LISTED", 5)
    result = generate(ws, 2027, now=now, jobs=1, chunk_size=7)
    assert [o.doc_id for o in result.outcomes] == [p.doc_id for p in pairings[:5]]
    assert result.count(Change.NEW) == len(pairings)
    assert result.unlisted == len(pairings) - 5
    expected = {kind: sum(1 for p in pairings if p.kind is kind) for kind in LetterKind}
    assert result.per_kind() == expected
    again = generate(ws, 2027, now=now, jobs=1, chunk_size=7)
    assert again.count(Change.UNCHANGED) == len(pairings)
    assert {o.change for o in again.outcomes} == {Change.UNCHANGED}
    assert len(again.outcomes) == 5


def test_changed_letters_are_always_listed(
    demo_workspace: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = find_workspace(demo_workspace)
    generate(ws, 2027, now=now, jobs=1)
    manifest = json.loads((ws.year_dir(2027) / "manifest.json").read_text(encoding="utf-8"))
    lost = [ws.year_dir(2027) / d["path"] for d in manifest["documents"][-3:]]
    for path in lost:
        path.unlink()
    monkeypatch.setattr(generate_module, "LISTED", 2)
    result = generate(ws, 2027, now=now, jobs=1)
    restored = [o for o in result.outcomes if o.change is Change.RESTORED]
    assert [ws.year_dir(2027) / o.path for o in restored] == lost
    assert result.count(Change.RESTORED) == 3
    assert all(path.is_file() for path in lost)


def test_cli_says_how_many_new_letters_it_did_not_list(
    demo_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate_module, "LISTED", 4)
    result = run_docgen("generate", "-w", str(demo_workspace), "--jobs", "1")
    assert result.code == 0, result.err
    manifest = find_workspace(demo_workspace).year_dir(2027) / "manifest.json"
    total = len(json.loads(manifest.read_text(encoding="utf-8"))["documents"])
    assert result.out.count("  新生成  ") == 4
    assert f"……另有 {total - 4} 份新生成的文书未逐一列出,见清单 manifest.json" in result.out
    assert f"本次新生成 {total} 份" in result.out


def test_a_run_leaves_no_spill_or_temporary_file(demo_workspace: Path, now: datetime) -> None:
    ws = find_workspace(demo_workspace)
    with workspace_lock(ws.root), open_registry(ws):
        pass  # the lock file, registry keys and database exist before any letter
    before = set(_files(demo_workspace))
    generate(ws, 2027, now=now, jobs=2, chunk_size=8)
    added = set(_files(demo_workspace)) - before
    assert added, "letters were written"
    outside = {
        name
        for name in added
        if not name.startswith("output/2027/") and not name.startswith("registry")
    }
    assert outside == set()
    assert not [name for name in added if name.endswith(".tmp")]


def test_one_and_two_workers_register_the_same_entries(tmp_path: Path, now: datetime) -> None:
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import demo_roster_yaml

    trees: list[object] = []
    for jobs in (1, 2):
        root = tmp_path / f"ws{jobs}"
        roster = demo_roster_yaml()
        init_workspace(root, institution="庆城县人民检察院", year=2027, roster_yaml=roster)
        ws = find_workspace(root)
        if jobs == 2:  # the same registry key: each letter's QR code and 核验码 name it
            key = Path("keys", "registry", "registry.key")
            (root / key).parent.mkdir(mode=0o700, parents=True)
            shutil.copy2(tmp_path / "ws1" / key, root / key)
        generate(ws, 2027, now=now, jobs=jobs, chunk_size=5)
        with open_registry(ws) as registry:
            entries = [(e.index, e.data) for e in registry.entries()]
        letters = {k: v for k, v in _files(ws.year_dir(2027)).items() if k.endswith(".docx")}
        manifest = json.loads((ws.year_dir(2027) / "manifest.json").read_bytes())
        trees.append((entries, letters, manifest["documents"]))
    # (proof bundles differ only by each workspace's own registry key: test_parallel copies one)
    assert trees[0] == trees[1]


def test_documents_are_listed_once_in_the_order_of_their_first_entry(
    demo_workspace: Path, now: datetime
) -> None:
    ws = find_workspace(demo_workspace)
    generate(ws, 2027, now=now, jobs=1)
    with open_registry(ws) as registry:
        first = list(registry.first_documents(prefix="2027-"))
        # a letter registered again (its content changed before anyone signed) keeps its place
        again = list(registry.entries())[-1].record
        registry.extend([dict(again, sha256="0" * 64)], now=now)
        registry.extend([{**again, "doc_id": "2028-ZR-x-y", "year": 2028}], now=now)
        assert list(registry.first_documents(prefix="2027-")) == first
        assert registry.count_documents(prefix="2027-") == len(first)
        assert list(registry.first_documents(prefix="2028-")) == ["2028-ZR-x-y"]
        assert registry.count_documents(prefix="2026-") == 0
        entries = registry.letter_entry_bytes([again["doc_id"]], types=("document",))
    assert [json.loads(data)["sha256"] for _, data in sorted(entries.items())] == [
        again["sha256"],
        "0" * 64,
    ]
    manifest = json.loads((ws.year_dir(2027) / "manifest.json").read_text(encoding="utf-8"))
    assert [d["doc_id"] for d in manifest["documents"]] == first


def test_chunks_are_taken_from_the_items_only_as_they_are_needed() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for i in range(100):
            taken.append(i)
            yield i

    assert [len(c) for c in chunks_of(range(7), 3)] == [3, 3, 1]
    results = map_chunks(_setup, None, _double, items(), jobs=1, chunk_size=10)
    assert next(results) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert len(taken) <= 20
    assert sum(len(chunk) for chunk in results) == 90
    with pytest.raises(ValueError):
        list(chunks_of(range(3), 0))


def _setup(_argument: None) -> None:
    return None


def _double(_state: None, chunk: list[int]) -> list[int]:
    return [2 * i for i in chunk]


def test_pairings_without_reasons_are_the_same_pairings(demo_workspace: Path) -> None:
    ws = find_workspace(demo_workspace)
    roster = load_roster(ws.roster_path)
    told = build_pairings(roster, 2027, ws.config.pairing)
    bare = build_pairings(roster, 2027, ws.config.pairing, explain=False)
    assert all(p.reason for p in told.pairings)
    assert {p.reason for p in bare.pairings} == {""}
    assert [p.__class__(**{**_fields(p), "reason": ""}) for p in told.pairings] == list(
        bare.pairings
    )
    assert bare.notes == told.notes


def _fields(pairing: object) -> dict[str, object]:
    import dataclasses

    assert dataclasses.is_dataclass(pairing)
    return {f.name: getattr(pairing, f.name) for f in dataclasses.fields(pairing)}


def test_the_year_index_answers_as_the_year_state(demo_workspace: Path, now: datetime) -> None:
    """generate reads what it needs of each pairing's letters a page at a time; after voids,
    reissues, an update and an obsolete pairing it gives the answers of the whole year state."""
    ws = find_workspace(demo_workspace)
    generate(ws, 2027, now=now, jobs=1)
    void_letter(ws, "2027-LJ-P009-P010", "人员调离", now=now)
    generate(ws, 2027, now=now, jobs=1, reissue=True)  # R2
    void_letter(ws, "2027-LJ-P009-P010-R2", "再次调整", now=now)
    generate(ws, 2027, now=now, jobs=1, reissue=True)  # R3
    move_p045_to_office(ws.roster_path)  # a pairing gone, one new
    result = generate(ws, 2027, now=now, jobs=1, reissue=True)
    assert result.count(Change.VOIDED) >= 1 and result.count(Change.NEW) >= 1

    with open_registry(ws) as registry:
        state = read_year_state(registry, 2027)
        index = generate_module._index_year(registry, 2027)
    bases = {letter.base_id for letter in state.letters.values()}
    assert set(index) == bases
    for base in bases:
        current = state.current_for_base(base)
        found = index[base]
        assert found.last_revision == state.last_revision(base)
        if current is None:
            assert found.current is None
        else:
            assert found.current == generate_module._Current(
                current.doc_id,
                current.record["sha256"],
                current.record["path"],
                bool(current.signatures),
            )
    assert index["2027-LJ-P009-P010"].last_revision == 3
