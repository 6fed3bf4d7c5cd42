"""``sign``: a party signs every letter of a year that waits for their signature.

Nothing is written unless every letter could be signed: the .p7s files are made in memory first,
then written atomically, then recorded in the registry in one batch.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from docgen.core.durable import (
    atomic_write_many,
    discard_run,
    discard_staged,
    new_token,
    stage_file,
    staged_under,
    sync_staged,
)
from docgen.core.errors import Location, ValidationError
from docgen.core.lock import workspace_lock
from docgen.core.parallel import map_chunks
from docgen.core.progress import ProgressFactory, no_progress
from docgen.core.workspace import Workspace
from docgen.records import proofs
from docgen.records.naming import signature_relpath
from docgen.records.proofs import clear_pending, mark_pending
from docgen.records.publish import commit_then_publish, recover, stage_vouched
from docgen.records.state import (
    LetterState,
    iter_year_letters,
    letters_state,
    person_letters,
    waiting_letters,
)
from docgen.records.views import refresh_year
from docgen.registry import APPEND_CHUNK, Registry, open_registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.cades_sign import DetachedSigner
from docgen.signing.passphrase import Passphrase
from docgen.signing.pdf_sign import (
    LetterPdf,
    PdfBatch,
    letter_pdfs,
    pades_setup,
    sign_letter_pdfs,
    sign_year_pdfs,
)
from docgen.signing.revocation_state import (
    CheckedCrl,
    RevocationState,
    checked_workspace_crl,
    read_revocation_state,
)
from docgen.signing.signer import Signer, load_signer


@dataclass(frozen=True)
class SignedLetter:
    doc_id: str
    letter_path: str
    signature_path: str


@dataclass(frozen=True)
class SignResult:
    person_id: str
    signed: tuple[SignedLetter, ...]
    already_signed: tuple[str, ...]
    pdf_signed: tuple[str, ...] = ()  # letters whose PDF rendition was signed too
    pdf_missing: tuple[str, ...] = ()  # letters signed that have no PDF rendition yet
    notes: tuple[str, ...] = ()  # what was finished or cleaned after a killed run (Chinese)


def utc_iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _party_of(letter: LetterState, person_id: str) -> str:
    return next(p for p, pid in letter.party_ids().items() if pid == person_id)


def _read_unchanged(year_dir: Path, letter: LetterState) -> bytes:
    return _read_unchanged_file(
        year_dir, letter.doc_id, str(letter.record["path"]), letter.record["sha256"]
    )


def _read_unchanged_file(year_dir: Path, doc_id: str, relpath: str, sha256: str) -> bytes:
    path = year_dir / relpath
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(
            f"找不到文书文件(编号 {doc_id})",
            location=Location(file=str(path)),
            hint="请运行 docgen generate 恢复文件后再签",
        ) from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValidationError(
            f"文书 {doc_id} 自生成登记后已被改动,拒绝签名",
            location=Location(file=str(path)),
            hint="请运行 docgen generate 按登记内容恢复,或核实是谁改动了文件",
        )
    return data


def signature_record(
    letter: LetterState, signer: Signer, party: str, p7s: bytes, now: datetime
) -> dict[str, Any]:
    der = signer.cert.public_bytes(serialization.Encoding.DER)
    return {
        "type": "signature",
        "doc_id": letter.doc_id,
        "signer": signer.person_id,
        "party": party,
        "cert_fingerprint": hashlib.sha256(der).hexdigest(),
        "cert_serial": format(signer.cert.serial_number, "x"),
        "p7s_sha256": hashlib.sha256(p7s).hexdigest(),
        "doc_sha256": letter.record["sha256"],
        "signing_time": utc_iso(now),
    }


def _sign_letters(
    year_dir: Path,
    letters: Iterable[LetterState],
    signer: Signer,
    now: datetime,
    advance: Callable[[int], None],
) -> tuple[list[tuple[Path, bytes]], list[dict[str, Any]], list[SignedLetter]]:
    writes: list[tuple[Path, bytes]] = []
    records: list[dict[str, Any]] = []
    signed: list[SignedLetter] = []
    cms_signer = DetachedSigner(signer.key, signer.cert)
    for letter in letters:
        data = _read_unchanged(year_dir, letter)
        p7s = cms_signer.sign(data, signing_time=now)
        rel = signature_relpath(letter.record["path"], signer.person_id)
        writes.append((year_dir / rel, p7s))
        records.append(
            signature_record(letter, signer, _party_of(letter, signer.person_id), p7s, now)
        )
        signed.append(SignedLetter(letter.doc_id, letter.record["path"], rel))
        advance(1)
    return writes, records, signed


def _finish(
    ws: Workspace,
    registry: Registry,
    year: int,
    touched: set[str] | None,
    *,
    appended_from: int | None = None,
    jobs: int | None = 1,
    progress: ProgressFactory = no_progress,
    splice: bool = False,
) -> None:
    """Refresh the proof bundles of the letters just signed — those in ``touched`` (``None``: all)
    and those with an entry at or after index ``appended_from`` — and the manifest (``splice``:
    see :func:`docgen.records.views.refresh_year`)."""
    refresh_year(
        ws, registry, year, rewrite=touched, appended_from=appended_from, jobs=jobs,
        progress=progress, splice=splice,
    )  # fmt: skip
    clear_pending(ws.year_dir(year))


def repair_interrupted(ws: Workspace, registry: Registry, year: int) -> bool:
    """Rebuild every proof bundle of ``year`` if an earlier command died after its commit."""
    if not proofs.is_pending(ws.year_dir(year)):
        return False
    _finish(ws, registry, year, None)
    return True


def _commit(
    ws: Workspace,
    registry: Registry,
    year: int,
    writes: Sequence[tuple[Path, bytes]],
    records: list[dict[str, Any]],
    now: datetime,
) -> None:
    if not records:
        atomic_write_many(writes)
        return
    year_dir = ws.year_dir(year)

    def append() -> None:
        mark_pending(year_dir)
        registry.append(records, now=now)

    # The .p7s and signed PDFs appear under their names only once their entries have committed.
    commit_then_publish(year_dir, stage_vouched(writes, records), append)
    # One signer's letters: only they are read again, and put in place in the manifest.
    _finish(ws, registry, year, {r["doc_id"] for r in records}, splice=True)


def commit_signatures(
    ws: Workspace,
    registry: Registry,
    year: int,
    writes: Sequence[tuple[Path, bytes]],
    records: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Put checked signature files in place and register them exactly as :func:`sign_as` does
    (``sign import``: docgen.signing.signature_import). The caller holds the workspace lock."""
    repair_interrupted(ws, registry, year)
    _commit(ws, registry, year, writes, records, now)


