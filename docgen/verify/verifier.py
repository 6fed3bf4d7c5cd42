"""Verify letters offline: a numbered checklist per letter, as sigstore-python verifies a bundle.

What is checked, for each letter (the numbers are what a user sees):

1. the file's SHA-256 equals the ``document`` entry in its proof bundle;
2. every entry of the bundle is included in a checkpoint signed by the registry's key;
3. every ``.p7s`` is a valid CAdES signature over these exact bytes, and every signature the
   registry recorded has its file (and no file lacks a registry record);
4. each signer is the expected party: the signer certificate's person id and fingerprint equal the
   signature record's, and that person is the party of the document record;
5. the signer certificate chains to the institution's CA and was valid when signed;
6. the certificate was not revoked when the registry recorded the signature (``recorded_at``), and
   the CMS signingTime agrees with that time within the configured tolerance;
7. all parties have signed — or the letter is voided (作废), which the registry records;
8. (online only) the registry still holds these entries, byte for byte, and its current checkpoint
   extends the bundle's checkpoint (consistency proof).

A letter is ``verified`` when all steps pass; ``voided`` when steps 1–6 pass and a verified
``void`` entry exists (a voided letter is evidence kept on file, not a failure, but never counted
as verified); ``incomplete`` when only step 7 fails; ``failed`` otherwise. A verification run
succeeds when every letter is verified or voided and every container check passes.

Inputs are read within size bounds and never trusted: a malformed file gives a failed step with a
Chinese message, never an exception. Time is never read from the clock: signatures are judged at
the registry's ``recorded_at`` of their entry.
"""

from __future__ import annotations

import codecs
import errno
import functools
import hashlib
import heapq
import json
import os
import re
import stat
import tempfile
import weakref
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from docgen.core.errors import DocgenError, Location, UsageError, VerificationError
from docgen.core.parallel import map_chunks
from docgen.records.naming import sanitize_component
from docgen.records.proofs import FORMAT as LETTER_PROOF_FORMAT
from docgen.registry import Entry, Registry, verify_proof_bundle
from docgen.registry.note import open_checkpoint, parse_verifier_key
from docgen.registry.store import verified_checkpoint
from docgen.signing import cades
from docgen.signing.pki import crl_issued_by
from docgen.verify.derived import (
    ARCHIVE_FORMAT,
    CA_NAME,
    CHECKPOINT_NAME,
    CRL_NAME,
    MANIFEST_NAME,
    VKEY_NAME,
    ArchiveAnchors,
    Volume,
    render_derived_files,
)
from docgen.verify.volumes import VolumeMark, VolumeSets, volume_mark

MIB = 1 << 20
MAX_LETTER_BYTES = 50 * MIB
MAX_SIGNATURE_BYTES = 1 * MIB
MAX_PROOF_BYTES = 1 * MIB
MAX_CHECKPOINT_BYTES = 64 * 1024
MAX_ANCHOR_BYTES = 8 * MIB
MAX_MANIFEST_BYTES = 32 * MIB  # an archive's file list, read whole
# A year's manifest.json is ≈ 1.4 KiB per letter (150 MB at 10⁵ letters) and is read a piece at
# a time, keeping only what it needs: this bounds the time spent, not the memory.
MAX_YEAR_MANIFEST_BYTES = 2048 * MIB
MAX_PROOF_ENTRIES = 1000

PROOF_SUFFIX = ".proof.json"
SIGNATURE_SUFFIX = ".p7s"
LETTER_SUFFIX = ".docx"
DEFAULT_TOLERANCE = timedelta(seconds=600)

STEP_NAMES: dict[int, str] = {
    1: "文件哈希与登记一致",
    2: "登记条目包含在已签名的检查点中",
    3: "数字签名有效",
    4: "签名人为约定的签订方",
    5: "证书由本单位根证书签发",
    6: "登记签名时证书未吊销",
    7: "签名齐全",
    8: "与在线登记簿一致",
}

_SIG_CHECKS_VALID = {
    cades.CHECK_STRUCTURE,
    cades.CHECK_CONTENT_TYPE,
    cades.CHECK_DIGEST_ALGORITHM,
    cades.CHECK_MESSAGE_DIGEST,
    cades.CHECK_CERTIFICATE,
    cades.CHECK_SIGNATURE,
    cades.CHECK_SIGNING_CERTIFICATE,
    cades.CHECK_KEY_USAGE,
}
_SIG_CHECKS_SIGNER = {cades.CHECK_SIGNER}
_SIG_CHECKS_CHAIN = {cades.CHECK_CHAIN, cades.CHECK_VALIDITY}
_SIG_CHECKS_REVOCATION = {cades.CHECK_REVOCATION, cades.CHECK_SIGNING_TIME}

PARTY_LABELS = {"superior": "甲方", "subordinate": "乙方"}


class LetterStatus(StrEnum):
    VERIFIED = "verified"
    FAILED = "failed"
    INCOMPLETE = "incomplete"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return {
            LetterStatus.VERIFIED: "验证通过",
            LetterStatus.FAILED: "验证失败",
            LetterStatus.INCOMPLETE: "签名不全",
            LetterStatus.VOIDED: "已作废",
        }[self]


@dataclass(frozen=True)
class StepResult:
    number: int
    name: str
    ok: bool
    detail: str
    skipped: bool = False  # not run because something it needs failed earlier
    file: str | None = None  # the file found at fault, if one

    @property
    def mark(self) -> str:
        return "–" if self.skipped else ("✓" if self.ok else "✗")


@dataclass(frozen=True)
class CheckResult:
    """A check of a whole container (archive, directory, registry), not of one letter."""

    name: str
    ok: bool
    detail: str
    file: str | None = None


@dataclass(frozen=True)
class Party:
    party: str  # "superior" | "subordinate"
    id: str
    name: str
    title: str


@dataclass(frozen=True)
class SignatureInfo:
    """What a registered signature says, once its entry is proved to be in the registry."""

    signer: str
    name: str
    party: str
    path: str
    p7s_sha256: str
    cert_fingerprint: str
    cert_serial: str
    signing_time: str
    recorded_at: str
    registry_index: int


@dataclass(frozen=True)
class VoidInfo:
    reason: str
    replaced_by: str | None
    recorded_at: str
    registry_index: int


@dataclass(frozen=True)
class LetterReport:
    doc_id: str | None
    path: str
    steps: tuple[StepResult, ...]
    status: LetterStatus
    kind: str | None = None
    title: str | None = None
    year: int | None = None
    sha256: str | None = None
    registry_index: int | None = None
    recorded_at: str | None = None
    parties: tuple[Party, ...] = ()
    signatures: tuple[SignatureInfo, ...] = ()
    missing: tuple[Party, ...] = ()
    void: VoidInfo | None = None

    @property
    def failed_steps(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if not s.ok and not s.skipped)


@dataclass(frozen=True)
class VerifyReport:
    """Every letter's report and the container checks (for a handful of letters; a whole year
    is verified with ``stream_verify_paths``, which keeps a ``VerifyTally``)."""

    letters: tuple[LetterReport, ...]
    checks: tuple[CheckResult, ...] = ()
    volume: VolumeMark | None = None  # an archive that is one volume of a year's

    def count(self, status: LetterStatus) -> int:
        return sum(1 for letter in self.letters if letter.status is status)

    @property
    def ok(self) -> bool:
        return _all_ok(len(self.letters), self.count, self.checks)

    def summary(self) -> str:
        return _summary_text(len(self.letters), self.count, self.checks)


@dataclass
class VerifyTally:
    """What a streamed verification keeps: how many letters have each status, and the checks of
    the containers (directories, archives, the online registry) — not the letters."""

    counts: dict[LetterStatus, int] = field(default_factory=lambda: dict.fromkeys(LetterStatus, 0))
    checks: list[CheckResult] = field(default_factory=list)

    def add(self, letter: LetterReport) -> None:
        self.counts[letter.status] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: LetterStatus) -> int:
        return self.counts[status]

    @property
    def ok(self) -> bool:
        return _all_ok(self.total, self.count, self.checks)

    def summary(self) -> str:
        return _summary_text(self.total, self.count, self.checks)


def _all_ok(
    total: int, count: Callable[[LetterStatus], int], checks: Iterable[CheckResult]
) -> bool:
    """Some letters, all verified or voided, and every container check passed."""
    return (
        total > 0
        and all(c.ok for c in checks)
        and count(LetterStatus.FAILED) == 0
        and count(LetterStatus.INCOMPLETE) == 0
    )


def _summary_text(
    total: int, count: Callable[[LetterStatus], int], checks: Iterable[CheckResult]
) -> str:
    text = (
        f"共 {total} 份:验证通过 {count(LetterStatus.VERIFIED)} 份,"
        f"失败 {count(LetterStatus.FAILED)} 份,"
        f"签名不全 {count(LetterStatus.INCOMPLETE)} 份"
    )
    voided = count(LetterStatus.VOIDED)
    if voided:
        text += f",已作废 {voided} 份"
    bad_checks = sum(1 for c in checks if not c.ok)
    if bad_checks:
        text += f";另有 {bad_checks} 项整体检查未通过"
    return text


@dataclass(frozen=True)
class TrustAnchors:
    """What a verifier must already trust: the CA, its CRL, and the registry's verifier key."""

    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList
    verifier_key: str
    tolerance: timedelta = DEFAULT_TOLERANCE

    @property
    def ca_fingerprint(self) -> str:
        return _ca_fingerprint(self.ca_cert)


