"""``generate``: render one letter per pairing, register it, and keep the year's view current.

The registry decides what is new: a letter whose bytes equal its latest ``document`` entry is left
alone, so re-running changes nothing. A changed letter nobody has signed yet is rewritten and
registered again; a changed or obsolete letter that carries signatures is only voided and reissued
when the caller confirms (``reissue=True``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
from collections import Counter
from collections.abc import Collection, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from docgen.core.articles import articles_label
from docgen.core.durable import (
    StagedFile,
    discard_run,
    discard_staged,
    new_token,
    publish_staged,
    stage_file,
    staged_for,
    staged_under,
    sync_staged,
)
from docgen.core.glossary import LetterKind
from docgen.core.lock import workspace_lock
from docgen.core.models import Pairing, Roster
from docgen.core.parallel import DEFAULT_CHUNK, map_chunks
from docgen.core.progress import ProgressFactory, no_progress
from docgen.core.workspace import Fonts, Workspace
from docgen.letters.fastrender import CompiledTemplate
from docgen.letters.render import load_template, template_filename
from docgen.letters.role_context import role_context
from docgen.records.letter_code import RegistryIdentity, code_context, workspace_identity
from docgen.records.naming import letter_relpath
from docgen.records.proofs import clear_pending, is_pending, mark_pending
from docgen.records.publish import recover
from docgen.records.state import LetterState, iter_year_letters, revision, with_revision
from docgen.records.views import refresh_year
from docgen.registry import APPEND_CHUNK, Registry, open_registry
from docgen.roster.functions import functions_by_department
from docgen.roster.hierarchy import build_pairings, supervised_departments, tier_of
from docgen.roster.load import load_roster


class Change(StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    RESTORED = "restored"  # registered bytes re-written because the file was missing or altered
    UPDATED = "updated"  # content changed, nobody had signed: rewritten and registered again
    REISSUED = "reissued"  # content changed after signing: old voided, new revision issued
    NEEDS_REISSUE = "needs_reissue"  # content changed after signing; waiting for confirmation
    OBSOLETE = "obsolete"  # the pairing no longer exists; waiting for confirmation
    VOIDED = "voided"  # obsolete letter voided on confirmation


@dataclass(frozen=True, slots=True)
class LetterOutcome:
    doc_id: str
    kind: LetterKind | None
    change: Change
    path: str
    superior: str
    subordinate: str
    detail: str = ""


LISTED = 1000  # new and unchanged letters listed one by one; beyond that they are only counted
_ROUTINE = (Change.NEW, Change.UNCHANGED)


@dataclass(frozen=True)
class GenerateResult:
    """What a run did. ``counts`` and ``per_kind`` cover every letter; ``outcomes`` lists every
    letter that changed otherwise than by being new, and the first :data:`LISTED` new or unchanged
    ones (a county's letters are all listed; a province's 10⁵ new letters are counted)."""

    year: int
    outcomes: tuple[LetterOutcome, ...]
    notes: tuple[str, ...]
    manifest: Path
    counts: Mapping[Change, int]
    active: Mapping[LetterKind, int]  # letters of each kind in force after this run

    def count(self, change: Change) -> int:
        return self.counts.get(change, 0)

    def per_kind(self) -> dict[LetterKind, int]:
        """Active letters of each kind after this run."""
        return {kind: self.active.get(kind, 0) for kind in LetterKind}

    @property
    def unlisted(self) -> int:
        """Letters counted but not in ``outcomes``."""
        return sum(self.counts.values()) - len(self.outcomes)

    @property
    def pending_confirmation(self) -> bool:
        return bool(self.count(Change.NEEDS_REISSUE) or self.count(Change.OBSOLETE))


def letter_context(
    pairing: Pairing,
    roster: Roster,
    institution: str,
    doc_id: str,
    identity: RegistryIdentity | None = None,
) -> dict[str, Any]:
    """The variables every template may use (templates/README.md lists them); the letter's
    核验码 and QR code text only with the ``identity`` of the registry it is registered in."""
    return _context(
        pairing,
        institution,
        doc_id,
        supervised_departments(roster, pairing.subordinate.id),
        identity,
        functions_by_department(roster),
    )


def _context(
    pairing: Pairing,
    institution: str,
    doc_id: str,
    supervised: Sequence[str],
    identity: RegistryIdentity | None,
    functions: Mapping[str, tuple[str, ...]],
) -> dict[str, Any]:
    codes = {} if identity is None else code_context(identity, doc_id)
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
        "supervised_departments": list(supervised),
        "articles": articles_label(pairing.articles),
        **role_context(pairing, functions),
        **codes,
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


def _registered_bytes(path: Path, sha256: str) -> bytes | None:
    """The file's bytes if they are the registered ones (SHA-256 ``sha256``), else None."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


