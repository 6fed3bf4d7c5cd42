"""Proof bundles and the manifest rebuilt in worker processes equal those rebuilt in one process,
and those of the plain per-letter path (``write_letter_proofs``, ``write_manifest``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from signed_year import YEAR, build_workspace, copy_workspace

from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.records.manifest import MANIFEST_NAME, write_manifest
from docgen.records.proofs import letter_proof, proof_bytes, write_letter_proofs
from docgen.records.state import read_year_state
from docgen.records.status import void_letter
from docgen.records.views import refresh_year
from docgen.registry import open_registry

VOIDED_AT = datetime(2027, 1, 7, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("views") / "ws"
    ws = build_workspace(root, sign="P001")  # some letters signed by one party only
    first = read_year_state(open_registry(ws), YEAR)
    void_letter(ws, next(iter(first.letters)), reason="人员调离", now=VOIDED_AT)
    return root


def _views(ws: Workspace) -> dict[str, bytes]:
    year_dir = ws.year_dir(YEAR)
    files = [*sorted(year_dir.rglob("*.proof.json")), year_dir / MANIFEST_NAME]
    return {p.relative_to(year_dir).as_posix(): p.read_bytes() for p in files}


def _clear(ws: Workspace) -> None:
    for path in ws.year_dir(YEAR).rglob("*.proof.json"):
        path.unlink()
    (ws.year_dir(YEAR) / MANIFEST_NAME).unlink()


@pytest.mark.parametrize(("jobs", "chunk"), [(1, 500), (1, 2), (2, 3)])
def test_refresh_gives_the_bytes_of_the_plain_path(
    signed: Path, tmp_path: Path, jobs: int, chunk: int
) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    with workspace_lock(ws.root), open_registry(ws) as registry:
        state = read_year_state(registry, YEAR)
        assert any(letter.voided for letter in state.letters.values())
        assert {len(letter.signatures) for letter in state.letters.values()} >= {0, 1}
        write_letter_proofs(registry, ws.year_dir(YEAR), state.letters.values())
        write_manifest(ws.year_dir(YEAR), state, ws.config.institution)
        plain = _views(ws)
        _clear(ws)
        refresh_year(ws, registry, YEAR, rewrite=None, jobs=jobs, chunk_size=chunk)
    assert _views(ws) == plain
    assert len(plain) == len(state.letters) + 1


def test_only_outdated_or_missing_bundles_are_rewritten(signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    year_dir = ws.year_dir(YEAR)
    proofs = sorted(year_dir.rglob("*.proof.json"))
    kept, missing = proofs[0], proofs[1]
    kept.write_bytes(b"stale\n")
    missing.unlink()
    with workspace_lock(ws.root), open_registry(ws) as registry:
        refresh_year(ws, registry, YEAR, rewrite=set(), jobs=2, chunk_size=2)
        letter = next(
            letter
            for letter in read_year_state(registry, YEAR).letters.values()
            if year_dir / (letter.record["path"] + ".proof.json") == missing
        )
        expected = proof_bytes(letter_proof(registry, letter))
    assert kept.read_bytes() == b"stale\n"  # not asked for, and present: left alone
    assert missing.read_bytes() == expected  # missing: written again, against the latest checkpoint