def sign_as(
    ws: Workspace,
    person_id: str,
    passphrase: Passphrase,
    *,
    year: int,
    now: datetime,
    doc_id: str | None = None,
    progress: ProgressFactory = no_progress,
) -> SignResult:
    """Sign, as ``person_id``, every letter of ``year`` (or just ``doc_id``) that waits for them."""
    with workspace_lock(ws.root), open_registry(ws) as registry:
        now = registry.moment(now)  # the registry clock once the lock is ours (live clock)
        notes = tuple(recover(ws.year_dir(year), registry, root=ws.root).messages())
        repair_interrupted(ws, registry, year)
        # Only this person's letters (or the one asked for) are read, not the year's.
        state = (
            person_letters(registry, year, person_id)
            if doc_id is None
            else letters_state(registry, [doc_id], year)
        )
        waiting, done = waiting_letters(state, person_id, doc_id)
        pdfs = _pdfs_waiting(registry, person_id, waiting, done)
        if not waiting and not pdfs:
            return SignResult(person_id, (), tuple(done), notes=notes)
        ca_cert = load_ca_certificate(ws.keys_dir)
        registered = read_revocation_state(registry, ca_cert)
        signer = load_signer(
            ws.keys_dir, person_id, passphrase, now=now, registered=registered, ca_cert=ca_cert
        )
        year_dir = ws.year_dir(year)
        with progress(len(waiting), f"{person_id} 签名") as advance:
            writes, records, signed = _sign_letters(year_dir, waiting, signer, now, advance)
        pdf = _sign_pdfs_as(ws, registry, year_dir, pdfs, signer, now=now, progress=progress)
        _commit(ws, registry, year, [*writes, *pdf.writes], [*records, *pdf.records], now)
    missing = tuple(d for d in pdf.missing if d in {w.doc_id for w in waiting})
    return SignResult(
        person_id, tuple(signed), tuple(done), tuple(pdf.signed), missing, notes=notes
    )


