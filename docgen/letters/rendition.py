"""PDF/A-2b renditions of a year's registered letters, made in batches and registered.

Every letter in force gets ``<kind>/<same stem>.pdf`` beside its .docx, made by LibreOffice
from the letter's registered bytes, and a ``rendition`` registry entry binding the .docx SHA-256
to the PDF SHA-256 (:mod:`docgen.records.renditions`). Re-running changes nothing: a letter whose
registered rendition is on disk (its bytes, or those bytes with a signature appended) is left
alone. A registered PDF that is missing or altered is made again: when the bytes come out the
same it is restored, otherwise the new one is registered. A voided letter gets no new rendition.

Why batches: a cold LibreOffice costs seconds, a letter a fraction of one. Worker processes
(:mod:`docgen.core.parallel`) each keep one :class:`~docgen.letters.soffice.Converter` (its own
profile) and convert a chunk of letters with one LibreOffice process. Each worker reads a
letter's .docx once, checks its SHA-256 against the registry — a file altered since it was
registered is refused, never rendered — and hands exactly those bytes to LibreOffice. The PDFs
are made deterministic (:mod:`docgen.letters.pdfa`), staged under temporary names and synced;
this process then publishes each batch's files and appends its entries in one transaction, in
the order of the letters. A batch that fails (LibreOffice timed out or crashed, a PDF missing)
leaves no file of its own behind; the batches before it stay made and registered, and running
again makes the rest. The letters' proof bundles then carry their rendition entries.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from docgen.core.durable import (
    discard_run,
    discard_staged,
    new_token,
    publish_staged,
    stage_file,
    staged_for,
    sync_staged,
)
from docgen.core.lock import workspace_lock
from docgen.core.parallel import default_jobs, map_chunks
from docgen.core.progress import ProgressFactory, no_progress
from docgen.core.workspace import Workspace
from docgen.letters.pdfa import embedded_fonts, normalize_pdf
from docgen.letters.soffice import (
    SECONDS_PER_LETTER,
    START_SECONDS,
    Converter,
    FontUse,
    LibreOfficeMissingError,
    find_soffice,
    font_uses,
)
from docgen.records.proofs import clear_pending, is_pending, mark_pending
from docgen.records.renditions import rendition_intact, rendition_record, rendition_relpath
from docgen.records.state import iter_year_letters
from docgen.records.views import refresh_year
from docgen.registry import Registry, open_registry

BATCH = 100  # letters per LibreOffice process


class Change(StrEnum):
    NEW = "new"  # no rendition of the current bytes was registered: made and registered
    RESTORED = "restored"  # the registered PDF was missing or altered: the same bytes rewritten
    REMADE = "remade"  # ditto, but the bytes came out otherwise: the new PDF registered


@dataclass(frozen=True, slots=True)
class _Job:
    doc_id: str
    docx: str  # the letter's path, relative to the year's folder
    docx_sha256: str  # as registered
    pdf: str  # the rendition's path, relative to the year's folder
    year: int
    registered: str | None  # SHA-256 of a registered rendition whose file is missing or altered


@dataclass(frozen=True, slots=True)
class _Done:
    doc_id: str
    docx: str
    pdf: str
    change: Change | None  # None: refused
    record: dict[str, Any] | None  # to register
    fonts: tuple[str, ...] = ()
    refused: str = ""  # why no rendition was made


@dataclass(frozen=True)
class RenditionResult:
    """What a run did. ``font_uses``: what each font of ``docgen.toml`` became (None when it
    could not be asked, or nothing was converted); ``fonts``: embedded font → PDFs made with it."""

    year: int
    counts: dict[Change, int]
    unchanged: int
    voided: int  # voided letters without a rendition, left so
    refused: tuple[tuple[str, str, str], ...]  # (doc_id, .docx path, why)
    font_uses: tuple[FontUse, ...] | None = None
    fonts: dict[str, int] = field(default_factory=dict)

    def count(self, change: Change) -> int:
        return self.counts.get(change, 0)

    @property
    def made(self) -> int:
        return sum(self.counts.values())

    @property
    def substituted(self) -> tuple[FontUse, ...]:
        return tuple(use for use in self.font_uses or () if use.substituted)


# --- the work of a batch, in a worker process (or in this one) ---


@dataclass(frozen=True)
class _Setup:
    soffice: str
    run_dir: Path  # removed by the main process when the run ends
    year_dir: Path
    token: str  # names this run's staged files (durable.staged_for)
    start_seconds: float
    seconds_per_letter: float


@dataclass(frozen=True)
class _Worker:
    setup: _Setup
    converter: Converter


def _open_worker(setup: _Setup) -> _Worker:
    workdir = Path(tempfile.mkdtemp(prefix="worker-", dir=setup.run_dir))
    converter = Converter(
        setup.soffice,
        workdir,
        start_seconds=setup.start_seconds,
        seconds_per_letter=setup.seconds_per_letter,
    )
    return _Worker(setup, converter)


def _read_registered(year_dir: Path, job: _Job) -> tuple[bytes | None, str]:
    """The letter's bytes if they are the registered ones; else None and why not."""
    try:
        data = (year_dir / job.docx).read_bytes()
    except FileNotFoundError:
        return None, "文书文件缺失(可运行 docgen generate 按登记内容恢复)"
    except OSError as exc:
        return None, f"文书文件无法读取:{exc.strerror or exc}"
    actual = hashlib.sha256(data).hexdigest()
    if actual != job.docx_sha256:
        return None, (
            f"文件 SHA-256 为 {actual},登记的是 {job.docx_sha256}:文件在登记后被改动过,"
            "不为未登记的内容生成 PDF(可运行 docgen generate 按登记内容恢复)"
        )
    return data, ""