@functools.lru_cache(maxsize=16)  # shown for every letter; certificates hash by their DER
def _ca_fingerprint(ca_cert: x509.Certificate) -> str:
    return hashlib.sha256(ca_cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class Blob:
    """The bytes of one input file, or why they could not be read."""

    path: str
    data: bytes | None
    problem: str | None = None


@dataclass(frozen=True)
class LetterFiles:
    path: str  # the .docx, as shown to the user
    docx: Blob
    proof: Blob
    signatures: tuple[tuple[str, Blob], ...] = ()  # (signer id from the file name, file)


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 50_000
    max_member_bytes: int = MAX_LETTER_BYTES
    max_total_bytes: int = 2 * 1024 * MIB
    max_ratio: int = 100
    ratio_floor_bytes: int = MIB  # members smaller than this are not judged by their ratio


# ---------------------------------------------------------------------------------------------
# trust anchors


def _anchor_error(what: str, where: str, reason: str) -> VerificationError:
    return VerificationError(
        f"{what}无法使用:{reason}",
        location=Location(file=where),
        hint="请提供本单位根证书 ca.pem、吊销列表 crl.pem 和登记簿验证公钥 registry.vkey 的原件",
    )


def trust_from_bytes(
    ca_data: bytes,
    crl_data: bytes,
    vkey_data: bytes,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    names: tuple[str, str, str] = (CA_NAME, CRL_NAME, VKEY_NAME),
) -> TrustAnchors:
    ca_name, crl_name, vkey_name = names
    try:
        if ca_data.lstrip().startswith(b"-----BEGIN"):
            ca_cert = x509.load_pem_x509_certificate(ca_data)
        else:
            ca_cert = x509.load_der_x509_certificate(ca_data)
    except ValueError as exc:
        raise _anchor_error("根证书", ca_name, "不是有效的 X.509 证书") from exc
    try:
        if crl_data.lstrip().startswith(b"-----BEGIN"):
            crl = x509.load_pem_x509_crl(crl_data)
        else:
            crl = x509.load_der_x509_crl(crl_data)
    except ValueError as exc:
        raise _anchor_error("证书吊销列表", crl_name, "不是有效的 CRL") from exc
    if not crl_issued_by(crl, ca_cert):
        raise _anchor_error("证书吊销列表", crl_name, "不是该根证书签发的(签发者或签名不符)")
    try:
        vkey = vkey_data.decode("utf-8").strip()
        parse_verifier_key(vkey)
    except (UnicodeDecodeError, VerificationError) as exc:
        raise _anchor_error("登记簿验证公钥", vkey_name, "格式不对") from exc
    return TrustAnchors(ca_cert=ca_cert, crl=crl, verifier_key=vkey, tolerance=tolerance)


def _read_anchor(path: Path, what: str) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise UsageError(
            f"{what}不存在",
            location=Location(file=str(path)),
            hint="请用 --ca、--crl、--verifier-key 指定,或在 docgen 工作目录中运行",
        ) from exc
    if info.st_size > MAX_ANCHOR_BYTES:
        raise _anchor_error(what, str(path), f"文件过大({info.st_size} 字节)")
    return path.read_bytes()


def load_trust_anchors(
    ca: Path, crl: Path, verifier_key: Path, *, tolerance: timedelta = DEFAULT_TOLERANCE
) -> TrustAnchors:
    """Read the three trust anchors from files (PEM or DER for the CA and CRL)."""
    return trust_from_bytes(
        _read_anchor(ca, "根证书"),
        _read_anchor(crl, "证书吊销列表"),
        _read_anchor(verifier_key, "登记簿验证公钥"),
        tolerance=tolerance,
        names=(str(ca), str(crl), str(verifier_key)),
    )


# ---------------------------------------------------------------------------------------------
# the checklist of one letter


class _StepFailed(Exception):
    def __init__(self, detail: str, file: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.file = file


class _Skip(Exception):
    pass


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_TIME_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not _TIME_TEXT.fullmatch(text):
        return None
    try:
        if text.isascii():
            # What strptime reads from ASCII digits, without its per-call set-up (twice a
            # signature in a bulk verification); other digits take strptime's own path.
            return datetime(
                int(text[0:4]),
                int(text[5:7]),
                int(text[8:10]),
                int(text[11:13]),
                int(text[14:16]),
                int(text[17:19]),
                tzinfo=UTC,
            )
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def signature_file_name(letter_path: str, signer: str) -> str:
    return f"{letter_path}.{sanitize_component(signer)}{SIGNATURE_SUFFIX}"


@dataclass
class _Signature:
    entry: Entry
    record: dict[str, Any]
    recorded_at: datetime
    blob: Blob | None = None
    status: cades.SignatureStatus | None = None


@dataclass
class _Letter:
    """What the earlier steps established, for the later ones."""

    files: LetterFiles
    trust: TrustAnchors
    expected_checkpoint: bytes | None
    online: Registry | None
    docx: bytes | None = None
    bundle: dict[str, Any] | None = None
    doc_id: str | None = None
    claimed: dict[str, Any] | None = None
    document: Entry | None = None
    entries: list[Entry] = field(default_factory=list)
    signatures: dict[str, _Signature] = field(default_factory=dict)
    void: Entry | None = None
    checkpoint_note: str | None = None

    def record(self) -> dict[str, Any]:
        if self.document is None:
            raise _Skip
        return self.document.record

    def parties(self) -> list[dict[str, Any]]:
        parties = self.record().get("parties")
        if not isinstance(parties, list):
            raise _StepFailed("文书登记记录中没有签订方(parties)")
        return [p for p in parties if isinstance(p, dict)]


def _load_bundle(letter: _Letter) -> None:
    """Parse the proof bundle just enough to find the document entry it claims."""
    proof = letter.files.proof
    if proof.data is None:
        raise _StepFailed(
            f"证明文件 {proof.path} {proof.problem or '无法读取'},无法与登记簿比对", proof.path
        )
    if len(proof.data) > MAX_PROOF_BYTES:
        raise _StepFailed(
            f"证明文件过大({len(proof.data)} 字节,上限 {MAX_PROOF_BYTES} 字节)", proof.path
        )
    try:
        bundle = json.loads(proof.data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _StepFailed(f"证明文件不是有效的 JSON:{exc}", proof.path) from exc
    if not isinstance(bundle, dict) or bundle.get("format") != LETTER_PROOF_FORMAT:
        raise _StepFailed(f"证明文件格式不对(应为 {LETTER_PROOF_FORMAT})", proof.path)
    entries = bundle.get("entries")
    doc_id = bundle.get("doc_id")
    if not isinstance(doc_id, str) or not isinstance(entries, list) or not entries:
        raise _StepFailed("证明文件缺少 doc_id 或登记条目(entries)", proof.path)
    if len(entries) > MAX_PROOF_ENTRIES or not all(isinstance(e, dict) for e in entries):
        raise _StepFailed("证明文件的登记条目列表格式不对", proof.path)
    documents = []
    for item in entries:
        try:
            record = json.loads(str(item.get("entry", "")))
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict) and record.get("type") == "document":
            documents.append(record)
    if len(documents) != 1:
        raise _StepFailed(f"证明文件中应恰有一条文书登记记录,实有 {len(documents)} 条", proof.path)
    if documents[0].get("doc_id") != doc_id:
        raise _StepFailed("证明文件中文书登记记录的编号与证明文件不一致", proof.path)
    letter.bundle, letter.doc_id, letter.claimed = bundle, doc_id, documents[0]


def _step_hash(letter: _Letter) -> str:
    docx = letter.files.docx
    if docx.data is None:
        raise _StepFailed(f"文书文件{docx.problem or '无法读取'}", docx.path)
    if len(docx.data) > MAX_LETTER_BYTES:
        raise _StepFailed(
            f"文书文件过大({len(docx.data)} 字节,上限 {MAX_LETTER_BYTES} 字节)", docx.path
        )
    letter.docx = docx.data
    _load_bundle(letter)
    assert letter.claimed is not None
    actual = cades.file_digest("sha256", docx.data).hex()  # the signatures reuse it
    registered = letter.claimed.get("sha256")
    if actual != registered:
        raise _StepFailed(
            f"文件 SHA-256 为 {actual},登记的是 {registered}:文件在登记后被改动过", docx.path
        )
    return f"SHA-256 {actual}"


def _step_inclusion(letter: _Letter) -> str:
    if letter.bundle is None:
        raise _Skip
    proof_path = letter.files.proof.path
    verifier_key = letter.trust.verifier_key
    entries: list[Entry] = []
    notes: set[str] = set()
    for position, item in enumerate(letter.bundle["entries"], start=1):
        try:
            entry = verify_proof_bundle(item, verifier_key)
        except VerificationError as exc:
            raise _StepFailed(f"第 {position} 个登记条目:{exc.diagnostics()}", proof_path) from exc
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise _StepFailed(
                f"第 {position} 个登记条目格式错误({type(exc).__name__})", proof_path
            ) from exc
        if entry.record.get("doc_id") != letter.doc_id:
            raise _StepFailed(
                f"登记簿第 {entry.index} 条属于文书 {entry.record.get('doc_id')},不属于本文书",
                proof_path,
            )
        if entry.record.get("type") not in ("document", "signature", "void"):
            raise _StepFailed(f"登记簿第 {entry.index} 条的类型不应出现在文书证明中", proof_path)
        entries.append(entry)
        notes.add(str(item.get("checkpoint")))
    indices = [e.index for e in entries]
    if len(set(indices)) != len(indices):
        raise _StepFailed("证明文件中同一登记条目出现了多次", proof_path)
    top = letter.bundle.get("checkpoint")
    if isinstance(top, str):
        notes.add(top)
    sizes: dict[str, int] = {}
    for note in sorted(notes):
        try:
            sizes[note] = verified_checkpoint(note.encode("utf-8"), verifier_key).size
        except VerificationError as exc:
            raise _StepFailed(f"证明文件中的检查点:{exc.diagnostics()}", proof_path) from exc
    if letter.expected_checkpoint is not None and notes != {
        letter.expected_checkpoint.decode("utf-8", errors="replace")
    }:
        raise _StepFailed(f"证明文件中的检查点与归档的 {CHECKPOINT_NAME} 不一致", proof_path)
    letter.checkpoint_note = max(sizes, key=sizes.__getitem__)
    letter.entries = sorted(entries, key=lambda e: e.index)
    documents = [e for e in entries if e.record.get("type") == "document"]
    letter.document = documents[0]
    if letter.document.record != letter.claimed:
        raise _StepFailed("证明文件中的文书登记记录前后不一致", proof_path)
    doc_sha = letter.document.record.get("sha256")
    for entry in letter.entries:
        record = entry.record
        if record.get("type") == "signature":
            signer = record.get("signer")
            if not isinstance(signer, str) or record.get("doc_sha256") != doc_sha:
                continue
            recorded = _parse_time(record.get("recorded_at"))
            if recorded is None:
                raise _StepFailed(f"登记簿第 {entry.index} 条没有有效的登记时间", proof_path)
            letter.signatures.setdefault(signer, _Signature(entry, record, recorded))
        elif record.get("type") == "void" and letter.void is None:
            letter.void = entry
    shown = "、".join(str(i) for i in indices)
    return (
        f"{len(entries)} 条登记记录(第 {shown} 条)均包含在登记簿签名检查点"
        f"(大小 {max(sizes.values())})中"
    )


def _signature_blobs(letter: _Letter) -> dict[str, Blob]:
    return dict(letter.files.signatures)


def _step_signatures_valid(letter: _Letter) -> str:
    if letter.document is None or letter.docx is None:
        raise _Skip
    blobs = _signature_blobs(letter)
    expected = {sanitize_component(signer): signer for signer in letter.signatures}
    problems: list[tuple[str, str]] = []
    for file_id, extra in sorted(blobs.items()):
        if file_id not in expected:
            problems.append(
                (extra.path, "签名文件在登记簿中没有对应的签名记录(未登记或证明文件不是最新)")
            )
    for signer, sig in sorted(letter.signatures.items()):
        found = blobs.get(sanitize_component(signer))
        path = signature_file_name(letter.files.path, signer)
        if found is None or found.data is None:
            reason = found.problem if found is not None and found.problem else "不存在"
            problems.append(
                (
                    found.path if found else path,
                    f"登记簿第 {sig.entry.index} 条记录了 {signer} 的签名,但签名文件{reason}",
                )
            )
            continue
        blob, p7s = found, found.data
        sig.blob = blob
        if len(p7s) > MAX_SIGNATURE_BYTES:
            problems.append((blob.path, f"签名文件过大(上限 {MAX_SIGNATURE_BYTES} 字节)"))
            continue
        sig.status = cades.verify_detached(
            letter.docx,
            p7s,
            ca_cert=letter.trust.ca_cert,
            crl=letter.trust.crl,
            at=sig.recorded_at,
            expected_signer_fingerprint=str(sig.record.get("cert_fingerprint", "")),
            registry_time=sig.recorded_at,
            tolerance=letter.trust.tolerance,
        )
        bad = [c for c in sig.status.checks if c.name in _SIG_CHECKS_VALID and not c.ok]
        if bad:
            problems.append((blob.path, ";".join(f"{c.name}:{c.detail}" for c in bad)))
    if problems:
        raise _StepFailed("\n".join(f"{p}:{d}" for p, d in problems), problems[0][0])
    if not letter.signatures:
        return "尚无签名"
    return f"{len(letter.signatures)} 个签名均为有效的 CAdES 签名,且针对本文件"


def _checked_signatures(letter: _Letter) -> list[tuple[str, _Signature, cades.SignatureStatus]]:
    if letter.document is None:
        raise _Skip
    found = []
    for signer, sig in sorted(letter.signatures.items()):
        if sig.status is None or sig.blob is None:
            raise _Skip
        found.append((signer, sig, sig.status))
    return found


def _group(status: cades.SignatureStatus, names: set[str]) -> list[str]:
    return [f"{c.name}:{c.detail}" for c in status.checks if c.name in names and not c.ok]


def _step_signers(letter: _Letter) -> str:
    signatures = _checked_signatures(letter)
    parties = {str(p.get("id")): p for p in letter.parties()}
    problems: list[tuple[str, str]] = []
    names = []
    for signer, sig, status in signatures:
        assert sig.blob is not None and sig.blob.data is not None
        path = sig.blob.path
        reasons = _group(status, _SIG_CHECKS_SIGNER)
        party = parties.get(signer)
        if party is None:
            reasons.append(f"{signer} 不是本文书的签订方")
        elif party.get("party") != sig.record.get("party"):
            reasons.append(f"签名记录的签订方身份“{sig.record.get('party')}”与文书登记不符")
        if status.signer_id != signer:
            reasons.append(f"签名证书中的人员编号为 {status.signer_id},不是 {signer}")
        if status.cert_serial != sig.record.get("cert_serial"):
            reasons.append("签名证书序列号与签名登记记录不符")
        if _sha(sig.blob.data) != sig.record.get("p7s_sha256"):
            reasons.append("签名文件的 SHA-256 与登记的不一致(签名文件被替换或改动)")
        if reasons:
            problems.append((path, ";".join(reasons)))
        elif party is not None:
            label = PARTY_LABELS.get(str(party.get("party")), "")
            names.append(f"{party.get('name')}({signer},{label})")
    if problems:
        raise _StepFailed("\n".join(f"{p}:{d}" for p, d in problems), problems[0][0])
    return "、".join(names) if names else "尚无签名"


def _step_chain(letter: _Letter) -> str:
    signatures = _checked_signatures(letter)
    problems = [
        (sig.blob.path, ";".join(_group(status, _SIG_CHECKS_CHAIN)))
        for _, sig, status in signatures
        if sig.blob is not None and _group(status, _SIG_CHECKS_CHAIN)
    ]
    if problems:
        raise _StepFailed("\n".join(f"{p}:{d}" for p, d in problems), problems[0][0])
    ca = letter.trust.ca_fingerprint
    return f"根证书 SHA-256 指纹 {ca[:16]}…;签名时证书均在有效期内" if signatures else "尚无签名"


def _step_revocation(letter: _Letter) -> str:
    signatures = _checked_signatures(letter)
    problems: list[tuple[str, str]] = []
    for _, sig, status in signatures:
        assert sig.blob is not None
        reasons = _group(status, _SIG_CHECKS_REVOCATION)
        claimed = _parse_time(sig.record.get("signing_time"))
        if claimed is None or status.signing_time is None:
            reasons.append("签名登记记录或签名文件中没有签名时间")
        elif abs(claimed - status.signing_time) > letter.trust.tolerance:
            reasons.append("签名文件中的签名时间与登记记录的签名时间不一致")
        if reasons:
            problems.append((sig.blob.path, ";".join(reasons)))
    if problems:
        raise _StepFailed("\n".join(f"{p}:{d}" for p, d in problems), problems[0][0])
    if not signatures:
        return "尚无签名"
    return "各签名登记时证书均未吊销,签名时间与登记时间相符"


def _step_complete(letter: _Letter) -> str:
    if letter.document is None:
        raise _Skip
    if letter.void is not None:
        record = letter.void.record
        replaced = record.get("replaced_by")
        tail = f",由 {replaced} 替代" if replaced else ""
        return (
            f"已作废(登记簿第 {letter.void.index} 条,原因:{record.get('reason')}{tail});"
            "作废文书不再要求签名齐全"
        )
    missing = [p for p in letter.parties() if str(p.get("id")) not in letter.signatures]
    if missing:
        shown = "、".join(
            f"{p.get('name')}({p.get('id')},{PARTY_LABELS.get(str(p.get('party')), '')})"
            for p in missing
        )
        raise _StepFailed(f"尚缺 {shown} 的签名", letter.files.path)
    return "双方均已签名"


_ISSUED: weakref.WeakKeyDictionary[Registry, tuple[int, dict[str, int]]] = (
    weakref.WeakKeyDictionary()
)


def _issued_certificates(registry: Registry) -> dict[str, int]:
    """Certificate fingerprint → index of its ``certificate`` entry (cached per registry size)."""
    size = registry.size()
    cached = _ISSUED.get(registry)
    if cached is not None and cached[0] == size:
        return cached[1]
    issued: dict[str, int] = {}
    for entry in registry.entries(type="certificate"):
        issued.setdefault(str(entry.record.get("cert_fingerprint", "")), entry.index)
    _ISSUED[registry] = (size, issued)
    return issued


def _step_online(letter: _Letter) -> str:
    registry = letter.online
    if registry is None or letter.document is None or letter.checkpoint_note is None:
        raise _Skip
    size = registry.size()
    for entry in letter.entries:
        if entry.index >= size:
            raise _StepFailed(
                f"在线登记簿只有 {size} 条,没有第 {entry.index} 条(登记簿被截断或回滚)"
            )
        live = registry.entry(entry.index)
        if live.data != entry.data:
            raise _StepFailed(f"在线登记簿第 {entry.index} 条的内容与证明文件不一致(登记簿被改动)")
    try:
        pinned = registry.check_pinned(letter.checkpoint_note.encode("utf-8"))
    except DocgenError as exc:
        raise _StepFailed(f"一致性证明:{exc.diagnostics()}") from exc
    issued = _issued_certificates(registry)
    for signer, sig in sorted(letter.signatures.items()):
        fingerprint = str(sig.record.get("cert_fingerprint", ""))
        at = issued.get(fingerprint)
        if at is None or at > sig.entry.index:
            raise _StepFailed(
                f"{signer} 签名所用的证书(指纹 {fingerprint[:16]}…)在登记簿中没有签发记录"
                "(或签发记录晚于签名),证书来历不明",
                letter.files.path,
            )
    known = {e.index for e in letter.entries}
    newer = [
        e.index
        for e in registry.entries(doc_id=letter.doc_id)
        if e.index not in known
        and e.record.get("type") in ("signature", "void")
        and e.index >= pinned.pinned_size
    ]
    if newer:
        raise _StepFailed(
            f"在线登记簿中另有本文书的记录(第 {'、'.join(map(str, newer))} 条)未包含在证明文件中,"
            "证明文件不是最新的",
            letter.files.proof.path,
        )
    return (
        f"登记条目与在线登记簿逐字节一致;当前检查点(大小 {pinned.current_size})"
        f"是证明文件检查点(大小 {pinned.pinned_size})的延续"
    )


_STEPS: tuple[tuple[int, Callable[[_Letter], str]], ...] = (
    (1, _step_hash),
    (2, _step_inclusion),
    (3, _step_signatures_valid),
    (4, _step_signers),
    (5, _step_chain),
    (6, _step_revocation),
    (7, _step_complete),
)


def _run_step(number: int, step: Callable[[_Letter], str], letter: _Letter) -> StepResult:
    name = STEP_NAMES[number]
    try:
        detail = step(letter)
    except _Skip:
        return StepResult(number, name, False, "未检查:所需的前面步骤未通过", skipped=True)
    except _StepFailed as failure:
        return StepResult(number, name, False, failure.detail, file=failure.file)
    except DocgenError as exc:
        return StepResult(number, name, False, exc.diagnostics(), file=letter.files.path)
    return StepResult(number, name, True, detail)


def verify_letter(
    files: LetterFiles,
    trust: TrustAnchors,
    *,
    online_registry: Registry | None = None,
    expected_checkpoint: bytes | None = None,
) -> LetterReport:
    """Run the checklist on one letter; never raises for bad input, only reports it."""
    letter = _Letter(files, trust, expected_checkpoint, online_registry)
    steps = [_run_step(n, step, letter) for n, step in _STEPS]
    if online_registry is not None:
        steps.append(_run_step(8, _step_online, letter))
    return _report(letter, tuple(steps))


def _report(letter: _Letter, steps: tuple[StepResult, ...]) -> LetterReport:
    essential = [s for s in steps if s.number != 7]
    if not all(s.ok for s in essential):
        status = LetterStatus.FAILED
    elif letter.void is not None:
        status = LetterStatus.VOIDED
    elif not steps[6].ok:
        status = LetterStatus.INCOMPLETE
    else:
        status = LetterStatus.VERIFIED
    document = letter.document
    if document is None:
        return LetterReport(letter.doc_id, letter.files.path, steps, status)
    record = document.record
    parties = tuple(
        Party(str(p.get("party")), str(p.get("id")), str(p.get("name")), str(p.get("title", "")))
        for p in record.get("parties", [])
        if isinstance(p, dict)
    )
    by_id = {p.id: p for p in parties}
    signatures = tuple(
        SignatureInfo(
            signer=signer,
            name=by_id[signer].name if signer in by_id else signer,
            party=str(sig.record.get("party")),
            path=signature_file_name(letter.files.path, signer),
            p7s_sha256=str(sig.record.get("p7s_sha256")),
            cert_fingerprint=str(sig.record.get("cert_fingerprint")),
            cert_serial=str(sig.record.get("cert_serial")),
            signing_time=str(sig.record.get("signing_time")),
            recorded_at=str(sig.record.get("recorded_at")),
            registry_index=sig.entry.index,
        )
        for signer, sig in sorted(letter.signatures.items(), key=lambda kv: kv[1].entry.index)
    )
    void = None
    if letter.void is not None:
        vr = letter.void.record
        replaced = vr.get("replaced_by")
        void = VoidInfo(
            reason=str(vr.get("reason")),
            replaced_by=str(replaced) if replaced else None,
            recorded_at=str(vr.get("recorded_at")),
            registry_index=letter.void.index,
        )
    year = record.get("year")
    return LetterReport(
        doc_id=letter.doc_id,
        path=letter.files.path,
        steps=steps,
        status=status,
        kind=str(record.get("kind")),
        title=str(record.get("title")),
        year=year if isinstance(year, int) else None,
        sha256=str(record.get("sha256")),
        registry_index=document.index,
        recorded_at=str(record.get("recorded_at")),
        parties=parties,
        signatures=signatures,
        missing=tuple(p for p in parties if p.id not in letter.signatures),
        void=void,
    )


# ---------------------------------------------------------------------------------------------
# letters on disk


def read_blob(path: str | Path, shown: str, limit: int, what: str) -> Blob:
    """A file's bytes, or why they cannot be had. The file is opened once (without blocking,
    so a FIFO put in a letter's place cannot hang the run) and judged by ``fstat`` of what was
    opened: one path lookup per file, and no window between the check and the read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return Blob(shown, None, "不存在")
    except OSError as exc:
        return Blob(shown, None, f"无法读取({exc.strerror})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Blob(shown, None, "不是普通文件")
        if info.st_size > limit:
            return Blob(shown, None, f"过大({info.st_size} 字节,{what}上限 {limit} 字节)")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return Blob(shown, None, f"无法读取({exc.strerror})")
    finally:
        os.close(fd)
    if len(data) > limit:
        return Blob(shown, None, f"过大({what}上限 {limit} 字节)")
    return Blob(shown, data)


def letter_files_from_disk(
    docx: Path, shown: str | None = None, siblings: Sequence[str] | None = None
) -> LetterFiles:
    """The letter, its proof bundle and every ``<letter>.<signer>.p7s`` next to it.

    ``siblings`` — the names of the files in the letter's directory, when the caller has listed
    it already (listing a directory of 10⁵ letters once per letter would be quadratic).
    """
    label = shown if shown is not None else str(docx)
    prefix = docx.name + "."
    signatures: list[tuple[str, Blob]] = []
    if siblings is None:
        siblings = sorted(c.name for c in docx.parent.iterdir()) if docx.parent.is_dir() else []
    folder = os.fspath(docx.parent)  # joined as strings: cheaper than a Path per file
    for name in siblings:
        if name.startswith(prefix) and name.endswith(SIGNATURE_SUFFIX):
            signer = name[len(prefix) : -len(SIGNATURE_SUFFIX)]
            if signer:
                signatures.append(
                    (
                        signer,
                        read_blob(
                            os.path.join(folder, name),
                            f"{label}.{signer}{SIGNATURE_SUFFIX}",
                            MAX_SIGNATURE_BYTES,
                            "签名文件",
                        ),
                    )
                )
    return LetterFiles(
        path=label,
        docx=read_blob(docx, label, MAX_LETTER_BYTES, "文书文件"),
        proof=read_blob(
            os.path.join(folder, docx.name + PROOF_SUFFIX),
            label + PROOF_SUFFIX,
            MAX_PROOF_BYTES,
            "证明文件",
        ),
        signatures=tuple(signatures),
    )


def letter_files_from_members(members: Mapping[str, bytes], path: str) -> LetterFiles:
    """The same, from files held in memory (an archive)."""

    def blob(name: str, limit: int, what: str) -> Blob:
        data = members.get(name)
        if data is None:
            return Blob(name, None, "不存在")
        if len(data) > limit:
            return Blob(name, None, f"过大({len(data)} 字节,{what}上限 {limit} 字节)")
        return Blob(name, data)

    prefix = path + "."
    signatures = tuple(
        (name[len(prefix) : -len(SIGNATURE_SUFFIX)], blob(name, MAX_SIGNATURE_BYTES, "签名文件"))
        for name in sorted(members)
        if name.startswith(prefix)
        and name.endswith(SIGNATURE_SUFFIX)
        and "/" not in name[len(prefix) :]
        and len(name) > len(prefix) + len(SIGNATURE_SUFFIX)
    )
    return LetterFiles(
        path=path,
        docx=blob(path, MAX_LETTER_BYTES, "文书文件"),
        proof=blob(path + PROOF_SUFFIX, MAX_PROOF_BYTES, "证明文件"),
        signatures=signatures,
    )


def _manifest_paths(data: object) -> list[str]:
    if not isinstance(data, dict):
        return []
    documents = data.get("documents")
    if not isinstance(documents, list):
        return []
    paths = []
    for doc in documents:
        path = doc.get("path") if isinstance(doc, dict) else None
        if isinstance(path, str) and safe_relative(path):
            paths.append(path)
    return paths


def safe_relative(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    if _plain_relative(name):
        return True  # the parts are the "/"-separated names, all ordinary
    parts = PurePosixPath(name).parts
    return all(part not in ("", ".", "..") for part in parts) and not name.endswith("/")


class _Unreadable(Exception):
    """A manifest that cannot be read, is too large, or is not one JSON text."""


_JSON_SPACE = " \t\n\r"
_JSON_DECODER = json.JSONDecoder()
_JSON_PIECE = 1 << 20


class _JsonPieces:
    """One JSON text read from a file a piece at a time, parsed as ``json.loads`` would parse it.

    A year's manifest lists every letter (≈ 1.4 KiB each): parsed whole, 10⁴ letters cost
    ≈ 100 MiB. Here only the top-level object and the ``documents`` array are walked; every other
    value (one document, a name, a number) is parsed whole by the standard decoder, so what is
    accepted and what is refused is exactly what ``json.loads(data.decode("utf-8"))`` accepts.
    """

    def __init__(self, handle: Any, limit: int) -> None:
        self._handle = handle
        self._limit = limit
        self._read = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._text = ""
        self._pos = 0
        self._eof = False

    def _more(self) -> bool:
        """Append the next piece of the file to the text; False at its end."""
        if self._eof:
            return False
        want = max(_JSON_PIECE, len(self._text) - self._pos)  # a long value: read it in O(n)
        try:
            data = self._handle.read(want)
        except OSError as exc:
            raise _Unreadable from exc
        self._read += len(data)
        if self._read > self._limit:
            raise _Unreadable
        text = self._decoder.decode(data, final=not data)  # UnicodeDecodeError: not UTF-8
        self._eof = not data
        self._text = self._text[self._pos :] + text
        self._pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the text)."""
        while True:
            text, pos = self._text, self._pos
            while pos < len(text) and text[pos] in _JSON_SPACE:
                pos += 1
            self._pos = pos
            if pos < len(text):
                return text[pos]
            if not self._more():
                return ""

    def take(self, expected: str) -> str:
        """The next character (after white space), which must be one of ``expected``."""
        char = self.peek()
        if not char or char not in expected:
            raise _Unreadable
        self._pos += 1
        return char

    def key(self) -> str:
        if self.peek() != '"':
            raise _Unreadable
        key = self.value()
        assert isinstance(key, str)
        return key

    def value(self) -> object:
        """One whole JSON value (the text must go on for a few characters after it, or end:
        a number cut at the end of a piece would otherwise be read short)."""
        self.peek()
        while True:
            try:
                value, end = _JSON_DECODER.raw_decode(self._text, self._pos)
            except ValueError:
                if self._more():
                    continue
                raise
            if len(self._text) - end < 3 and self._more():
                continue
            self._pos = end
            return value


@dataclass
class _ManifestScan:
    fmt: object = None  # the top-level "format"
    kept: list[str] = field(default_factory=list)  # document paths ``keep`` asked for


def _scan_manifest(path: Path, keep: Callable[[str], bool]) -> _ManifestScan | None:
    """What ``_manifest_paths`` and the "format" key would give for the manifest at ``path``,
    reading it a piece at a time; ``None`` when it cannot be read or is not one JSON text (the
    cases ``read_blob`` and ``json.loads`` refuse). Of the safe document paths only those for
    which ``keep`` answers True are kept (the last ``documents`` key counts, as in a dict)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_YEAR_MANIFEST_BYTES:
        return None
    try:
        with open(path, "rb") as handle:
            return _scan_manifest_text(_JsonPieces(handle, MAX_YEAR_MANIFEST_BYTES), keep)
    except (_Unreadable, OSError, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def _scan_manifest_text(text: _JsonPieces, keep: Callable[[str], bool]) -> _ManifestScan:
    scan = _ManifestScan()
    if text.peek() != "{":
        text.value()  # valid JSON, but not an object: no paths
    else:
        text.take("{")
        closed = text.peek() == "}"
        if closed:
            text.take("}")
        while not closed:
            name = text.key()
            text.take(":")
            if name == "documents":
                scan.kept = _scan_documents(text, keep)
            elif name == "format":
                scan.fmt = text.value()
            else:
                text.value()
            closed = text.take(",}") == "}"
    if text.peek():
        raise _Unreadable  # something after the JSON value
    return scan


def _scan_documents(text: _JsonPieces, keep: Callable[[str], bool]) -> list[str]:
    kept: list[str] = []
    if text.peek() != "[":
        text.value()  # not a list: no paths
        return kept
    text.take("[")
    if text.peek() == "]":
        text.take("]")
        return kept
    while True:
        doc = text.value()
        path = doc.get("path") if isinstance(doc, dict) else None
        if isinstance(path, str) and safe_relative(path) and keep(path):
            kept.append(path)
        if text.take(",]") == "]":
            return kept


def _is_archive_dir(directory: Path) -> bool:
    scan = _scan_manifest(directory / MANIFEST_NAME, lambda _path: False)
    return scan is not None and scan.fmt == ARCHIVE_FORMAT


class LetterOnDisk:
    """Where one letter of a directory is, and the signature files found beside it.

    A year folder holds 10⁵ letters with long names (two bytes a character in Chinese), so the
    parts that recur are kept once: the folder and the shown prefix are shared by the letters of
    a folder, and each file beside the letter is kept as what follows the letter's name (the
    signer part, shared by all letters of a signer). ``docx``, ``shown`` and ``signature_names``
    give back exactly what was passed in.
    """

    __slots__ = ("_folder", "_name", "_shown", "_tails", "_whole")

    def __init__(
        self,
        docx: str,
        shown: str,
        signature_names: Sequence[str],
        shared: dict[str, str] | None = None,
    ) -> None:
        table: dict[str, str] = {} if shared is None else shared
        slash = docx.rfind("/")
        folder, name = (".", docx) if slash < 0 else (docx[:slash], docx[slash + 1 :])
        if not name or _child(folder, name) != docx:  # not a form _child writes: keep it whole
            folder, name = docx, ""
        whole = 0
        if name and shown.endswith(name):
            shown = shown[: len(shown) - len(name)]
        else:
            whole |= 1
        if name and all(sibling.startswith(name) for sibling in signature_names):
            tails = tuple(table.setdefault(t, t) for t in (x[len(name) :] for x in signature_names))
        else:
            tails, whole = tuple(signature_names), whole | 2
        self._folder = table.setdefault(folder, folder)
        self._name = name
        self._shown = table.setdefault(shown, shown)
        self._tails = tails
        self._whole = whole

    @property
    def docx(self) -> str:
        return _child(self._folder, self._name) if self._name else self._folder

    @property
    def shown(self) -> str:
        return self._shown if self._whole & 1 else self._shown + self._name

    @property
    def signature_names(self) -> tuple[str, ...]:
        if self._whole & 2:
            return self._tails
        return tuple(self._name + tail for tail in self._tails)

    def _key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.docx, self.shown, self.signature_names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LetterOnDisk) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"LetterOnDisk({self.docx!r}, {self.shown!r}, {self.signature_names!r})"

    def __reduce__(self) -> tuple[type[LetterOnDisk], tuple[str, str, tuple[str, ...]]]:
        return (LetterOnDisk, self._key())

    def files(self) -> LetterFiles:
        return letter_files_from_disk(Path(self.docx), self.shown, self.signature_names)


# Errors for which ``Path.is_file`` answers False instead of raising (pathlib's own list).
_IS_FILE_IGNORED = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _is_file(path: str) -> bool:
    """``Path(path).is_file()`` without building a Path."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno not in _IS_FILE_IGNORED:
            raise
        return False
    except ValueError:
        return False


def _child(folder: str, name: str) -> str:
    """``str(Path(folder) / name)`` for a normalised ``folder`` and a plain file ``name``."""
    if folder == ".":
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


def _plain_relative(name: str) -> bool:
    """True when ``name`` is relative and its "/"-separated parts are all ordinary names, so
    ``PurePosixPath(name).parts == tuple(name.split("/"))`` (nothing for pathlib to collapse)."""
    return not name.startswith("/") and all(part not in ("", ".", "..") for part in name.split("/"))


def _listing(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(c.name for c in folder.iterdir())) if folder.is_dir() else ()


def _names_beside(docx: Path) -> tuple[str, ...]:
    """The names in the letter's folder that could be its signature files (``<letter>.…``):
    what ``letter_files_from_disk`` would pick from the whole listing, without keeping it."""
    folder = docx.parent
    if not folder.is_dir():
        return ()
    prefix = docx.name + "."
    with os.scandir(folder) as entries:
        return tuple(sorted(e.name for e in entries if e.name.startswith(prefix)))


# How many letters of one folder are listed at a time. A year folder holds one sub-folder per
# kind of letter, so one folder can hold most of 10⁵ letters; it is read once per window. At 10⁵
# letters 32 768 reads the folder 3 times instead of 11 (listing 7.8 → 5.0 s of this process's
# time, which the two workers need) for ≈ 20 MiB more at most, whatever the number of letters.
LISTING_WINDOW = 32768

_HAS_DOCX = 1
_HAS_PROOF = 2
_PROOF_TAIL = LETTER_SUFFIX + PROOF_SUFFIX


@dataclass
class _Extra:
    """A letter a manifest lists that was not found beside its proof file."""

    path: str  # str(base / rel), as the letter is named
    parent: Path
    name: str


@dataclass
class _Window:
    """One reading of a folder: the letter names in (lower, upper] and what lies beside them."""

    slots: dict[str, list[Any]]  # name → [flags, what follows it in its signature files' names…]
    upper: str | None  # None: every name above ``lower`` is here
    subdirs: list[str]


def _read_window(
    folder: str, lower: str | None, window: int, extras: Iterable[str], want_subdirs: bool
) -> _Window | None:
    """Read ``folder`` once, keeping the ``window`` (at least) smallest letter names above
    ``lower``; ``None`` when it cannot be listed (``os.walk`` then skips it, and so do we).

    A letter name is a ``.docx`` file name, the name its proof file or one of its signature
    files (``<letter>.docx.<signer>.p7s``: the name ends at the last ".docx.") starts with, or a
    name a manifest lists. Directories only count as sub-folders (not symbolic links, as in
    ``os.walk``). Whenever twice the window is held, the larger half is dropped and later names
    above what is left are skipped: what is kept is then complete.
    """
    slots: dict[str, list[Any]] = {}
    upper: str | None = None
    subdirs: list[str] = []

    def shrink() -> str:
        ordered = sorted(slots)
        for name in ordered[window:]:
            del slots[name]
        return ordered[window - 1]

    for name in extras:
        if (lower is None or name > lower) and (upper is None or name <= upper):
            slots[name] = [0]
            if len(slots) >= 2 * window:
                upper = shrink()
    try:
        listing = os.scandir(folder)
    except OSError:
        return None
    with listing:
        while True:
            try:
                entry = next(listing)
            except StopIteration:
                break
            except OSError:
                return None
            name = entry.name
            if lower is not None and name <= lower and not want_subdirs:
                continue  # its letter name starts it, so is no larger: read already
            key: str | None
            if name.endswith(LETTER_SUFFIX):
                key, flag = name, _HAS_DOCX
            elif name.endswith(_PROOF_TAIL):
                key, flag = name[: -len(PROOF_SUFFIX)], _HAS_PROOF
            elif name.endswith(SIGNATURE_SUFFIX):
                head, sep, _rest = name.rpartition(LETTER_SUFFIX + ".")
                key, flag = (head + LETTER_SUFFIX, 0) if sep else (None, 0)
            else:
                key = None
            wanted = (
                key is not None
                and (lower is None or key > lower)
                and (upper is None or key <= upper)
            )
            if not wanted and not want_subdirs:
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if want_subdirs:
                    try:
                        link = entry.is_symlink()
                    except OSError:
                        link = False
                    if not link:
                        subdirs.append(name)
                continue
            if not wanted:
                continue
            assert key is not None
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = [0]
                if len(slots) >= 2 * window:
                    upper = shrink()
                    if key > upper:
                        continue
            if flag:
                slot[0] |= flag
            else:
                slot.append(name[len(key) :])  # shorter than the whole name
    return _Window(slots, upper, subdirs)


class DirectoryLetters:
    """Every letter under a directory (with a proof file beside it, or listed in a manifest), in
    the order of their paths relative to it — listed as they are reached, never all at once.

    A folder is read ``LISTING_WINDOW`` letters at a time (a year's folder of one kind of letter
    holds most of its 10⁵ letters), so memory does not grow with the number of letters. Iterating
    again lists again; ``len`` lists once to count.
    """

    def __init__(
        self,
        directory: Path,
        shown: str,
        extras: Mapping[str, _Extra],
        *,
        window: int | None = None,
    ) -> None:
        window = LISTING_WINDOW if window is None else window
        if window < 1:
            raise ValueError("window must be positive")
        self._directory = directory
        self._head = shown.rstrip("/")
        self._extras = dict(extras)
        self._window = window
        self._count: int | None = None

    def __iter__(self) -> Iterator[LetterOnDisk]:
        extras = sorted(self._extras.items())
        for _key, letter in self._folder(self._directory, "", extras):
            yield letter

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def _orphan(self, key: str, extra: _Extra) -> LetterOnDisk:
        """A listed letter whose folder is not walked (missing, a link, unreadable)."""
        if extra.parent == self._directory:  # "." listed in Path("."): named "", nothing beside
            return LetterOnDisk(extra.path, f"{self._head}/{key}", ())
        return LetterOnDisk(extra.path, f"{self._head}/{key}", _listing(extra.parent))

    def _folder(
        self, folder: Path, rel: str, extras: list[tuple[str, _Extra]]
    ) -> Iterator[tuple[str, LetterOnDisk]]:
        """The letters under ``folder`` (``rel`` is its path below the directory, "" for the
        directory itself) as (relative path, letter), in order; ``extras`` are the manifest's
        letters under it, sorted."""
        start = len(rel) + 1 if rel else 0
        # "." (a manifest listing the directory itself) is in the folder above, never walked.
        own = {key[start:]: extra for key, extra in extras if "/" not in key[start:] and key != "."}
        folder_str = str(folder)
        first = _read_window(folder_str, None, self._window, own, want_subdirs=True)
        if first is None:
            for key, extra in extras:
                yield key, self._orphan(key, extra)
            return
        subdirs = set(first.subdirs)
        below: dict[str, list[tuple[str, _Extra]]] = {}
        orphans: list[tuple[str, _Extra]] = []
        for key, extra in extras:
            name, slash, _rest = key[start:].partition("/")
            if slash and name in subdirs:
                below.setdefault(name, []).append((key, extra))
            elif slash or key == ".":
                orphans.append((key, extra))
        walked = self._walked(folder, rel, first, own, below)
        del first  # held by the walk only until its next window is read
        yield from heapq.merge(
            walked, ((key, self._orphan(key, extra)) for key, extra in orphans), key=_first
        )

    def _walked(
        self,
        folder: Path,
        rel: str,
        first: _Window,
        own: dict[str, _Extra],
        below: dict[str, list[tuple[str, _Extra]]],
    ) -> Iterator[tuple[str, LetterOnDisk]]:
        """The folder's own letters window by window, each sub-folder's in its place (all of
        ``sub/…`` sorts where ``sub/`` does among the folder's file names)."""
        folder_str = str(folder)
        prefix = f"{rel}/" if rel else ""
        shown = self._head + "/" + prefix
        subdirs = sorted(first.subdirs, key=lambda name: name + "/")
        window: _Window | None = first
        del first
        while window is not None:
            ordered, upper = sorted(window.slots.items()), window.upper
            window = None  # one window held at a time
            shared = {folder_str: folder_str, shown: shown}  # see LetterOnDisk
            for name, slot in ordered:
                while subdirs and subdirs[0] + "/" < name:
                    sub = subdirs.pop(0)
                    yield from self._folder(folder / sub, prefix + sub, below.get(sub, []))
                path = _child(folder_str, name)
                if slot[0] != _HAS_DOCX | _HAS_PROOF or not _is_file(path):
                    extra = own.get(name)
                    if extra is None:
                        continue  # no proof beside it, or not a file, and not listed
                    path = extra.path
                yield (
                    prefix + name,
                    LetterOnDisk(
                        path, shown + name, tuple(sorted(name + t for t in slot[1:])), shared
                    ),
                )
            del ordered
            if upper is not None:
                window = _read_window(folder_str, upper, self._window, own, want_subdirs=False)
        for sub in subdirs:
            yield from self._folder(folder / sub, prefix + sub, below.get(sub, []))


def _first(item: tuple[str, LetterOnDisk]) -> str:
    return item[0]


def _manifests_under(directory: Path) -> list[Path]:
    """``sorted(directory.rglob(MANIFEST_NAME))``, without holding a folder's entries (rglob
    keeps every entry of a folder while it walks it: 4·10⁵ for a year of 10⁵ letters)."""
    found: list[Path] = []
    pending = [directory]
    while pending:
        folder = pending.pop()
        candidate = folder / MANIFEST_NAME
        with suppress(PermissionError):  # rglob passes over what it may not look at
            if candidate.exists():
                found.append(candidate)
        with suppress(PermissionError), os.scandir(folder) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir and not entry.is_symlink():
                    pending.append(folder / entry.name)
    return sorted(found)


def _present(path: str) -> bool:
    """True when ``path`` is in its folder's listing and not a directory there (as os.walk
    sorts entries: a link counts as what it points to, a broken link as a file)."""
    try:
        os.lstat(path)
    except OSError:
        return False
    try:
        return not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return True


class _Beside:
    """Whether a letter a manifest lists is one the listing finds beside its proof file (so the
    manifest adds nothing): checked on the file system, so the manifest's 10⁵ paths need not be
    kept to be matched against the listing."""

    def __init__(self, directory: Path) -> None:
        self._directory = os.fspath(directory)
        self._walked: dict[str, bool] = {"": True}

    def _folder_walked(self, rel: str) -> bool:
        """True when ``os.walk`` reaches the folder: every part below the directory is a
        directory and not a symbolic link."""
        known = self._walked.get(rel)
        if known is None:
            parent, _slash, _name = rel.rpartition("/")
            try:
                real = stat.S_ISDIR(os.lstat(os.path.join(self._directory, rel)).st_mode)
            except OSError:
                real = False
            known = self._walked[rel] = real and self._folder_walked(parent)
        return known

    def __call__(self, key: str) -> bool:
        folder, _slash, name = key.rpartition("/")
        if not name.endswith(LETTER_SUFFIX) or not self._folder_walked(folder):
            return False
        path = os.path.join(self._directory, key)
        return _present(path + PROOF_SUFFIX) and _is_file(path)


def letters_in_dir(
    directory: Path, shown: str, *, window: int | None = None
) -> tuple[DirectoryLetters, list[CheckResult]]:
    """Every letter under ``directory`` (with a proof file, or listed in a manifest), and the
    checks of its manifests.

    The manifests are read first, a piece at a time, keeping only the letters they list that
    are not beside a proof file (normally none); the letters are then listed as they are
    iterated (see ``DirectoryLetters``). Nothing is read from the letters yet.
    """
    checks: list[CheckResult] = []
    extras: dict[str, _Extra] = {}
    beside = _Beside(directory)
    for manifest in _manifests_under(directory):
        base = manifest.parent
        base_rel = base.relative_to(directory).as_posix()

        def keep(rel: str, base_rel: str = base_rel) -> bool:
            if not _plain_relative(rel):
                return True  # its key needs pathlib: decided below
            return not beside(rel if base_rel == "." else f"{base_rel}/{rel}")

        scan = _scan_manifest(manifest, keep)
        if scan is None:
            checks.append(
                CheckResult(
                    "文书清单",
                    False,
                    "清单文件无法读取或不是有效的 JSON",
                    str(manifest.relative_to(directory)),
                )
            )
            continue
        for rel in scan.kept:
            letter = base / rel
            key = letter.relative_to(directory).as_posix()
            if key not in extras and (_plain_relative(rel) or not beside(key)):
                extras[key] = _Extra(str(letter), letter.parent, letter.name)
    return DirectoryLetters(directory, shown, extras, window=window), checks


VERIFY_CHUNK = 128  # letters handed to a worker at a time


@dataclass(frozen=True)
class _VerifySetup:
    ca_der: bytes
    crl_der: bytes
    verifier_key: str
    tolerance: timedelta


def _verify_worker(setup: _VerifySetup) -> TrustAnchors:
    return trust_from_bytes(
        setup.ca_der, setup.crl_der, setup.verifier_key.encode("utf-8"), tolerance=setup.tolerance
    )


def _verify_chunk(trust: TrustAnchors, letters: Sequence[LetterOnDisk]) -> list[LetterReport]:
    return [verify_letter(letter.files(), trust) for letter in letters]


def iter_verify_letters(
    letters: Iterable[LetterOnDisk],
    trust: TrustAnchors,
    *,
    online_registry: Registry | None = None,
    jobs: int | None = 1,
    chunk_size: int | None = None,
    advance: Callable[[int], None] = lambda _n: None,
) -> Iterator[LetterReport]:
    """Verify letters one by one, in order, in ``jobs`` worker processes (None: one per CPU).

    The letters are taken as they are needed (a ``DirectoryLetters`` lists them then) and the
    reports are yielded as they are ready, so a caller that only counts them keeps memory flat.
    Online verification (``online_registry``) runs in this process.
    """
    if online_registry is not None or jobs == 1:
        for letter in letters:
            yield verify_letter(letter.files(), trust, online_registry=online_registry)
            advance(1)
        return
    setup = _VerifySetup(
        trust.ca_cert.public_bytes(serialization.Encoding.DER),
        trust.crl.public_bytes(serialization.Encoding.DER),
        trust.verifier_key,
        trust.tolerance,
    )
    size = VERIFY_CHUNK if chunk_size is None else chunk_size
    for chunk in map_chunks(
        _verify_worker, setup, _verify_chunk, letters,
        jobs=jobs, chunk_size=size, advance=advance,
    ):  # fmt: skip
        yield from chunk


# ---------------------------------------------------------------------------------------------
# archives


def read_zip(path: Path, limits: ZipLimits | None = None) -> dict[str, bytes]:
    """All members of a zip archive, in memory, refusing anything unsafe before reading it."""
    limits = limits or ZipLimits()
    shown = str(path)

    def refuse(reason: str) -> VerificationError:
        return VerificationError(
            f"拒绝处理该压缩包:{reason}",
            location=Location(file=shown),
            hint="这不是 docgen 生成的归档包,或已被篡改;不要解压,请向归档来源核实",
        )

    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise UsageError("文件不存在", location=Location(file=shown)) from exc
    if size > limits.max_total_bytes:
        raise refuse(f"文件过大({size} 字节)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise refuse(f"不是有效的 zip 文件({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise refuse(f"成员过多({len(infos)} 个,上限 {limits.max_members} 个)")
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if info.is_dir():
                if not safe_relative(name.rstrip("/")):
                    raise refuse(f"成员路径不安全:“{name}”(绝对路径或含 ..)")
                continue
            if not safe_relative(name):
                raise refuse(f"成员路径不安全:“{name}”(绝对路径或含 ..)")
            if any(ord(ch) < 0x20 for ch in name):
                raise refuse(f"成员名含控制字符:{name!r}")
            if name in seen:
                raise refuse(f"成员“{name}”重复出现")
            seen.add(name)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise refuse(f"成员“{name}”是符号链接")
            if info.flag_bits & 0x1:
                raise refuse(f"成员“{name}”已加密")
            if info.file_size > limits.max_member_bytes:
                raise refuse(
                    f"成员“{name}”解压后 {info.file_size} 字节,超过上限 {limits.max_member_bytes}"
                )
            total += info.file_size
            if total > limits.max_total_bytes:
                raise refuse(f"解压后总大小超过上限 {limits.max_total_bytes} 字节(疑似压缩炸弹)")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size >= limits.ratio_floor_bytes and ratio > limits.max_ratio:
                raise refuse(
                    f"成员“{name}”压缩比 {ratio:.0f}:1 超过上限 {limits.max_ratio}:1(疑似压缩炸弹)"
                )
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            try:
                with archive.open(info) as handle:
                    data = handle.read(info.file_size + 1)
            # zipfile raises NotImplementedError for a compression method it cannot read.
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
                raise refuse(f"成员“{info.filename}”已损坏({exc})") from exc
            if len(data) != info.file_size:
                raise refuse(f"成员“{info.filename}”的实际大小与声明不符(疑似压缩炸弹)")
            members[info.filename] = data
    return members


def read_archive_dir(directory: Path, limits: ZipLimits | None = None) -> dict[str, bytes]:
    """An extracted archive, read into memory within the same bounds as a zip."""
    limits = limits or ZipLimits()
    members: dict[str, bytes] = {}
    total = 0
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_symlink():
            raise VerificationError(
                "归档目录中有符号链接,拒绝处理", location=Location(file=str(path))
            )
        if not path.is_file():
            continue
        if len(members) >= limits.max_members:
            raise VerificationError(
                f"归档目录中文件过多(上限 {limits.max_members} 个)",
                location=Location(file=str(directory)),
            )
        size = path.stat().st_size
        total += size
        if size > limits.max_member_bytes or total > limits.max_total_bytes:
            raise VerificationError(
                "归档目录中的文件过大,拒绝处理", location=Location(file=str(path))
            )
        members[rel] = path.read_bytes()
    return members


def _member_check(
    members: Mapping[str, bytes], name: str, limit: int, label: str
) -> tuple[bytes | None, CheckResult | None]:
    data = members.get(name)
    if data is None:
        return None, CheckResult(label, False, f"归档中缺少 {name}", name)
    if len(data) > limit:
        return None, CheckResult(label, False, f"{name} 过大(上限 {limit} 字节)", name)
    return data, None


def verify_archive_members(
    members: Mapping[str, bytes],
    *,
    name: str,
    trust: TrustAnchors | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    online_registry: Registry | None = None,
) -> VerifyReport:
    """Check a whole archive held in memory: anchors, checkpoint, manifest, every letter.

    Trust anchors come from the archive unless ``trust`` is given; then the archive's CA and
    verifier key must equal the given ones (its CRL may be older, and the given one is used).
    """
    checks: list[CheckResult] = []

    def prefixed(file: str | None) -> str | None:
        return f"{name}:{file}" if file else name

    ca_data, problem = _member_check(members, CA_NAME, MAX_ANCHOR_BYTES, "根证书")
    crl_data, problem_crl = _member_check(members, CRL_NAME, MAX_ANCHOR_BYTES, "证书吊销列表")
    vkey_data, problem_vkey = _member_check(members, VKEY_NAME, MAX_ANCHOR_BYTES, "登记簿验证公钥")
    checks.extend(c for c in (problem, problem_crl, problem_vkey) if c is not None)
    archived: TrustAnchors | None = None
    if ca_data is not None and crl_data is not None and vkey_data is not None:
        try:
            archived = trust_from_bytes(ca_data, crl_data, vkey_data, tolerance=tolerance)
        except VerificationError as exc:
            checks.append(
                CheckResult(
                    "信任锚", False, exc.diagnostics(), exc.location.file if exc.location else None
                )
            )
    if trust is not None and archived is not None:
        same = (
            archived.ca_fingerprint == trust.ca_fingerprint
            and archived.verifier_key == trust.verifier_key
        )
        checks.append(
            CheckResult(
                "信任锚与指定的一致",
                same,
                "归档中的根证书和登记簿验证公钥与指定的一致"
                if same
                else "归档中的根证书或登记簿验证公钥与指定的不一致:归档可能被整体伪造",
                CA_NAME,
            )
        )
    anchors = trust or archived
    if anchors is None:
        return VerifyReport((), tuple(_prefix_checks(checks, prefixed)))

    checkpoint, problem = _member_check(members, CHECKPOINT_NAME, MAX_CHECKPOINT_BYTES, "检查点")
    if problem is not None:
        checks.append(problem)
    else:
        assert checkpoint is not None
        try:
            cp = open_checkpoint(checkpoint, parse_verifier_key(anchors.verifier_key))
            checks.append(
                CheckResult(
                    "检查点签名", True, f"登记簿检查点(大小 {cp.size})签名有效", CHECKPOINT_NAME
                )
            )
        except VerificationError as exc:
            checks.append(CheckResult("检查点签名", False, exc.diagnostics(), CHECKPOINT_NAME))

    manifest_raw, problem = _member_check(members, MANIFEST_NAME, MAX_MANIFEST_BYTES, "文件清单")
    manifest: object = None
    if problem is not None:
        checks.append(problem)
    else:
        assert manifest_raw is not None
        try:
            manifest = json.loads(manifest_raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            checks.append(CheckResult("文件清单", False, f"不是有效的 JSON:{exc}", MANIFEST_NAME))
    mark = volume_mark(manifest)
    paths = set(_manifest_paths(manifest))
    for member in members:
        if member.endswith(LETTER_SUFFIX) and member + PROOF_SUFFIX in members:
            paths.add(member)
    letters = tuple(
        verify_letter(
            letter_files_from_members(members, path),
            anchors,
            online_registry=online_registry,
            expected_checkpoint=checkpoint,
        )
        for path in sorted(paths)
    )
    letters = tuple(_prefix_letter(letter, name) for letter in letters)
    if manifest_raw is not None and checkpoint is not None and ca_data and vkey_data and crl_data:
        checks.extend(
            _derived_checks(
                members,
                [_unprefix_letter(letter, name) for letter in letters],
                ArchiveAnchors(ca_pem=ca_data, crl=crl_data, vkey=vkey_data, checkpoint=checkpoint),
                None if mark is None else mark.volume,
            )
        )
    return VerifyReport(letters, tuple(_prefix_checks(checks, prefixed)), mark)


def _derived_checks(
    members: Mapping[str, bytes],
    letters: Sequence[LetterReport],
    anchors: ArchiveAnchors,
    volume: Volume | None = None,
) -> list[CheckResult]:
    """Every file the archive builder derives must be byte-identical to a fresh derivation
    (for one volume of several, from the volume its manifest declares)."""
    checks: list[CheckResult] = []
    try:
        expected = render_derived_files(letters, anchors, members, volume=volume)
    except (KeyError, ValueError, DocgenError) as exc:
        return [CheckResult("归档说明文件", False, f"无法重新生成:{exc}", MANIFEST_NAME)]
    declared = set(members) - {MANIFEST_NAME}
    listed = set(expected.expected_names)
    extra = sorted(declared - listed)
    missing = sorted(listed - declared)
    if extra:
        checks.append(
            CheckResult(
                "文件清单完整", False, "归档中有清单以外的文件:" + "、".join(extra), extra[0]
            )
        )
    if missing:
        checks.append(
            CheckResult("文件清单完整", False, "归档中缺少文件:" + "、".join(missing), missing[0])
        )
    if not extra and not missing:
        checks.append(CheckResult("文件清单完整", True, f"{len(listed)} 个文件与清单一一对应"))
    for member, data in sorted(expected.derived.items()):
        actual = members.get(member)
        if actual is None:
            continue
        if actual != data:
            checks.append(
                CheckResult(
                    f"{member} 与归档内容一致",
                    False,
                    f"{member} 与按已验证内容重新生成的不同(第 {_first_difference(actual, data)}"
                    " 字节起),文件被改动过",
                    member,
                )
            )
        else:
            checks.append(CheckResult(f"{member} 与归档内容一致", True, "逐字节一致", member))
    return checks


def _first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i + 1
    return min(len(a), len(b)) + 1


def _prefix_checks(
    checks: Iterable[CheckResult], prefixed: Callable[[str | None], str | None]
) -> list[CheckResult]:
    return [CheckResult(c.name, c.ok, c.detail, prefixed(c.file)) for c in checks]


def _prefix_letter(letter: LetterReport, name: str) -> LetterReport:
    from dataclasses import replace

    def fix(path: str | None) -> str | None:
        return f"{name}:{path}" if path else path

    return replace(
        letter,
        path=f"{name}:{letter.path}",
        steps=tuple(replace(s, file=fix(s.file)) for s in letter.steps),
    )


def _unprefix_letter(letter: LetterReport, name: str) -> LetterReport:
    from dataclasses import replace

    head = f"{name}:"

    def fix(path: str | None) -> str | None:
        return path[len(head) :] if path and path.startswith(head) else path

    return replace(
        letter,
        path=fix(letter.path) or letter.path,
        steps=tuple(replace(s, file=fix(s.file)) for s in letter.steps),
    )


# ---------------------------------------------------------------------------------------------
# paths


class _PathKind(Enum):
    ZIP = "zip"
    ARCHIVE_DIR = "archive directory"
    LETTERS = "letters"


def _path_kind(path: Path) -> _PathKind:
    if path.is_file() and path.suffix.lower() == ".zip":
        return _PathKind.ZIP
    if path.is_dir() and _is_archive_dir(path):
        return _PathKind.ARCHIVE_DIR
    return _PathKind.LETTERS


def stream_verify_paths(
    paths: Sequence[Path],
    trust: TrustAnchors | None,
    emit: Callable[[LetterReport], None],
    online_registry: Registry | None = None,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    zip_limits: ZipLimits | None = None,
    jobs: int | None = 1,
    progress: Callable[[int, str], AbstractContextManager[Callable[[int], None]]] | None = None,
) -> VerifyTally:
    """Verify letters, directories of letters, and archives (.zip or an extracted archive),
    handing each letter's report to ``emit`` as soon as it is ready, in the order
    ``verify_paths`` lists them; return the counts and the container checks.

    Nothing is kept per letter, so a directory of 10⁵ letters is verified in the memory of a
    few hundred. ``trust`` may be None only when every path is an archive, which carries its own
    anchors (checked before anything is verified). The letters of a directory are verified by
    ``jobs`` worker processes (None: one per CPU), with a ``progress`` bar when one is given.
    """
    kinds = [_path_kind(path) for path in paths]
    if trust is None:
        for path, kind in zip(paths, kinds, strict=True):
            if kind is _PathKind.LETTERS:
                raise UsageError(
                    f"验证 {path} 需要根证书、吊销列表和登记簿验证公钥",
                    hint="请在 docgen 工作目录中运行,或用 --ca、--crl、--verifier-key 指定",
                )
    tally = VerifyTally()
    volumes = VolumeSets()  # volumes of a year's archive: are they all here?

    def take(letter: LetterReport) -> None:
        tally.add(letter)
        emit(letter)

    for path, kind in zip(paths, kinds, strict=True):
        shown = str(path)
        if kind is not _PathKind.LETTERS:
            try:
                if kind is _PathKind.ZIP:
                    members = read_zip(path, zip_limits)
                else:
                    members = read_archive_dir(path, zip_limits)
            except VerificationError as exc:
                if kind is _PathKind.ZIP:
                    tally.checks.append(CheckResult("压缩包安全", False, exc.message, shown))
                else:
                    tally.checks.append(CheckResult("归档目录", False, exc.diagnostics(), shown))
                continue
            report = verify_archive_members(
                members,
                name=shown,
                trust=trust,
                tolerance=tolerance,
                online_registry=online_registry,
            )
            for letter in report.letters:
                take(letter)
            tally.checks.extend(report.checks)
            volumes.add(report.volume, shown, len(report.letters))
            del members  # before the next archive is read
            continue
        assert trust is not None
        found: Iterable[LetterOnDisk]
        directory = path.is_dir()
        if directory:
            found, dir_checks = letters_in_dir(path, shown)
            tally.checks.extend(dir_checks)
        elif path.exists():
            found = [LetterOnDisk(str(path), shown, _names_beside(path))]
        else:
            tally.checks.append(CheckResult("查找文书", False, "文件或目录不存在", shown))
            continue
        bar = (
            progress(len(found), "验证")  # a DirectoryLetters counts by listing
            if progress is not None
            else nullcontext(lambda _n: None)
        )
        verified = 0
        with bar as advance:
            for letter in iter_verify_letters(
                found, trust, online_registry=online_registry, jobs=jobs, advance=advance
            ):
                verified += 1
                take(letter)
        if directory and not verified:
            tally.checks.append(
                CheckResult("查找文书", False, "目录中没有找到带证明文件的文书(.docx)", shown)
            )
    if online_registry is not None:
        tally.checks.append(_audit_check(online_registry))
    tally.checks.extend(
        CheckResult(c.name, c.ok, c.detail, c.file) for c in volumes.checks()
    )
    return tally


def verify_paths(
    paths: Sequence[Path],
    trust: TrustAnchors | None,
    online_registry: Registry | None = None,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    zip_limits: ZipLimits | None = None,
    jobs: int | None = 1,
    progress: Callable[[int, str], AbstractContextManager[Callable[[int], None]]] | None = None,
) -> VerifyReport:
    """``stream_verify_paths`` with every letter's report kept, for a handful of letters (a
    county's, the demo's); a whole year is better streamed."""
    letters: list[LetterReport] = []
    tally = stream_verify_paths(
        paths,
        trust,
        letters.append,
        online_registry,
        tolerance=tolerance,
        zip_limits=zip_limits,
        jobs=jobs,
        progress=progress,
    )
    return VerifyReport(tuple(letters), tuple(tally.checks))


def _audit_check(registry: Registry) -> CheckResult:
    """Recompute the live registry from its stored entries (catches edits behind its back)."""
    try:
        audit = registry.audit()
    except DocgenError as exc:
        return CheckResult("在线登记簿自检", False, exc.diagnostics(), registry.location)
    if audit.ok:
        return CheckResult(
            "在线登记簿自检",
            True,
            f"{audit.size} 条记录、树节点与检查点全部重新计算一致",
            registry.location,
        )
    shown = ";".join(audit.problems[:5])
    return CheckResult(
        "在线登记簿自检",
        False,
        f"登记簿已被改动(第一处问题在第 {audit.first_bad_index} 条):{shown}",
        registry.location,
    )


# ---------------------------------------------------------------------------------------------
# rendering (data only; the CLI prints)


def _head_data(
    ok: bool,
    summary: str,
    total: int,
    count: Callable[[LetterStatus], int],
    checks: Iterable[CheckResult],
) -> dict[str, Any]:
    return {
        "ok": ok,
        "summary": summary,
        "counts": {"total": total, **{status.value: count(status) for status in LetterStatus}},
        "checks": [
            {"name": c.name, "ok": c.ok, "detail": c.detail, "file": c.file} for c in checks
        ],
    }


def letter_data(letter: LetterReport) -> dict[str, Any]:
    """One letter of ``report_data``."""
    return {
        "doc_id": letter.doc_id,
        "path": letter.path,
        "status": letter.status.value,
        "status_label": letter.status.label,
        "steps": [
            {
                "number": s.number,
                "name": s.name,
                "ok": s.ok,
                "skipped": s.skipped,
                "detail": s.detail,
                "file": s.file,
            }
            for s in letter.steps
        ],
        "signatures": [
            {
                "signer": sig.signer,
                "name": sig.name,
                "party": sig.party,
                "signing_time": sig.signing_time,
                "recorded_at": sig.recorded_at,
                "registry_index": sig.registry_index,
            }
            for sig in letter.signatures
        ],
        "missing": [p.id for p in letter.missing] if letter.void is None else [],
    }


def report_data(report: VerifyReport) -> dict[str, Any]:
    """The report as plain JSON-able data, for ``--json``."""
    data = _head_data(report.ok, report.summary(), len(report.letters), report.count, report.checks)
    data["letters"] = [letter_data(letter) for letter in report.letters]
    return data


class JsonReport:
    """``json.dumps(report_data(report), ensure_ascii=False, indent=2)`` of a streamed
    verification, written without holding the letters: each letter's text goes to ``spool`` as it
    comes, and the head (ok, counts, checks), which needs all of them, is written first when they
    are all in. See ``json_report``."""

    def __init__(self, spool: IO[str]) -> None:
        self._letters = spool
        self._count = 0

    def add(self, letter: LetterReport) -> None:
        text = json.dumps(letter_data(letter), ensure_ascii=False, indent=2)
        # The letter's lines one level deeper, as in the whole report: its strings hold no
        # line feed (JSON escapes it), so every "\n" of the text starts a line.
        self._letters.write(
            ("[\n" if not self._count else ",\n") + _INDENT + text.replace("\n", "\n" + _INDENT)
        )
        self._count += 1

    def chunks(self, tally: VerifyTally) -> Iterator[str]:
        """The whole JSON text, in pieces (no final line feed, as ``json.dumps``)."""
        head = json.dumps(
            _head_data(tally.ok, tally.summary(), tally.total, tally.count, tally.checks),
            ensure_ascii=False,
            indent=2,
        )
        assert head.endswith("\n}")
        yield head[:-2] + ',\n  "letters": '
        if not self._count:
            yield "[]"
        else:
            self._letters.seek(0)
            while piece := self._letters.read(MIB):
                yield piece
            yield "\n  ]"
        yield "\n}"


@contextmanager
def json_report(in_memory_bytes: int = MIB) -> Iterator[JsonReport]:
    """A ``JsonReport`` whose letters wait in a temporary file (in memory while small)."""
    with tempfile.SpooledTemporaryFile(
        max_size=in_memory_bytes, mode="w+", encoding="utf-8"
    ) as spool:
        yield JsonReport(spool)


_INDENT = "    "


def letter_lines(letter: LetterReport, *, verbose: bool = True) -> list[str]:
    """A letter's lines of the checklist: its status, then its steps (only when ``verbose`` or
    it is not verified)."""
    head = f"{letter.status.label}  {letter.doc_id or '(编号未知)'}  {letter.path}"
    lines = [
        (
            "✓ "
            if letter.status is LetterStatus.VERIFIED
            else "✗ "
            if letter.status is LetterStatus.FAILED
            else "• "
        )
        + head
    ]
    if verbose or letter.status is not LetterStatus.VERIFIED:
        for step in letter.steps:
            detail_lines = step.detail.split("\n")
            lines.append(f"    {step.mark} {step.number}. {step.name}:{detail_lines[0]}")
            lines.extend(f"         {extra}" for extra in detail_lines[1:])
    return lines


def closing_lines(checks: Sequence[CheckResult], summary: str) -> list[str]:
    """The lines after the letters: the container checks, then the summary."""
    lines: list[str] = []
    if checks:
        lines.append("整体检查:")
        for check in checks:
            where = f"[{check.file}] " if check.file else ""
            lines.append(f"    {'✓' if check.ok else '✗'} {check.name}:{where}{check.detail}")
    lines.append(summary)
    return lines


def report_lines(report: VerifyReport, *, verbose: bool = True) -> list[str]:
    """The human checklist: per letter its steps with ✓/✗, then container checks, then a summary."""
    lines = [line for letter in report.letters for line in letter_lines(letter, verbose=verbose)]
    return lines + closing_lines(report.checks, report.summary())
