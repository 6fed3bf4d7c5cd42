"""``generate``: render one letter per pairing, register it, and keep the year's view current.

The registry decides what is new: a letter whose bytes equal its latest ``document`` entry is left
alone, so re-running changes nothing. A changed letter nobody has signed yet is rewritten and
registered again; a changed or obsolete letter that carries signatures is only voided and reissued
when the caller confirms (``reissue=True``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from docgen.articles import articles_label
from docgen.fastrender import CompiledTemplate
from docgen.glossary import LetterKind
from docgen.hierarchy import build_pairings, supervised_departments, tier_of
from docgen.lock import workspace_lock
from docgen.manifest import write_manifest
from docgen.models import Pairing, Roster
from docgen.naming import letter_relpath
from docgen.proofs import write_letter_proofs
from docgen.registry import open_registry
from docgen.render import load_template
from docgen.roster import load_roster
from docgen.state import LetterState, YearState, read_year_state, with_revision
from docgen.workspace import Workspace, atomic_write

ProgressFactory = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def no_progress(_total: int, _label: str) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


class Change(StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    RESTORED = "restored"  # registered bytes re-written because the file was missing or altered
    UPDATED = "updated"  # content changed, nobody had signed: rewritten and registered again
    REISSUED = "reissued"  # content changed after signing: old voided, new revision issued
    NEEDS_REISSUE = "needs_reissue"  # content changed after signing; waiting for confirmation
    OBSOLETE = "obsolete"  # the pairing no longer exists; waiting for confirmation
    VOIDED = "voided"  # obsolete letter voided on confirmation


@dataclass(frozen=True)
class LetterOutcome:
    doc_id: str
    kind: LetterKind | None
    change: Change
    path: str
    superior: str
    subordinate: str
    detail: str = ""


@dataclass(frozen=True)
class GenerateResult:
    year: int
    outcomes: tuple[LetterOutcome, ...]
    notes: tuple[str, ...]
    manifest: Path

    def count(self, change: Change) -> int:
        return sum(1 for o in self.outcomes if o.change == change)

    def per_kind(self) -> dict[LetterKind, int]:
        """Active letters of each kind after this run."""
        counts = dict.fromkeys(LetterKind, 0)
        for o in self.outcomes:
            if o.kind is not None and o.change not in (Change.OBSOLETE, Change.VOIDED):
                counts[o.kind] += 1
        return counts

    @property
    def pending_confirmation(self) -> bool:
        return any(o.change in (Change.NEEDS_REISSUE, Change.OBSOLETE) for o in self.outcomes)


def letter_context(
    pairing: Pairing, roster: Roster, institution: str, doc_id: str
) -> dict[str, Any]:
    """The variables every template may use (templates/README.md lists them)."""
    return {
        "institution": institution,
        "year": pairing.year,
        "doc_id": doc_id,
        "kind_title": pairing.kind.title,
        "tier": tier_of(pairing),
        "superior_name": pairing.superior.name,
        "superior_title": pairing.superior.title,
        "subordinate_name": pairing.subordinate.name,
        "subordinate_title": pairing.subordinate.title,
        "department": pairing.department or "",
        "supervised_departments": supervised_departments(roster, pairing.subordinate.id),
        "articles": articles_label(pairing.articles),
    }


def document_record(pairing: Pairing, doc_id: str, path: str, sha256: str) -> dict[str, Any]:
    return {
        "type": "document",
        "doc_id": doc_id,
        "kind": pairing.kind.value,
        "year": pairing.year,
        "title": pairing.kind.title,
        "parties": [
            {"party": "superior", "id": p.id, "name": p.name, "title": p.title}
            if i == 0
            else {"party": "subordinate", "id": p.id, "name": p.name, "title": p.title}
            for i, p in enumerate(pairing.parties)
        ],
        "sha256": sha256,
        "path": path,
    }


def void_record(doc_id: str, reason: str, replaced_by: str | None) -> dict[str, Any]:
    return {"type": "void", "doc_id": doc_id, "reason": reason, "replaced_by": replaced_by}


def _file_sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


class _Renderer:
    def __init__(self, ws: Workspace, roster: Roster, year: int) -> None:
        self.ws = ws
        self.roster = roster
        self.compiled: Mapping[LetterKind, CompiledTemplate] = {
            kind: CompiledTemplate.from_bytes(
                load_template(ws.templates_dir, kind), year=year, fonts=ws.config.fonts
            )
            for kind in LetterKind
        }

    def render(self, pairing: Pairing, doc_id: str) -> tuple[str, bytes, str]:
        context = letter_context(pairing, self.roster, self.ws.config.institution, doc_id)
        data = self.compiled[pairing.kind].render(context)
        return letter_relpath(pairing, doc_id), data, hashlib.sha256(data).hexdigest()


def generate(
    ws: Workspace,
    year: int,
    *,
    now: datetime,
    reissue: bool = False,
    progress: ProgressFactory = no_progress,
) -> GenerateResult:
    """Bring ``output/<year>/`` and the registry in line with the roster and templates."""
    roster = load_roster(ws.roster_path)
    pairing_result = build_pairings(roster, year, ws.config.pairing)
    renderer = _Renderer(ws, roster, year)
    year_dir = ws.year_dir(year)

    with workspace_lock(ws.root), open_registry(ws) as registry:
        state = read_year_state(registry, year)
        outcomes: list[LetterOutcome] = []
        writes: list[tuple[Path, bytes]] = []
        records: list[dict[str, Any]] = []
        wanted_bases = set()

        with progress(len(pairing_result.pairings), "生成文书") as advance:
            for pairing in pairing_result.pairings:
                wanted_bases.add(pairing.doc_id)
                outcome, new_writes, new_records = _plan_letter(
                    pairing, state, renderer, year_dir, reissue=reissue
                )
                outcomes.append(outcome)
                writes.extend(new_writes)
                records.extend(new_records)
                advance(1)

        for letter in state.active():
            if letter.base_id in wanted_bases:
                continue
            outcome = _obsolete(letter)
            if reissue:
                records.append(void_record(letter.doc_id, "人员变动,结对关系已不存在", None))
                outcome = dataclasses.replace(outcome, change=Change.VOIDED)
            outcomes.append(outcome)

        for path, data in writes:
            atomic_write(path, data)
        touched: set[str] = set()
        if records:
            registry.append(records, now=now)
            touched = {r["doc_id"] for r in records}
        state = read_year_state(registry, year)
        missing_proofs = [
            letter
            for letter in state.letters.values()
            if letter.doc_id in touched
            or not (year_dir / (letter.record["path"] + ".proof.json")).exists()
        ]
        write_letter_proofs(registry, year_dir, missing_proofs)
        manifest = write_manifest(year_dir, state, ws.config.institution)

    return GenerateResult(
        year=year,
        outcomes=tuple(outcomes),
        notes=pairing_result.notes,
        manifest=manifest,
    )


def _outcome(
    pairing: Pairing, doc_id: str, change: Change, path: str, detail: str = ""
) -> LetterOutcome:
    return LetterOutcome(
        doc_id=doc_id,
        kind=pairing.kind,
        change=change,
        path=path,
        superior=pairing.superior.name,
        subordinate=pairing.subordinate.name,
        detail=detail,
    )


def _obsolete(letter: LetterState) -> LetterOutcome:
    parties = {p["party"]: p["name"] for p in letter.record["parties"]}
    return LetterOutcome(
        doc_id=letter.doc_id,
        kind=LetterKind(letter.record["kind"]),
        change=Change.OBSOLETE,
        path=letter.record["path"],
        superior=parties.get("superior", ""),
        subordinate=parties.get("subordinate", ""),
        detail="名册中已无此结对",
    )


def _plan_letter(
    pairing: Pairing,
    state: YearState,
    renderer: _Renderer,
    year_dir: Path,
    *,
    reissue: bool,
) -> tuple[LetterOutcome, list[tuple[Path, bytes]], list[dict[str, Any]]]:
    base = pairing.doc_id
    current = state.current_for_base(base)
    if current is None:
        doc_id = with_revision(base, state.last_revision(base) + 1)
        path, data, sha = renderer.render(pairing, doc_id)
        return (
            _outcome(pairing, doc_id, Change.NEW, path),
            [(year_dir / path, data)],
            [document_record(pairing, doc_id, path, sha)],
        )

    path, data, sha = renderer.render(pairing, current.doc_id)
    registered = current.record
    if sha == registered["sha256"] and path == registered["path"]:
        if _file_sha(year_dir / path) == sha:
            return _outcome(pairing, current.doc_id, Change.UNCHANGED, path), [], []
        return (
            _outcome(
                pairing, current.doc_id, Change.RESTORED, path, "文件缺失或被改动,已按登记内容重写"
            ),
            [(year_dir / path, data)],
            [],
        )
    if not current.signatures:
        return (
            _outcome(
                pairing, current.doc_id, Change.UPDATED, path, "模板或名册变化,尚无人签名,已更新"
            ),
            [(year_dir / path, data)],
            [document_record(pairing, current.doc_id, path, sha)],
        )
    if not reissue:
        return (
            _outcome(
                pairing,
                current.doc_id,
                Change.NEEDS_REISSUE,
                registered["path"],
                "内容已变化但已有签名,需确认后作废重签",
            ),
            [],
            [],
        )
    new_id = with_revision(base, state.last_revision(base) + 1)
    new_path, new_data, new_sha = renderer.render(pairing, new_id)
    return (
        _outcome(pairing, new_id, Change.REISSUED, new_path, f"替代已作废的 {current.doc_id}"),
        [(year_dir / new_path, new_data)],
        [
            void_record(current.doc_id, "模板或名册变化,重新签订", new_id),
            document_record(pairing, new_id, new_path, new_sha),
        ],
    )
