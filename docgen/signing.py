"""``sign``: a party signs every letter of a year that waits for their signature.

Nothing is written unless every letter could be signed: the .p7s files are made in memory first,
then written atomically, then recorded in the registry in one batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from docgen import pki
from docgen.cades import sign_detached
from docgen.errors import Location, ValidationError
from docgen.generate import ProgressFactory, no_progress
from docgen.lock import workspace_lock
from docgen.manifest import write_manifest
from docgen.naming import signature_relpath
from docgen.passphrase import Passphrase
from docgen.proofs import write_letter_proofs
from docgen.registry import Registry, open_registry
from docgen.state import LetterState, YearState, read_year_state
from docgen.workspace import Workspace, atomic_write


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
        candidates = [s for s in state.active() if person_id in s.party_ids().values()]
    waiting = [s for s in candidates if person_id not in s.signatures]
    done = [s.doc_id for s in candidates if person_id in s.signatures]
    return waiting, done


def _party_of(letter: LetterState, person_id: str) -> str:
    return next(p for p, pid in letter.party_ids().items() if pid == person_id)


def _read_unchanged(year_dir: Path, letter: LetterState) -> bytes:
    path: Path = year_dir / str(letter.record["path"])
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(
            f"找不到文书文件(编号 {letter.doc_id})",
            location=Location(file=str(path)),
            hint="请运行 docgen generate 恢复文件后再签",
        ) from exc
    if hashlib.sha256(data).hexdigest() != letter.record["sha256"]:
        raise ValidationError(
            f"文书 {letter.doc_id} 自生成登记后已被改动,拒绝签名",
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
    for letter in letters:
        data = _read_unchanged(year_dir, letter)
        p7s = sign_detached(data, signer.key, signer.cert, signing_time=now)
        rel = signature_relpath(letter.record["path"], signer.person_id)
        writes.append((year_dir / rel, p7s))
        records.append(
            signature_record(letter, signer, _party_of(letter, signer.person_id), p7s, now)
        )
        signed.append(SignedLetter(letter.doc_id, letter.record["path"], rel))
        advance(1)
    return writes, records, signed


def _commit(
    ws: Workspace,
    registry: Registry,
    year: int,
    writes: Sequence[tuple[Path, bytes]],
    records: list[dict[str, Any]],
    now: datetime,
) -> None:
    for path, p7s in writes:
        atomic_write(path, p7s)
    if not records:
        return
    registry.append(records, now=now)
    state = read_year_state(registry, year)
    touched = {r["doc_id"] for r in records}
    write_letter_proofs(
        registry, ws.year_dir(year), [s for s in state.letters.values() if s.doc_id in touched]
    )
    write_manifest(ws.year_dir(year), state, ws.config.institution)


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


def sign_everyone(
    ws: Workspace,
    passphrases: Callable[[str], Passphrase],
    *,
    year: int,
    now: datetime,
    progress: ProgressFactory = no_progress,
) -> int:
    """Bulk mode for the demo and benchmarks: every party signs every letter waiting for them.

    Real signers use :func:`sign_as`; this exists because the demo has to play every person.
    """
    with workspace_lock(ws.root), open_registry(ws) as registry:
        state = read_year_state(registry, year)
        people = sorted({pid for s in state.active() for pid in s.party_ids().values()})
        plan = [(pid, waiting_letters(state, pid)[0]) for pid in people]
        total = sum(len(letters) for _, letters in plan)
        writes: list[tuple[Path, bytes]] = []
        records: list[dict[str, Any]] = []
        year_dir = ws.year_dir(year)
        with progress(total, "签名") as advance:
            for pid, letters in plan:
                if not letters:
                    continue
                signer = pki.load_signer(ws.keys_dir, pid, passphrases(pid), now=now)
                w, r, _ = _sign_letters(year_dir, letters, signer, now, advance)
                writes.extend(w)
                records.extend(r)
        _commit(ws, registry, year, writes, records, now)
    return len(records)