def _pdfs_waiting(
    registry: Registry, person_id: str, waiting: Sequence[LetterState], done: Sequence[str]
) -> list[LetterPdf]:
    """The PDFs ``person_id`` signs with their letters: those of the letters they sign now, and
    of letters signed before their PDF was made (a letter without a PDF is listed too, to be
    said once). Voided letters are in neither list."""
    found = letter_pdfs(registry, [*(w.doc_id for w in waiting), *done])
    waiting_ids = {w.doc_id for w in waiting}
    return [
        letter
        for letter in found.values()
        if (letter.rendition is None and letter.doc_id in waiting_ids)
        or (letter.rendition is not None and not letter.signed_by(person_id))
    ]


def _sign_pdfs_as(
    ws: Workspace,
    registry: Registry,
    year_dir: Path,
    letters: Sequence[LetterPdf],
    signer: Signer,
    *,
    now: datetime,
    progress: ProgressFactory,
) -> PdfBatch:
    """``signer``'s PAdES signatures of ``letters``' PDF renditions (docgen.signing.pdf_sign),
    in memory, to be committed with the .p7s files."""
    batch = PdfBatch()
    to_sign = [letter for letter in letters if letter.rendition is not None]
    batch.missing.extend(letter.doc_id for letter in letters if letter.rendition is None)
    if not to_sign:
        return batch
    setup = pades_setup(ws.keys_dir, registry, now=now)
    me = [p for letter in to_sign for p in letter.document["parties"]]
    setup.stamp_font().warm(f"{p['name']}{p.get('title', '')}" for p in me)
    with progress(len(to_sign), f"{signer.person_id} 签署 PDF") as advance:
        for letter in to_sign:
            sign_letter_pdfs(
                year_dir, [letter], signer, setup, now=now, signing_time=utc_iso(now), batch=batch
            )
            advance(1)
    return batch


# --- bulk signing in worker processes ---


@dataclass(frozen=True, slots=True)
class _Waiting:
    doc_id: str
    path: str
    sha256: str
    party: str


@dataclass(frozen=True, slots=True)
class _PersonJob:
    person_id: str
    passphrase: Passphrase
    letters: tuple[_Waiting, ...]


@dataclass(frozen=True)
class _SignSetup:
    keys_dir: Path
    year_dir: Path
    now: datetime
    token: str  # names this run's temporary files (durable.staged_for)
    registered: RevocationState  # the registry's CRLs and revocations, read once


@dataclass(frozen=True)
class _SignWorker:
    setup: _SignSetup
    ca_cert: x509.Certificate
    crl: CheckedCrl  # the workspace's, read and checked once per worker (it is locked)


# (doc_id, signer, party, cert fingerprint, cert serial, p7s sha256, doc sha256)
_SignatureSpec = tuple[str, str, str, str, str, str, str]


def _sign_worker(setup: _SignSetup) -> _SignWorker:
    ca_cert = load_ca_certificate(setup.keys_dir)
    crl = checked_workspace_crl(setup.keys_dir, ca_cert, setup.registered, now=setup.now)
    return _SignWorker(setup, ca_cert, crl)


def _sign_chunk(
    worker: _SignWorker, people: Sequence[_PersonJob]
) -> list[tuple[str, _SignatureSpec]]:
    """Each person's key is opened once; their letters are signed and staged, then synced.
    Returns each signature file's path (relative to the year folder) and its record."""
    setup = worker.setup
    root = str(setup.year_dir)
    done: list[tuple[str, _SignatureSpec]] = []
    try:
        for job in people:
            signer = load_signer(
                setup.keys_dir,
                job.person_id,
                job.passphrase,
                now=setup.now,
                registered=setup.registered,
                ca_cert=worker.ca_cert,
                workspace_crl=worker.crl,
            )
            cms_signer = DetachedSigner(signer.key, signer.cert)
            der = signer.cert.public_bytes(serialization.Encoding.DER)
            fingerprint = hashlib.sha256(der).hexdigest()
            serial = format(signer.cert.serial_number, "x")
            for letter in job.letters:
                data = _read_unchanged_file(
                    setup.year_dir, letter.doc_id, letter.path, letter.sha256
                )
                p7s = cms_signer.sign(data, signing_time=setup.now)
                rel = signature_relpath(letter.path, job.person_id)
                stage_file(os.path.join(root, rel), p7s, token=setup.token)
                spec = (
                    letter.doc_id,
                    job.person_id,
                    letter.party,
                    fingerprint,
                    serial,
                    hashlib.sha256(p7s).hexdigest(),
                    letter.sha256,
                )
                done.append((rel, spec))
        sync_staged(staged_under(setup.year_dir, setup.token, (rel for rel, _ in done)))
    except BaseException:
        discard_staged(staged_under(setup.year_dir, setup.token, (rel for rel, _ in done)))
        raise
    return done