# --- the work of one letter, run in a worker process (or in this one) ---


@dataclass(frozen=True, slots=True)
class _Current:
    """What the registry says about a pairing's current letter."""

    doc_id: str
    sha256: str
    path: str
    signed: bool


@dataclass(frozen=True, slots=True)
class _Job:
    pairing: Pairing
    supervised: tuple[str, ...]  # departments the subordinate supervises
    current: _Current | None
    next_id: str  # the id a new revision of this pairing's letter gets
    position: int  # in the order of the pairings: the first LISTED routine outcomes are listed


@dataclass(frozen=True)
class _Setup:
    templates: tuple[tuple[LetterKind, bytes], ...]
    year: int
    fonts: Fonts
    institution: str
    identity: RegistryIdentity  # the registry's, named by each letter's QR code and 核验码
    year_dir: Path
    reissue: bool
    token: str  # names this run's temporary files (durable.staged_for)
    functions: Mapping[str, tuple[str, ...]]  # department → its 第七条 functions (roster.functions)


@dataclass(frozen=True)
class _Renderer:
    compiled: Mapping[LetterKind, CompiledTemplate]
    setup: _Setup

    def render(
        self, job: _Job, doc_id: str, registered: bytes | None = None
    ) -> tuple[str, bytes, str]:
        """The letter's path, bytes and SHA-256. ``registered``: the letter's registered bytes,
        when its file holds them — their QR picture is tried first (render.qr_picture_of), as
        drawing one costs ten times the rest of a letter; a letter that then differs from them
        in any byte is rendered again with its QR code drawn afresh."""
        pairing = job.pairing
        setup = self.setup
        context = _context(
            pairing, setup.institution, doc_id, job.supervised, setup.identity, setup.functions
        )
        compiled = self.compiled[pairing.kind]
        path = letter_relpath(pairing, doc_id)
        picture = None if registered is None else compiled.qr_picture_of(registered)
        if picture is not None:
            data = compiled.render(context, qr_picture=picture)
            if data == registered:
                return path, data, hashlib.sha256(data).hexdigest()
        data = compiled.render(context)
        return path, data, hashlib.sha256(data).hexdigest()



@dataclass(frozen=True, slots=True)
class _Planned:
    outcome: LetterOutcome
    staged: tuple[str, ...]  # letter files written under temporary names (relative paths)
    records: tuple[dict[str, Any], ...]  # to register, in order


@dataclass(frozen=True, slots=True)
class _ChunkDone:
    """A rendered chunk as the main process needs it: counts, the outcomes to list, and the
    staged paths and registry records packed for the spill file (:class:`_Spill`)."""

    tally: tuple[tuple[Change, LetterKind, int], ...]
    listed: tuple[LetterOutcome, ...]
    packed: bytes  # pickle of (staged relative paths, records); b"" when there are none


def _compile(setup: _Setup) -> _Renderer:
    compiled = {
        kind: CompiledTemplate.from_bytes(data, year=setup.year, fonts=setup.fonts)
        for kind, data in setup.templates
    }
    return _Renderer(compiled, setup)


