"""``Registry.letter_entry_bytes``: the entries of some letters, looked up by their ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from registry_support import make_workspace

from docgen.core.workspace import Workspace
from docgen.registry import Registry
from docgen.registry.store import _BATCH_ROWS

NOW = datetime(2027, 1, 5, 9, 30, 15, tzinfo=UTC)
Opener = Callable[..., Registry]
LETTER_TYPES = ("document", "signature", "void")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")


def _document(i: int) -> dict[str, Any]:
    return {
        "type": "document",
        "doc_id": f"2027-ZR-{i:04d}",
        "kind": "responsibility",
        "year": 2027,
        "parties": [
            {"party": "superior", "id": "p001", "name": "张建国"},
            {"party": "subordinate", "id": f"p{i:04d}", "name": "李𠮷·王"},
        ],
        "sha256": f"{i:064x}",
        "path": f"responsibility/2027-ZR-{i:04d}.docx",
    }


def _signature(i: int, signer: str) -> dict[str, Any]:
    return {"type": "signature", "doc_id": f"2027-ZR-{i:04d}", "signer": signer}


def _filled(reg: Registry, letters: int) -> None:
    reg.append([_document(i) for i in range(letters)], now=NOW)
    reg.append([_signature(i, "p001") for i in range(0, letters, 2)], now=NOW)
    reg.append(
        [
            {"type": "void", "doc_id": "2027-ZR-0003", "reason": "人员调整", "replaced_by": None},
            # Another kind of record whose identifying field happens to equal a letter's id.
            {
                "type": "activity",
                "activity_id": "2027-ZR-0004",
                "kind": "heart_to_heart_talk",
                "date": "2027-03-01",
                "actor": "p001",
                "participants": ["p002"],
                "article": "10.7",
                "note": "",
            },
        ],
        now=NOW,
    )


def test_entries_of_the_letters_asked_for_in_batches(ws: Workspace, open_store: Opener) -> None:
    letters = _BATCH_ROWS + 30  # more ids than one query takes
    reg = open_store(ws)
    _filled(reg, letters)
    asked = [f"2027-ZR-{i:04d}" for i in range(1, letters)]  # all but the first letter
    expected = {
        e.index: e.data
        for e in reg.entries()
        if e.record.get("type") in LETTER_TYPES and e.record.get("doc_id") in set(asked)
    }
    found = reg.letter_entry_bytes(asked, types=LETTER_TYPES)
    assert found == expected
    fourth = reg.letter_entry_bytes(["2027-ZR-0004"], types=LETTER_TYPES)
    assert [json.loads(data)["type"] for _, data in sorted(fourth.items())] == [
        "document",
        "signature",
    ]  # not the activity whose id is the letter's
    assert fourth == {
        e.index: e.data
        for e in reg.entries(doc_id="2027-ZR-0004")
        if e.record["type"] in LETTER_TYPES
    }
    only = reg.letter_entry_bytes(["2027-ZR-0002", "2027-ZR-0003"], types=("void", "signature"))
    assert sorted(only) == [
        e.index
        for e in reg.entries()
        if e.record["type"] in ("void", "signature")
        and e.record.get("doc_id") in ("2027-ZR-0002", "2027-ZR-0003")
    ]
    assert reg.letter_entry_bytes([], types=LETTER_TYPES) == {}
    assert reg.letter_entry_bytes(["2027-ZR-9999"], types=LETTER_TYPES) == {}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_letters_are_looked_up_by_the_doc_id_index(
    ws: Workspace, open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not by scanning every entry of the wanted types (the type index), whatever the batch."""
    reg = open_store(ws)
    _filled(reg, 60)
    db = reg._db
    queries: list[tuple[str, tuple[Any, ...]]] = []
    query = db.query

    def recording(sql: str, params: Any = ()) -> Any:
        queries.append((sql, tuple(params)))
        return query(sql, params)

    monkeypatch.setattr(db, "query", recording)
    reg.letter_entry_bytes([f"2027-ZR-{i:04d}" for i in range(60)], types=LETTER_TYPES)
    monkeypatch.setattr(db, "query", query)
    assert queries
    for sql, params in queries:
        plan = " ".join(str(row[-1]) for row in db.query(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "registry_entries_doc_id" in plan, plan


def _party_document(doc_id: str, year: int = 2027) -> dict[str, Any]:
    return {"type": "document", "doc_id": doc_id, "kind": "integrity_pledge", "year": year}


def test_documents_naming_a_person_by_whole_id_parts(ws: Workspace, open_store: Opener) -> None:
    """Ids holding a LIKE wildcard, differing only in case, or one the prefix of another."""
    reg = open_store(ws)
    ids = [
        "2027-LJ-H1-P_1", "2027-LJ-H1-PX1", "2027-LJ-H1-p_1", "2027-LJ-P_1-S9",
        "2027-LJ-H1-P_10", "2027-LJ-H1-P_1-R2", "2026-LJ-H1-P_1", "2027-LJ-H1-A%B",
        "2027-LJ-H1-AxB",
    ]  # fmt: skip
    reg.append([_party_document(d) for d in ids], now=NOW)
    reg.append([_party_document("2027-LJ-H1-P_1")], now=NOW)  # registered again: listed once
    reg.append([_signature(1, "p001")], now=NOW)

    found = reg.documents_naming("P_1", prefix="2027-")
    # A superset of the person's letters, in the order of their first document entry: the
    # case-insensitive LIKE of SQLite may add "p_1"; never "PX1", "P_10" or another year's.
    assert [d for d in found if d != "2027-LJ-H1-p_1"] == [
        "2027-LJ-H1-P_1", "2027-LJ-P_1-S9", "2027-LJ-H1-P_1-R2",
    ]  # fmt: skip
    assert reg.documents_naming("A%B", prefix="2027-") == ["2027-LJ-H1-A%B"]
    assert reg.documents_naming("P_", prefix="2027-") == []
    assert reg.documents_naming("nobody", prefix="2027-") == []


def test_documents_touched_since_an_index(ws: Workspace, open_store: Opener) -> None:
    reg = open_store(ws)
    _filled(reg, 6)  # 0–5 documents, 6–8 signatures of 0, 2, 4, then a void of 3 and an activity
    assert reg.documents_touched_since(reg.size(), prefix="2027-") == []
    assert reg.documents_touched_since(7, prefix="2027-") == [
        "2027-ZR-0002", "2027-ZR-0004", "2027-ZR-0003",
    ]  # fmt: skip
    reg.append([_document(9), _signature(1, "p001")], now=NOW)
    assert reg.documents_touched_since(11, prefix="2027-") == ["2027-ZR-0009", "2027-ZR-0001"]
    assert reg.documents_touched_since(11, prefix="2028-") == []
