"""Signing letters' PDF renditions as their parties sign the letters, and what the registry says
about a letter's PDF.

A letter's PDF is signed by each party in turn, each signature an incremental update of the PDF
the previous one produced; the registry keeps the chain: the ``rendition`` entry (the PDF made
from the .docx) and one ``pdf_signature`` entry per signature, each naming the PDF's SHA-256
before and after it (:func:`docgen.signing.pades.pdf_signature_record`). The file on disk must be
the last PDF of the chain before anyone signs it again: an altered or replaced PDF is refused,
not signed over.

:func:`sign_letter_pdfs` serves ``sign_as`` (one person's letters, the key opened once, in
this process: a worker would open the key again, ≈ 0.5 s of scrypt, and warm its own stamp
font, ≈ 1–1.5 s, more than one person's few dozen letters take); :func:`sign_year_pdfs` the bulk
mode, in the project's worker pool (:func:`docgen.core.parallel.map_chunks`): the unit of work
is a letter, both of whose parties sign the same file one after the other in one worker; each
worker warms its stamp font once and keeps the keys it opened (a superior's letters are
consecutive, so a key is opened about once per worker that meets it). Results come back in the
order of the letters, so the registry gets the same records in the same order whatever the
number of workers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from docgen.core.errors import Location, ValidationError
from docgen.core.parallel import map_chunks
from docgen.core.progress import ProgressFactory, no_progress
from docgen.registry import Registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.pades import (
    PadesSetup,
    existing_signature_fields,
    field_name,
    letter_parties,
    pdf_signature_record,
    sign_pdf,
)
from docgen.signing.passphrase import Passphrase
from docgen.signing.pdf_layout import PARTY_LABELS, SignatureLine, find_signature_lines
from docgen.signing.revocation_state import (
    RevocationState,
    checked_workspace_crl,
    read_revocation_state,
)
from docgen.signing.signer import Signer, load_signer
from docgen.signing.stamp import stamp_font

RECORD_TYPE = "pdf_signature"
DOCGEN_FIELDS = frozenset(field_name(party) for party in PARTY_LABELS)
_TYPES = ("document", "rendition", RECORD_TYPE)
_HINT_MAKE = "生成 PDF:docgen pdf --year {year}"


@dataclass(frozen=True)
class LetterPdf:
    """What the registry says about one letter's PDF: its current ``document`` record, the
    rendition made from it (None: no PDF yet) and the PDF signatures chained from it."""

    doc_id: str
    document: dict[str, Any]
    rendition: dict[str, Any] | None
    signatures: tuple[dict[str, Any], ...] = field(default=())

    @property
    def current_size(self) -> int | None:
        """The size the PDF file must have now, when the registry says it."""
        last = self.signatures[-1] if self.signatures else self.rendition
        size = None if last is None else last.get("pdf_size")
        return size if isinstance(size, int) else None

    @property
    def current_sha256(self) -> str | None:
        """The SHA-256 the PDF file must have now."""
        if self.signatures:
            return str(self.signatures[-1]["pdf_sha256"])
        return None if self.rendition is None else str(self.rendition.get("pdf_sha256"))

    def signed_by(self, person_id: str) -> bool:
        return any(r.get("signer") == person_id for r in self.signatures)


def letter_pdf(doc_id: str, records: Iterable[dict[str, Any]]) -> LetterPdf | None:
    """A letter's PDF state from its ``document``, ``rendition`` and ``pdf_signature`` records
    in registry order (a registry, a proof bundle); None without a ``document`` record.

    The rendition is the latest made from the current .docx; its signatures are those that
    chain from it, each over the PDF the previous one produced (the first that does, per party);
    records of other renditions or out of the chain are not the PDF's."""
    mine = [r for r in records if r.get("doc_id") == doc_id]
    documents = [r for r in mine if r.get("type") == "document"]
    if not documents:
        return None
    document = documents[-1]
    rendition = None
    for record in mine:
        if record.get("type") == "rendition" and record.get("docx_sha256") == document.get(
            "sha256"
        ):
            rendition = record
    if rendition is None:
        return LetterPdf(doc_id, document, None)
    chain: list[dict[str, Any]] = []
    current = rendition.get("pdf_sha256")
    for record in mine:
        if (
            record.get("type") == RECORD_TYPE
            and record.get("previous_pdf_sha256") == current
            and all(r.get("party") != record.get("party") for r in chain)
        ):
            chain.append(record)
            current = record.get("pdf_sha256")
    return LetterPdf(doc_id, document, rendition, tuple(chain))