def _spec_record(spec: _SignatureSpec, now: datetime) -> dict[str, Any]:
    doc_id, signer, party, fingerprint, serial, p7s_sha, doc_sha = spec
    return {
        "type": "signature",
        "doc_id": doc_id,
        "signer": signer,
        "party": party,
        "cert_fingerprint": fingerprint,
        "cert_serial": serial,
        "p7s_sha256": p7s_sha,
        "doc_sha256": doc_sha,
        "signing_time": utc_iso(now),
    }


# (person id, the letter's place in the year, doc_id, path, sha256, the person's party)
_PlanRow = tuple[str, int, str, str, str, str]

def _waiting_signatures(
    registry: Registry, year: int, people: Collection[str] | None = None
) -> Iterator[_PlanRow]:
    """Every signature the letters of ``year`` wait for, letter by letter in registry order,
    read a page of letters at a time (:func:`docgen.records.state.iter_year_letters`): only one
    page is
    held, however large the year."""
    for place, letter in enumerate(iter_year_letters(registry, year), start=1):
        if letter.voided:
            continue
        waiting = dict.fromkeys(letter.missing_signers())  # a person signs a letter once
        if not waiting:
            continue
        record = letter.record
        for pid in waiting:
            if people is not None and pid not in people:
                continue
            yield pid, place, letter.doc_id, record["path"], record["sha256"], _party_of(
                letter, pid
            )