def _plan_chunk(renderer: _Renderer, jobs: Sequence[_Job]) -> list[_ChunkDone]:
    """Render a chunk of letters, stage the files that change, and sync them to disk."""
    planned: list[_Planned] = []
    setup = renderer.setup

    def staged() -> list[StagedFile]:
        return staged_under(setup.year_dir, setup.token, [f for p in planned for f in p.staged])

    try:
        for job in jobs:
            planned.append(_plan_letter(job, renderer))
        sync_staged(staged())
    except BaseException:
        discard_staged(staged())
        raise
    tally: Counter[tuple[Change, LetterKind]] = Counter()
    listed: list[LetterOutcome] = []
    paths: list[str] = []
    records: list[dict[str, Any]] = []
    for job, plan in zip(jobs, planned, strict=True):
        outcome = plan.outcome
        tally[(outcome.change, job.pairing.kind)] += 1
        if outcome.change not in _ROUTINE or job.position < LISTED:
            listed.append(outcome)
        paths.extend(plan.staged)
        records.extend(plan.records)
    packed = pickle.dumps((paths, records), pickle.HIGHEST_PROTOCOL) if paths or records else b""
    done = _ChunkDone(tuple((c, k, n) for (c, k), n in tally.items()), tuple(listed), packed)
    return [done]


class _Spill:
    """The staged paths and records of the rendered chunks, kept in an unnamed temporary file
    until every letter is rendered (nothing may be published or registered before): the main
    process holds none of them, however many letters there are. The file disappears when closed,
    and with the process if it dies."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def add(self, packed: bytes) -> None:
        if packed:
            self._file.write(len(packed).to_bytes(8, "big"))
            self._file.write(packed)

    def parts(self) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
        """Each chunk's (staged paths, records), in the order they were added."""
        self._file.flush()
        self._file.seek(0)
        while header := self._file.read(8):
            data = self._file.read(int.from_bytes(header, "big"))
            paths, records = pickle.loads(data)  # written by this process, just now
            yield paths, records
        self._file.seek(0, os.SEEK_END)


def _without_qr_notes(compiled: Mapping[LetterKind, CompiledTemplate]) -> list[str]:
    """A note for each template without the QR picture (a workspace's copy made before letters
    carried one): its letters have no QR code and no 核验码."""
    return [
        f"模板 {template_filename(kind)} 中没有核验二维码(较早的模板),《{kind.title}》不带二维码"
        "和核验码;如需要,请删除工作目录 templates/ 中的该模板以使用内置模板,"
        "或参照内置模板修改(templates/README.md)"
        for kind, template in compiled.items()
        if not template.has_qr
    ]


def _templates(ws: Workspace) -> tuple[tuple[LetterKind, bytes], ...]:
    return tuple((kind, load_template(ws.templates_dir, kind)) for kind in LetterKind)


def _supervision(roster: Roster) -> dict[str, tuple[str, ...]]:
    """Person id → the departments they supervise, in roster order (one pass for all letters)."""
    found: dict[str, list[str]] = {}
    for department in roster.departments:
        if department.supervisor is not None:
            found.setdefault(department.supervisor, []).append(department.name)
    return {pid: tuple(names) for pid, names in found.items()}


@dataclass(slots=True)
class _Base:
    """What generate needs of one pairing's letters: the newest revision in force, and the
    highest revision number ever given (voided ones too)."""

    current: _Current | None = None
    last_revision: int = 0


def _index_year(registry: Registry, year: int) -> dict[str, _Base]:
    """Letter base id → :class:`_Base`, read a page of letters at a time. A year of 10⁵ signed
    letters held as a :class:`~docgen.records.state.YearState` (every entry's bytes) is ≈ 4 KiB a
    letter; this keeps a few fields (the same answers as ``current_for_base`` and
    ``last_revision``)."""
    index: dict[str, _Base] = {}
    for letter in iter_year_letters(registry, year):
        base = letter.base_id
        found = index.get(base)
        if found is None:
            found = index[base] = _Base()
        number = revision(letter.doc_id)
        found.last_revision = max(found.last_revision, number)
        current = found.current
        if not letter.voided and (current is None or number > revision(current.doc_id)):
            record = letter.record
            found.current = _Current(
                letter.doc_id, record["sha256"], record["path"], bool(letter.signatures)
            )
    return index


