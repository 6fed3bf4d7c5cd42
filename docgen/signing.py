"""``sign``: a party signs every letter of a year that waits for their signature.

Nothing is written unless every letter could be signed: the .p7s files are made in memory first,
then written atomically, then recorded in the registry in one batch.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from docgen import pki, proofs
from docgen.cades import DetachedSigner
from docgen.durable import (
    atomic_write_many,
    discard_run,
    discard_staged,
    new_token,
    publish_staged,
    stage_file,
    staged_under,
    sync_staged,
)
from docgen.errors import Location, ValidationError
from docgen.generate import APPEND_CHUNK
from docgen.lock import workspace_lock
from docgen.naming import signature_relpath
from docgen.parallel import map_chunks
from docgen.passphrase import Passphrase
from docgen.progress import ProgressFactory, no_progress
from docgen.proofs import clear_pending, mark_pending
from docgen.registry import Registry, open_registry
from docgen.state import LetterState, YearState, read_year_state
from docgen.views import refresh_year
from docgen.workspace import Workspace


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


def utc_iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def waiting_letters(
    state: YearState, person_id: str, doc_id: str | None = None
) -> tuple[list[LetterState], list[str]]:
    """Letters that wait for ``person_id`` and those already signed by them."""
    if doc_id is not None:
        letter = state.letters.get(doc_id)
        if letter is None:
            raise ValidationError(
                f"{state.year} 年度没有编号为 {doc_id} 的文书",
                hint="请用 docgen status 查看文书编号,或检查 --year",
            )
        if letter.voided:
            raise ValidationError(f"文书 {doc_id} 已作废,不能再签署")
        if person_id not in letter.party_ids().values():
            names = "、".join(p["name"] for p in letter.record["parties"])
            raise ValidationError(
                f"{person_id} 不是文书 {doc_id} 的签订方(签订方:{names})",
                hint="只能签署本人作为一方的文书",
            )
        candidates = [letter]
    else:
        candidates = [s for s in state.of_party(person_id) if not s.voided]
    waiting = [s for s in candidates if person_id not in s.signatures]
    done = [s.doc_id for s in candidates if person_id in s.signatures]
    return waiting, done


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
    letter: LetterState, signer: pki.Signer, party: str, p7s: bytes, now: datetime
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
    signer: pki.Signer,
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
    jobs: int | None = 1,
    progress: ProgressFactory = no_progress,
) -> None:
    """Refresh the proof bundles of the letters just signed (``None``: all), and the manifest."""
    refresh_year(ws, registry, year, rewrite=touched, jobs=jobs, progress=progress)
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
    atomic_write_many(writes)
    if not records:
        return
    mark_pending(ws.year_dir(year))
    registry.append(records, now=now)
    _finish(ws, registry, year, {r["doc_id"] for r in records})


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
        repair_interrupted(ws, registry, year)
        state = read_year_state(registry, year)
        waiting, done = waiting_letters(state, person_id, doc_id)
        if not waiting:
            return SignResult(person_id, (), tuple(done))
        signer = pki.load_signer(ws.keys_dir, person_id, passphrase, now=now)
        year_dir = ws.year_dir(year)
        with progress(len(waiting), f"{person_id} 签名") as advance:
            writes, records, signed = _sign_letters(year_dir, waiting, signer, now, advance)
        _commit(ws, registry, year, writes, records, now)
    return SignResult(person_id, tuple(signed), tuple(done))


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


@dataclass(frozen=True)
class _SignWorker:
    setup: _SignSetup
    ca_cert: x509.Certificate


# (doc_id, signer, party, cert fingerprint, cert serial, p7s sha256, doc sha256)
_SignatureSpec = tuple[str, str, str, str, str, str, str]


def _sign_worker(setup: _SignSetup) -> _SignWorker:
    return _SignWorker(setup, pki.load_ca_certificate(setup.keys_dir))


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
            signer = pki.load_signer(
                setup.keys_dir, job.person_id, job.passphrase, now=setup.now, ca_cert=worker.ca_cert
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


def sign_everyone(
    ws: Workspace,
    passphrases: Callable[[str], Passphrase],
    *,
    year: int,
    now: datetime,
    progress: ProgressFactory = no_progress,
    jobs: int | None = None,
    chunk_size: int = 64,
) -> int:
    """Bulk mode for the demo and benchmarks: every party signs every letter waiting for them.

    Real signers use :func:`sign_as`; this exists because the demo has to play every person.
    People are shared out among ``jobs`` worker processes (``chunk_size`` people at a time), so
    each key is decrypted once. Signatures are committed (files renamed into place, then one
    registry append) every :data:`APPEND_CHUNK` signatures; if anything fails, what was committed
    so far still gets its proof bundles and the manifest before the error is raised.
    """
    with workspace_lock(ws.root), open_registry(ws) as registry:
        repair_interrupted(ws, registry, year)
        state = read_year_state(registry, year)
        files: dict[str, tuple[str, str]] = {}  # doc_id -> (path, sha256), each record read once

        def file_of(letter: LetterState) -> tuple[str, str]:
            found = files.get(letter.doc_id)
            if found is None:
                record = letter.record
                found = files[letter.doc_id] = (record["path"], record["sha256"])
            return found

        plan: list[_PersonJob] = []
        for pid in state.parties():
            waiting = tuple(
                _Waiting(s.doc_id, *file_of(s), _party_of(s, pid))
                for s in state.of_party(pid)
                if not s.voided and pid not in s.signatures
            )
            if waiting:
                plan.append(_PersonJob(pid, passphrases(pid), waiting))
        del state
        files.clear()
        total = sum(len(job.letters) for job in plan)
        setup = _SignSetup(ws.keys_dir, ws.year_dir(year), now, new_token())
        staged: list[str] = []
        specs: list[_SignatureSpec] = []
        touched: set[str] = set()
        count = 0

        def commit() -> None:
            nonlocal count
            publish_staged(staged_under(setup.year_dir, setup.token, staged))
            mark_pending(ws.year_dir(year))
            registry.extend([_spec_record(spec, now) for spec in specs], now=now)
            touched.update(spec[0] for spec in specs)
            count += len(specs)
            staged.clear()
            specs.clear()

        results = map_chunks(
            _sign_worker, setup, _sign_chunk, plan,
            jobs=jobs, chunk_size=chunk_size,
        )  # fmt: skip
        try:
            with progress(total, "签名") as advance:
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
            plan.clear()
            if touched:
                _finish(ws, registry, year, touched, jobs=jobs)
            raise
        plan.clear()  # the year is read again for the proofs: do not hold both at once
        if touched:
            _finish(ws, registry, year, touched, jobs=jobs, progress=progress)
    return count