def _convert_chunk(worker: _Worker, jobs: Sequence[_Job]) -> list[_Done]:
    """Convert a batch with one LibreOffice process; stage and sync the PDFs."""
    setup = worker.setup
    done: dict[str, _Done] = {}
    ready: list[tuple[_Job, bytes]] = []
    for job in jobs:
        data, why = _read_registered(setup.year_dir, job)
        if data is None:
            done[job.doc_id] = _Done(job.doc_id, job.docx, job.pdf, None, None, refused=why)
        else:
            ready.append((job, data))
    pdfs = worker.converter.convert([(job.docx, data) for job, data in ready])
    staged = []
    try:
        for (job, _data), raw in zip(ready, pdfs, strict=True):
            pdf = normalize_pdf(
                raw,
                when=datetime(job.year, 1, 1, tzinfo=UTC),  # as the .docx core properties
                ident=bytes.fromhex(job.docx_sha256)[:16],
                label=job.docx,
            )
            fonts = embedded_fonts(pdf)
            sha = hashlib.sha256(pdf).hexdigest()
            if job.registered is None:
                change, record = (
                    Change.NEW,
                    rendition_record(job.doc_id, job.pdf, job.docx_sha256, pdf, fonts),
                )
            elif sha == job.registered:
                change, record = Change.RESTORED, None
            else:
                change, record = (
                    Change.REMADE,
                    rendition_record(job.doc_id, job.pdf, job.docx_sha256, pdf, fonts),
                )
            staged.append(stage_file(setup.year_dir / job.pdf, pdf, token=setup.token))
            done[job.doc_id] = _Done(job.doc_id, job.docx, job.pdf, change, record, tuple(fonts))
        sync_staged(staged)
    except BaseException:
        discard_staged(staged)
        raise
    return [done[job.doc_id] for job in jobs]


# --- planning and registering, in this process ---


def _plan(registry: Registry, year: int, year_dir: Path) -> tuple[list[_Job], int, int]:
    """The letters that need a rendition, and how many are done already / voided."""
    jobs: list[_Job] = []
    unchanged = voided = 0
    for letter in iter_year_letters(registry, year):
        rendition = letter.rendition.record if letter.rendition is not None else None
        if rendition is not None and rendition_intact(year_dir, rendition):
            unchanged += 1
            continue
        if letter.voided:
            voided += 1
            continue
        record = letter.record
        jobs.append(
            _Job(
                doc_id=letter.doc_id,
                docx=record["path"],
                docx_sha256=record["sha256"],
                pdf=rendition_relpath(record["path"]),
                year=year,
                registered=None if rendition is None else str(rendition["pdf_sha256"]),
            )
        )
    return jobs, unchanged, voided