def letter_pdfs(registry: Registry, doc_ids: Sequence[str]) -> dict[str, LetterPdf]:
    """:func:`letter_pdf` of each of ``doc_ids``, read in batched queries."""
    datas = registry.letter_entry_bytes(list(doc_ids), types=_TYPES)
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for index in sorted(datas):
        record = json.loads(datas[index])
        by_doc.setdefault(str(record.get("doc_id")), []).append(record)
    found = {}
    for doc_id in doc_ids:
        state = letter_pdf(doc_id, by_doc.get(doc_id, []))
        if state is not None:
            found[doc_id] = state
    return found


def pades_setup(keys_dir: Path, registry: Registry, *, now: datetime) -> PadesSetup:
    """The CA certificate and the workspace CRL (checked against the registry and ``now``, as
    :func:`~docgen.signing.signer.load_signer` does) that every PDF signature embeds."""
    ca_cert = load_ca_certificate(keys_dir)
    state = read_revocation_state(registry, ca_cert)
    checked = checked_workspace_crl(keys_dir, ca_cert, state, now=now)
    return PadesSetup(ca_cert, checked.crl, keys_dir / "people", stamp_font())


@dataclass
class PdfBatch:
    """PDF signatures made in memory: files to write, records to append, letters signed, and
    the letters that have no PDF to sign."""

    writes: list[tuple[Path, bytes]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _read_current(year_dir: Path, letter: LetterPdf, pending: dict[str, bytes]) -> bytes:
    assert letter.rendition is not None
    relpath = str(letter.rendition["path"])
    if relpath in pending:  # signed by the other party earlier in this run
        return pending[relpath]
    path = year_dir / relpath
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(
            f"找不到文书 {letter.doc_id} 登记的 PDF,不能签署 PDF",
            location=Location(file=str(path)),
            hint="请重新生成 PDF:docgen pdf --year 年度",
        ) from exc
    if hashlib.sha256(data).hexdigest() == letter.current_sha256:
        return data
    size = letter.current_size
    if (
        size is not None
        and hashlib.sha256(data[:size]).hexdigest() == letter.current_sha256
        and _only_docgen_signatures_after(data, len(letter.signatures), where=str(path))
    ):
        # docgen signatures appended and never registered: a signing run killed between writing
        # the PDF and appending its records. The registered PDF is the first ``size`` bytes;
        # it is signed again, and the unregistered signatures are dropped.
        return data[:size]
    raise ValidationError(
        f"文书 {letter.doc_id} 的 PDF 与登记簿中的最新版本不一致(登记后被改动或替换),拒绝签名",
        location=Location(file=str(path)),
        hint="请核实是谁改动了 PDF;恢复登记的版本后再签",
    )


_LINES: OrderedDict[tuple[str, tuple[str, ...]], dict[str, SignatureLine]] = OrderedDict()
_LINES_KEPT = 256


def _signature_lines(letter: LetterPdf, data: bytes, *, where: str) -> dict[str, SignatureLine]:
    """Both parties' 签名 lines, read from the PDF's text layer once per rendition and process:
    signatures only add annotations, so the page of the rendition is the page of every signed
    version, and the second party of a letter signed in the same run (the bulk mode) reuses
    what the first read. Keyed by the rendition's SHA-256 and the parties' names."""
    assert letter.rendition is not None
    names = {party: p.name for party, p in letter_parties(letter.document).items()}
    key = (
        str(letter.rendition.get("pdf_sha256")),
        tuple(f"{p}={n}" for p, n in sorted(names.items())),
    )
    found = _LINES.get(key)
    if found is None:
        found = find_signature_lines(data, names, where=where)
        _LINES[key] = found
        if len(_LINES) > _LINES_KEPT:
            _LINES.popitem(last=False)
    return found


def _only_docgen_signatures_after(data: bytes, registered: int, *, where: str) -> bool:
    """The PDF holds more signatures than the ``registered`` ones, all in docgen's fields."""
    try:
        fields = existing_signature_fields(data, where=where)
    except ValidationError:
        return False
    extra = fields[registered:]
    return bool(extra) and all(name in DOCGEN_FIELDS for name in extra)


def sign_letter_pdfs(
    year_dir: Path,
    letters: Iterable[LetterPdf],
    signer: Signer,
    setup: PadesSetup,
    *,
    now: datetime,
    signing_time: str,
    batch: PdfBatch | None = None,
    pending: dict[str, bytes] | None = None,
) -> PdfBatch:
    """Sign, as ``signer``, the PDF of each of ``letters`` they have not signed yet.

    Letters without a rendition are listed in ``missing``; nothing is written (the caller writes
    ``writes`` and appends ``records`` together with the rest of its commit). ``pending`` holds
    PDFs signed earlier in the same run (by path), so a second party signs on top of them."""
    batch = batch if batch is not None else PdfBatch()
    pending = pending if pending is not None else {}
    for letter in letters:
        if letter.rendition is None:
            batch.missing.append(letter.doc_id)
            continue
        if letter.signed_by(signer.person_id):
            continue
        data = _read_current(year_dir, letter, pending)
        relpath = str(letter.rendition["path"])
        where = str(year_dir / relpath)
        lines = _signature_lines(letter, data, where=where)
        party = next(
            p.party for p in letter_parties(letter.document).values()
            if p.person_id == signer.person_id
        )  # fmt: skip
        result = sign_pdf(
            data, signer, letter.document, setup, now=now, where=where, line=lines[party]
        )
        record = pdf_signature_record(
            letter.doc_id, signer, party,
            pdf_path=relpath,
            previous_sha256=hashlib.sha256(data).hexdigest(),
            signed=result.data,
            field=result.field,
            signing_time=signing_time,
        )  # fmt: skip
        pending[relpath] = result.data
        batch.writes.append((year_dir / relpath, result.data))
        batch.records.append(record)
        batch.signed.append(letter.doc_id)
    return batch


def pdfs_unsigned_by(registry: Registry, person_id: str, doc_ids: Sequence[str]) -> list[str]:
    """Of ``doc_ids``, the letters whose registered PDF rendition ``person_id`` has not signed
    (a PDF made after they signed the .docx), in the order given."""
    found = letter_pdfs(registry, list(doc_ids))
    return [
        d
        for d in doc_ids
        if d in found and found[d].rendition is not None and not found[d].signed_by(person_id)
    ]


def not_made_notice(missing: Sequence[str], year: int) -> str | None:
    """The one line that says which PDFs were not signed because they do not exist yet."""
    if not missing:
        return None
    return (
        f"{len(missing)} 份文书还没有 PDF 转换件,只签署了 .docx;"
        f"{_HINT_MAKE.format(year=year)},再运行 docgen sign 签署 PDF"
    )


@dataclass(frozen=True)
class _Wanted:
    letter: LetterPdf
    person_id: str


def year_pdf_work(registry: Registry, doc_ids: Sequence[str]) -> tuple[list[_Wanted], list[str]]:
    """The PDF signatures that letters ``doc_ids`` wait for — each party with a registered
    .docx signature and no PDF signature yet — in letter order, superior first; and the letters
    with no PDF at all."""
    datas = registry.letter_entry_bytes(list(doc_ids), types=("signature",))
    signed_docx: dict[str, set[str]] = {}
    for data in datas.values():
        record = json.loads(data)
        signed_docx.setdefault(str(record.get("doc_id")), set()).add(str(record.get("signer")))
    work: list[_Wanted] = []
    missing: list[str] = []
    for doc_id, letter in letter_pdfs(registry, doc_ids).items():
        if letter.rendition is None:
            missing.append(doc_id)
            continue
        for party in letter_parties(letter.document).values():
            if party.person_id in signed_docx.get(doc_id, set()) and not letter.signed_by(
                party.person_id
            ):
                work.append(_Wanted(letter, party.person_id))
    return work, missing


# The letters one worker signs at a time, and how many signed letters the main process holds
# before it writes them and appends their records: a PDF is ≈ 0.1–0.3 MB, so what is held stays
# a few tens of MB however large the year.
PDF_CHUNK = 8
COMMIT_LETTERS = 64
_SIGNERS_KEPT = 1024  # keys a worker keeps open (a Signer is a key and a certificate)


@dataclass(frozen=True)
class _PdfJob:
    """One letter's PDF and who signs it now, in order, each with their passphrase."""

    letter: LetterPdf
    signers: tuple[tuple[str, Passphrase], ...]


@dataclass(frozen=True)
class _PdfPoolSetup:
    keys_dir: Path
    year_dir: Path
    now: datetime
    signing_time: str
    registered: RevocationState  # the registry's CRLs and revocations, read once by the caller


@dataclass
class _PdfWorker:
    setup: _PdfPoolSetup
    pades: PadesSetup
    signers: OrderedDict[str, Signer] = field(default_factory=OrderedDict)


def _pdf_worker(setup: _PdfPoolSetup) -> _PdfWorker:
    """A worker's state: the CA certificate and the workspace CRL, checked against the registry
    state the caller read (as :func:`pades_setup` does), and the process's stamp font."""
    ca_cert = load_ca_certificate(setup.keys_dir)
    checked = checked_workspace_crl(setup.keys_dir, ca_cert, setup.registered, now=setup.now)
    pades = PadesSetup(ca_cert, checked.crl, setup.keys_dir / "people", stamp_font())
    return _PdfWorker(setup, pades)


def _worker_signer(worker: _PdfWorker, person_id: str, passphrase: Passphrase) -> Signer:
    signer = worker.signers.get(person_id)
    if signer is not None:
        worker.signers.move_to_end(person_id)
        return signer
    setup = worker.setup
    signer = load_signer(
        setup.keys_dir, person_id, passphrase,
        now=setup.now, registered=setup.registered, ca_cert=worker.pades.ca_cert,
    )  # fmt: skip
    worker.signers[person_id] = signer
    if len(worker.signers) > _SIGNERS_KEPT:
        worker.signers.popitem(last=False)
    return signer


def _sign_pdf_chunk(worker: _PdfWorker, jobs: Sequence[_PdfJob]) -> list[PdfBatch]:
    """Sign ``jobs``' letters in memory: one batch per letter (its file once, with every
    signature made now, and their records in signing order)."""
    setup = worker.setup
    worker.pades.stamp_font().warm(
        f"{p.name}{p.title}" for job in jobs for p in letter_parties(job.letter.document).values()
    )
    done: list[PdfBatch] = []
    for job in jobs:
        batch = PdfBatch()
        pending: dict[str, bytes] = {}
        for person_id, passphrase in job.signers:
            sign_letter_pdfs(
                setup.year_dir, [job.letter], _worker_signer(worker, person_id, passphrase),
                worker.pades, now=setup.now, signing_time=setup.signing_time,
                batch=batch, pending=pending,
            )  # fmt: skip
        batch.writes = list({str(path): (path, data) for path, data in batch.writes}.values())
        done.append(batch)
    return done


def _merge(batches: Iterable[PdfBatch]) -> PdfBatch:
    merged = PdfBatch()
    for batch in batches:
        merged.writes.extend(batch.writes)
        merged.records.extend(batch.records)
        merged.signed.extend(batch.signed)
        merged.missing.extend(batch.missing)
    return merged


def sign_year_pdfs(
    keys_dir: Path,
    registry: Registry,
    year_dir: Path,
    doc_ids: Sequence[str],
    passphrases: Callable[[str], Passphrase],
    commit: Callable[[PdfBatch], None],
    *,
    now: datetime,
    signing_time: str,
    progress: ProgressFactory = no_progress,
    chunk: int = 256,
    jobs: int | None = None,
) -> list[str]:
    """The bulk mode's PDF pass: every PDF signature ``doc_ids`` wait for, made by ``jobs``
    worker processes (both parties of a letter sign one file in one worker), each key opened
    once per worker that meets it. The registry is read ``chunk`` letters at a time, here;
    signed letters are handed to ``commit`` (which writes the files and appends the records)
    :data:`COMMIT_LETTERS` at a time, in letter order: memory does not grow with the year, and a
    failure leaves what was committed before it. ``passphrases`` is called here, once per
    signature to make (the caller remembers them). Returns the letters that have no PDF."""
    missing: list[str] = []
    with progress(len(doc_ids), "签署 PDF") as advance:

        def planned() -> Iterator[_PdfJob]:
            for start in range(0, len(doc_ids), chunk):
                part = doc_ids[start : start + chunk]
                work, absent = year_pdf_work(registry, part)
                missing.extend(absent)
                by_letter: dict[str, list[_Wanted]] = {}
                for wanted in work:
                    by_letter.setdefault(wanted.letter.doc_id, []).append(wanted)
                advance(len(part) - len(by_letter))  # letters with nothing to sign
                for wanted_list in by_letter.values():
                    yield _PdfJob(
                        wanted_list[0].letter,
                        tuple((w.person_id, passphrases(w.person_id)) for w in wanted_list),
                    )

        plan = planned()
        first = next(plan, None)
        if first is None:
            return missing  # nothing to sign: the keys and the CRL are not needed
        ca_cert = load_ca_certificate(keys_dir)
        registered = read_revocation_state(registry, ca_cert)
        # The workspace CRL is judged here, before any worker starts (as sign_everyone does).
        checked_workspace_crl(keys_dir, ca_cert, registered, now=now)
        setup = _PdfPoolSetup(keys_dir, year_dir, now, signing_time, registered)
        held: list[PdfBatch] = []
        results = map_chunks(
            _pdf_worker, setup, _sign_pdf_chunk, itertools.chain([first], plan),
            jobs=jobs, chunk_size=PDF_CHUNK, advance=advance,
        )  # fmt: skip
        try:
            for part_done in results:
                held.extend(part_done)
                if len(held) >= COMMIT_LETTERS:
                    commit(_merge(held))
                    held.clear()
        finally:
            results.close()  # on an error: waits for the chunks still being signed
        if held:
            commit(_merge(held))
    return missing