class _SignPlan:
    """The signatures a year waits for, handed out person by person (by id, each person's letters
    in registry order), as :func:`sign_everyone` has always signed them.

    Grouping by person needs every letter first; the rows are kept in a private temporary SQLite
    database rather than in this process: SQLite keeps a bounded cache in memory and spills the
    rest to an unnamed file, which it deletes at once (nothing is left, even after ``kill -9``).
    """

    def __init__(self, rows: Iterable[_PlanRow]) -> None:
        self._db = sqlite3.connect("", isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(
                "CREATE TABLE waiting (person TEXT NOT NULL, place INTEGER NOT NULL,"
                " doc_id TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,"
                " party TEXT NOT NULL)"
            )
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO waiting VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.close()
            raise
        self.total: int = self._db.execute("SELECT COUNT(*) FROM waiting").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def people(self, passphrases: Callable[[str], Passphrase]) -> Iterator[_PersonJob]:
        """One job per person, in the order of their ids (the order of Python's ``sorted``:
        SQLite compares text by its UTF-8 bytes, which orders it by code point)."""
        rows = self._db.execute(
            "SELECT person, doc_id, path, sha256, party FROM waiting ORDER BY person, place"
        )
        for pid, letters in itertools.groupby(rows, key=lambda row: str(row[0])):
            waiting = tuple(_Waiting(*letter[1:]) for letter in letters)
            yield _PersonJob(pid, passphrases(pid), waiting)


def sign_everyone(
    ws: Workspace,
    passphrases: Callable[[str], Passphrase],
    *,
    year: int,
    now: datetime,
    progress: ProgressFactory = no_progress,
    jobs: int | None = None,
    chunk_size: int = 64,
    people: Collection[str] | None = None,
) -> int:
    """Bulk mode for the demo and benchmarks: every party signs every letter waiting for them.
    ``people``: only these persons sign (the demo's year signs in rounds); ``None``: everyone.

    Real signers use :func:`sign_as`; this exists because the demo has to play every person.
    People are shared out among ``jobs`` worker processes (``chunk_size`` people at a time), so
    each key is decrypted once. Signatures are committed (files renamed into place, then one
    registry append) every :data:`APPEND_CHUNK` signatures; if anything fails, what was committed
    so far still gets its proof bundles and the manifest before the error is raised.

    The plan is read a few hundred letters at a time and kept in a temporary database
    (:class:`_SignPlan`), the proof bundles are rewritten for the letters that got an entry in
    this run: this process's memory does not grow with the year. ``passphrases`` is called once
    per person, in the order of their ids, as their letters are handed out.
    """
    remembered = functools.cache(passphrases)  # asked once per person, for .docx and PDF
    with workspace_lock(ws.root), open_registry(ws) as registry:
        now = registry.moment(now)  # the registry clock once the lock is ours (live clock)
        # One time for the whole bulk run, read after the workspace lock: the workers sign with
        # it, so a registry time read per chunk would drift from their signing times (past the
        # verify tolerance on a long run). Writers of this workspace all wait for its lock.
        registry.live = False
        recover(ws.year_dir(year), registry, root=ws.root)
        repair_interrupted(ws, registry, year)
        first_new = registry.size()  # the entries this run appends are those from here on
        with closing(_SignPlan(_waiting_signatures(registry, year, people))) as plan:
            count = _sign_planned(
                ws, registry, year, plan, remembered, first_new,
                now=now, progress=progress, jobs=jobs, chunk_size=chunk_size,
            )  # fmt: skip
        _sign_year_pdfs(ws, registry, year, remembered, now=now, progress=progress, jobs=jobs)
        return count


def _sign_year_pdfs(
    ws: Workspace,
    registry: Registry,
    year: int,
    passphrases: Callable[[str], Passphrase],
    *,
    now: datetime,
    progress: ProgressFactory,
    jobs: int | None,
) -> None:
    """The bulk mode's PDF pass (:func:`docgen.signing.pdf_sign.sign_year_pdfs`): every PDF
    rendition gets the signatures of the parties who signed its letter, committed in chunks."""
    if next(registry.entries(type="rendition"), None) is None:
        return  # no PDF made yet (one indexed query): the year is not read again
    first = registry.size()
    year_dir = ws.year_dir(year)
    doc_ids = [letter.doc_id for letter in iter_year_letters(registry, year) if not letter.voided]

    def commit(batch: PdfBatch) -> None:
        if not batch.records:
            atomic_write_many(batch.writes)
            return

        def append() -> None:
            mark_pending(year_dir)
            registry.extend(batch.records, now=now)

        commit_then_publish(year_dir, stage_vouched(batch.writes, batch.records), append)

    try:
        sign_year_pdfs(
            ws.keys_dir, registry, year_dir, doc_ids, passphrases, commit,
            now=now, signing_time=utc_iso(now), progress=progress, jobs=jobs,
        )  # fmt: skip
    finally:
        if registry.size() > first:
            _finish(ws, registry, year, set(), appended_from=first, jobs=jobs)


def _sign_planned(
    ws: Workspace,
    registry: Registry,
    year: int,
    plan: _SignPlan,
    passphrases: Callable[[str], Passphrase],
    first_new: int,
    *,
    now: datetime,
    progress: ProgressFactory,
    jobs: int | None,
    chunk_size: int,
) -> int:
    if not plan.total:
        return 0
    ca_cert = load_ca_certificate(ws.keys_dir)
    registered = read_revocation_state(registry, ca_cert)
    # The workspace CRL is judged here, before any worker starts: a stale, unregistered or
    # expired CRL stops the run with nothing signed.
    checked_workspace_crl(ws.keys_dir, ca_cert, registered, now=now)
    setup = _SignSetup(ws.keys_dir, ws.year_dir(year), now, new_token(), registered)
    staged: list[str] = []
    specs: list[_SignatureSpec] = []
    count = 0

    def commit() -> None:
        nonlocal count

        def append() -> None:
            mark_pending(ws.year_dir(year))
            registry.extend([_spec_record(spec, now) for spec in specs], now=now)

        files = staged_under(setup.year_dir, setup.token, staged)
        # Published only after the append commits (recover finishes a run killed in between).
        commit_then_publish(
            setup.year_dir, [(f, spec[0]) for f, spec in zip(files, specs, strict=True)], append
        )
        count += len(specs)
        staged.clear()
        specs.clear()

    results = map_chunks(
        _sign_worker, setup, _sign_chunk, plan.people(passphrases),
        jobs=jobs, chunk_size=chunk_size,
    )  # fmt: skip
    try:
        with progress(plan.total, "签名") as advance:
            for chunk in results:
                for file, spec in chunk:
                    staged.append(file)
                    specs.append(spec)
                advance(len(chunk))
                if len(specs) >= APPEND_CHUNK:
                    commit()
            if specs:
                commit()
    except BaseException:
        results.close()  # waits for the chunks still being signed
        discard_staged(staged_under(setup.year_dir, setup.token, staged))
        discard_run(setup.year_dir, setup.token)  # chunks signed but not collected
        if count:
            _finish(ws, registry, year, set(), appended_from=first_new, jobs=jobs)
        raise
    if count:
        _finish(
            ws, registry, year, set(), appended_from=first_new, jobs=jobs, progress=progress
        )
    return count