def _job(
    position: int,
    pairing: Pairing,
    index: Mapping[str, _Base],
    supervision: Mapping[str, tuple[str, ...]],
) -> _Job:
    base = pairing.doc_id
    found = index.get(base)
    return _Job(
        pairing=pairing,
        supervised=supervision.get(pairing.subordinate.id, ()),
        current=None if found is None else found.current,
        next_id=with_revision(base, 1 if found is None else found.last_revision + 1),
        position=position,
    )


def _obsolete_letters(
    registry: Registry, year: int, index: Mapping[str, _Base], wanted: Collection[str]
) -> Iterator[LetterState]:
    """The letters in force whose pairing is no longer wanted, in registry order (the year is
    read again only when there are some)."""
    gone = {base for base, found in index.items() if found.current is not None} - set(wanted)
    if not gone:
        return
    for letter in iter_year_letters(registry, year):
        if not letter.voided and letter.base_id in gone:
            yield letter


def generate(
    ws: Workspace,
    year: int,
    *,
    now: datetime,
    reissue: bool = False,
    progress: ProgressFactory = no_progress,
    jobs: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> GenerateResult:
    """Bring ``output/<year>/`` and the registry in line with the roster and templates.

    Letters are rendered by ``jobs`` worker processes (default: one per CPU) in chunks of
    ``chunk_size``; the files, the registry entries and their order do not depend on ``jobs``.
    Nothing becomes visible until every letter has been rendered: the files are staged under
    temporary names, synced, and renamed only then.
    """
    roster = load_roster(ws.roster_path)
    pairing_result = build_pairings(
        roster, year, ws.config.pairing, explain=False, source=str(ws.roster_path)
    )
    notes, pairings = pairing_result.notes, pairing_result.pairings
    supervision = _supervision(roster)
    functions = functions_by_department(roster)
    del roster, pairing_result  # a bulk run should not hold the roster longer than needed
    setup = _Setup(
        templates=_templates(ws),
        year=year,
        fonts=ws.config.fonts,
        institution=ws.config.institution,
        identity=workspace_identity(ws),  # creates the registry key if there is none yet
        year_dir=ws.year_dir(year),
        reissue=reissue,
        token=new_token(),
        functions=functions,
    )
    # Compile here first: a broken template is reported before any worker starts.
    compiled = _compile(setup).compiled
    notes = (*notes, *_without_qr_notes(compiled))
    year_dir = ws.year_dir(year)

    with workspace_lock(ws.root), open_registry(ws) as registry:
        # What a killed run left: staged files finished or removed, stale *.tmp cleaned.
        notes = (*notes, *recover(year_dir, registry, root=ws.root).messages())
        interrupted = is_pending(year_dir)  # an earlier run died after its registry commit
        index = _index_year(registry, year)
        work = (_job(i, p, index, supervision) for i, p in enumerate(pairings))
        tally: Counter[tuple[Change, LetterKind]] = Counter()
        outcomes: list[LetterOutcome] = []
        with tempfile.TemporaryFile(dir=ws.root) as spill_file:
            spill = _Spill(spill_file)
            results: Generator[list[_ChunkDone], None, None] | None = None
            try:
                with progress(len(pairings), "生成文书") as advance:
                    results = map_chunks(
                        _compile, setup, _plan_chunk, work,
                        jobs=jobs, chunk_size=chunk_size, advance=advance,
                    )  # fmt: skip
                    for chunk in results:
                        for done in chunk:
                            tally.update({(c, k): n for c, k, n in done.tally})
                            outcomes.extend(done.listed)
                            spill.add(done.packed)
            except BaseException:
                if results is not None:
                    results.close()  # waits for the chunks still being rendered
                discard_run(year_dir, setup.token)  # every file this run staged
                raise

            voids: list[dict[str, Any]] = []
            if index:
                wanted_bases = {p.doc_id for p in pairings}
                for letter in _obsolete_letters(registry, year, index, wanted_bases):
                    outcome = _obsolete(letter)
                    if reissue:
                        voids.append(void_record(letter.doc_id, "人员变动,结对关系已不存在", None))
                        outcome = dataclasses.replace(outcome, change=Change.VOIDED)
                    assert outcome.kind is not None
                    tally[(outcome.change, outcome.kind)] += 1
                    outcomes.append(outcome)
                del wanted_bases
            del work, pairings, index, supervision

            publish_staged(
                staged_for(os.path.join(year_dir, path), setup.token)
                for paths, _ in spill.parts()
                for path in paths
            )
            appended_from = registry.size()
            pending: list[dict[str, Any]] = []
            for _, records in spill.parts():
                pending.extend(records)
                if len(pending) >= APPEND_CHUNK:
                    _register(registry, year_dir, pending, now)
            pending.extend(voids)
            _register(registry, year_dir, pending, now)
        manifest = refresh_year(
            ws,
            registry,
            year,
            rewrite=None if interrupted else (),
            appended_from=appended_from,
            jobs=jobs,
            chunk_size=chunk_size,
            progress=progress,
        )
        clear_pending(year_dir)

    counts: Counter[Change] = Counter()
    active: Counter[LetterKind] = Counter()
    for (change, kind), n in tally.items():
        counts[change] += n
        if change not in (Change.OBSOLETE, Change.VOIDED):
            active[kind] += n
    return GenerateResult(
        year=year,
        outcomes=tuple(outcomes),
        notes=notes,
        manifest=manifest,
        counts=dict(counts),
        active=dict(active),
    )


def _register(
    registry: Registry, year_dir: Path, records: list[dict[str, Any]], now: datetime
) -> None:
    """Append ``records`` (and empty the list); the year's views are pending until rebuilt."""
    if not records:
        return
    mark_pending(year_dir)
    registry.extend(records, now=now)
    records.clear()


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


def _plan_letter(job: _Job, renderer: _Renderer) -> _Planned:
    pairing = job.pairing
    year_dir = renderer.setup.year_dir

    def stage(path: str, data: bytes) -> tuple[str, ...]:
        stage_file(os.path.join(year_dir, path), data, token=renderer.setup.token)
        return (path,)

    current = job.current
    if current is None:
        path, data, sha = renderer.render(job, job.next_id)
        return _Planned(
            _outcome(pairing, job.next_id, Change.NEW, path),
            stage(path, data),
            (document_record(pairing, job.next_id, path, sha),),
        )

    registered = _registered_bytes(year_dir / current.path, current.sha256)
    path, data, sha = renderer.render(job, current.doc_id, registered)
    if sha == current.sha256 and path == current.path:
        if registered is not None:  # the file holds the registered bytes
            return _Planned(_outcome(pairing, current.doc_id, Change.UNCHANGED, path), (), ())
        return _Planned(
            _outcome(
                pairing, current.doc_id, Change.RESTORED, path, "文件缺失或被改动,已按登记内容重写"
            ),
            stage(path, data),
            (),
        )
    if not current.signed:
        return _Planned(
            _outcome(
                pairing, current.doc_id, Change.UPDATED, path, "模板或名册变化,尚无人签名,已更新"
            ),
            stage(path, data),
            (document_record(pairing, current.doc_id, path, sha),),
        )
    if not renderer.setup.reissue:
        return _Planned(
            _outcome(
                pairing,
                current.doc_id,
                Change.NEEDS_REISSUE,
                current.path,
                "内容已变化但已有签名,需确认后作废重签",
            ),
            (),
            (),
        )
    new_path, new_data, new_sha = renderer.render(job, job.next_id)
    return _Planned(
        _outcome(pairing, job.next_id, Change.REISSUED, new_path, f"替代已作废的 {current.doc_id}"),
        stage(new_path, new_data),
        (
            void_record(current.doc_id, "模板或名册变化,重新签订", job.next_id),
            document_record(pairing, job.next_id, new_path, new_sha),
        ),
    )