def _chunk_size(count: int, jobs: int, batch: int) -> int:
    """Up to ``batch`` letters a chunk, but every worker gets one when there are few."""
    return max(1, min(batch, math.ceil(count / max(1, jobs))))


def make_renditions(
    ws: Workspace,
    year: int,
    *,
    now: datetime,
    jobs: int | None = None,
    batch: int = BATCH,
    progress: ProgressFactory = no_progress,
    soffice: str | None = None,
    start_seconds: float = START_SECONDS,
    seconds_per_letter: float = SECONDS_PER_LETTER,
) -> RenditionResult:
    """Make and register the missing renditions of ``year``'s letters (see the module).

    ``soffice``: the LibreOffice to run (default: the one on PATH); none there, and some letter
    needing a rendition, is :class:`~docgen.letters.soffice.LibreOfficeMissingError`. ``jobs``
    LibreOffice processes run at once (default: one per CPU), ``batch`` letters each.
    """
    year_dir = ws.year_dir(year)
    with workspace_lock(ws.root), open_registry(ws) as registry:
        interrupted = is_pending(year_dir)  # an earlier run died after its registry commit
        work, unchanged, voided = _plan(registry, year, year_dir)
        counts: Counter[Change] = Counter()
        refused: list[tuple[str, str, str]] = []
        fonts: Counter[str] = Counter()
        uses: list[FontUse] | None = None
        appended_from = registry.size()
        if work:
            program = soffice or find_soffice()
            if program is None:
                raise LibreOfficeMissingError()
            workers = default_jobs() if jobs is None else jobs
            with tempfile.TemporaryDirectory(prefix="docgen-pdf-") as run_dir:
                uses = font_uses(list(vars(ws.config.fonts).values()), Path(run_dir))
                setup = _Setup(
                    program, Path(run_dir), year_dir, new_token(), start_seconds,
                    seconds_per_letter,
                )  # fmt: skip
                for chunk in _batches(registry, setup, work, workers, batch, now, progress):
                    for item in chunk:
                        if item.change is None:
                            refused.append((item.doc_id, item.docx, item.refused))
                        else:
                            counts[item.change] += 1
                            fonts.update(item.fonts)
        if registry.size() > appended_from or interrupted:
            refresh_year(
                ws,
                registry,
                year,
                rewrite=None if interrupted else (),
                appended_from=appended_from,
                jobs=jobs,
                progress=progress,
            )
            clear_pending(year_dir)
    return RenditionResult(
        year=year,
        counts=dict(counts),
        unchanged=unchanged,
        voided=voided,
        refused=tuple(refused),
        font_uses=None if uses is None else tuple(uses),
        fonts=dict(sorted(fonts.items())),
    )


def _batches(
    registry: Registry,
    setup: _Setup,
    work: list[_Job],
    workers: int,
    batch: int,
    now: datetime,
    progress: ProgressFactory,
) -> Iterator[list[_Done]]:
    """Convert ``work`` batch by batch; publish and register each batch as it comes back, in
    order, and yield it. A failing batch discards every file staged by this run but not yet
    published."""
    size = _chunk_size(len(work), workers, batch)
    with progress(len(work), "生成 PDF 副本") as advance:
        results = map_chunks(
            _open_worker, setup, _convert_chunk, work,
            jobs=workers, chunk_size=size, advance=advance,
        )  # fmt: skip
        try:
            for chunk in results:
                publish_staged(
                    staged_for(setup.year_dir / item.pdf, setup.token)
                    for item in chunk
                    if item.change is not None
                )
                records = [item.record for item in chunk if item.record is not None]
                if records:
                    mark_pending(setup.year_dir)
                    registry.extend(records, now=now)
                yield chunk
        except BaseException:
            results.close()  # waits for the batches still being converted
            discard_run(setup.year_dir, setup.token)
            raise
