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

import hashlib
import json
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from docgen.core.errors import DocgenError, VerificationError
from docgen.records.naming import sanitize_component
from docgen.records.proofs import FORMAT as LETTER_PROOF_FORMAT
from docgen.registry import Entry, Registry, verify_proof_bundle
from docgen.registry.bundle import verified_checkpoint
from docgen.signing import cades_verify as cades
from docgen.signing.crl import crl_number
from docgen.verify.crls import CrlHistory, crl_history, judge_signature
from docgen.verify.derived import CHECKPOINT_NAME
from docgen.verify.model import (
    MAX_LETTER_BYTES,
    MAX_PROOF_BYTES,
    MAX_PROOF_ENTRIES,
    MAX_SIGNATURE_BYTES,
    PARTY_LABELS,
    SIGNATURE_SUFFIX,
    Blob,
    LetterFiles,
    LetterReport,
    LetterStatus,
    Party,
    PdfInfo,
    SignatureInfo,
    StepResult,
    TrustAnchors,
    VoidInfo,
)
from docgen.verify.pdf_check import check_letter_pdf

STEP_NAMES: dict[int, str] = {
    1: "文件哈希与登记一致",
    2: "登记条目包含在已签名的检查点中",
    3: "数字签名有效",
    4: "签名人为约定的签订方",
    5: "证书由本单位根证书签发",
    6: "登记签名时证书未吊销",
    7: "签名齐全",
    8: "与在线登记簿一致",
    9: "PDF 转换件的签名有效、签后未被改动",
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


class _StepFailed(Exception):
    def __init__(self, detail: str, file: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.file = file


class _NotApplicable(Exception):
    """Nothing for the step to check (a letter nobody has signed yet): shown as –, not ✓."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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
    checkpoint_notes: tuple[str, ...] = ()  # every checkpoint of the bundle, verified
    crls: CrlHistory | None = None  # the log's (archive, registry); else the bundle's
    carried_crls: list[Entry] = field(default_factory=list)  # ``crl`` entries of the bundle

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
        notes.add(str(item.get("checkpoint")))
        if entry.record.get("type") == "crl":  # the CRL in force for a signature (step 6)
            letter.carried_crls.append(entry)
            continue
        if entry.record.get("doc_id") != letter.doc_id:
            raise _StepFailed(
                f"登记簿第 {entry.index} 条属于文书 {entry.record.get('doc_id')},不属于本文书",
                proof_path,
            )
        if entry.record.get("type") not in (
            "document", "signature", "void", "rendition", "pdf_signature",
        ):  # fmt: skip
            raise _StepFailed(f"登记簿第 {entry.index} 条的类型不应出现在文书证明中", proof_path)
        entries.append(entry)
    indices = [e.index for e in entries] + [e.index for e in letter.carried_crls]
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
    letter.checkpoint_notes = tuple(sorted(sizes))
    letter.entries = sorted(entries, key=lambda e: e.index)
    documents = [e for e in entries if e.record.get("type") == "document"]
    if len(documents) != 1:
        raise _StepFailed("证明文件中应恰有一条文书登记记录", proof_path)
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
        elif record.get("type") == "rendition" and record.get("docx_sha256") != doc_sha:
            # docgen puts in a bundle only the PDF rendition made from the letter's bytes
            raise _StepFailed(
                f"登记簿第 {entry.index} 条(PDF 副本)不是由本文书登记的内容生成的", proof_path
            )
    shown = "、".join(str(i) for i in sorted(indices))
    return (
        f"{len(indices)} 条登记记录(第 {shown} 条)均包含在登记簿签名检查点"
        f"(大小 {max(sizes.values())})中"
    )


def _signature_blobs(letter: _Letter) -> dict[str, Blob]:
    return dict(letter.files.signatures)


def _imported_after(letter: _Letter, sig: _Signature) -> datetime | None:
    """For a signature registered by ``sign import`` (made elsewhere, brought in later), the
    letter's registration time: its signing time may lie anywhere from then to the registry time
    (see :func:`docgen.signing.cades_verify.verify_detached`). None for every other signature,
    which keeps the ±tolerance rule. A letter without a usable ``recorded_at`` gives the registry
    time itself: nothing earlier is accepted."""
    if sig.record.get("source") != "import":
        return None
    return _parse_time(letter.record().get("recorded_at")) or sig.recorded_at


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
            made_after=_imported_after(letter, sig),
        )
        bad = [c for c in sig.status.checks if c.name in _SIG_CHECKS_VALID and not c.ok]
        if bad:
            problems.append((blob.path, ";".join(f"{c.name}:{c.detail}" for c in bad)))
    if problems:
        raise _StepFailed("\n".join(f"{p}:{d}" for p, d in problems), problems[0][0])
    if not letter.signatures:
        raise _NotApplicable("尚无签名,无可核对")
    if len(letter.signatures) == 1:
        return "该签名为有效的 CAdES 签名,且针对本文件"
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
    if not names:
        raise _NotApplicable("尚无签名,无可核对")
    return "、".join(names)


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
    if not signatures:
        raise _NotApplicable("尚无签名,无可核对")
    return f"根证书 SHA-256 指纹 {ca[:16]}…;签名时证书均在有效期内"


_BUNDLE_HISTORIES: dict[tuple[tuple[bytes, ...], str], CrlHistory] = {}


def _history(letter: _Letter) -> CrlHistory:
    """The registered CRLs a letter's signatures are judged by: the log's when the verifier has
    it, else those the proof bundle carries (remembered: most letters carry the same ones)."""
    if letter.crls is not None:
        return letter.crls
    datas = tuple(e.data for e in sorted(letter.carried_crls, key=lambda e: e.index))
    key = (datas, letter.trust.ca_fingerprint)
    history = _BUNDLE_HISTORIES.get(key)
    if history is None:
        history = crl_history(
            ((e.index, e.record) for e in letter.carried_crls),
            (),
            letter.trust.ca_cert,
            source="证明文件所附的登记条目",
        )
        if len(_BUNDLE_HISTORIES) >= 64:
            _BUNDLE_HISTORIES.clear()
        _BUNDLE_HISTORIES[key] = history
    return history


def _registered_revocation(
    letter: _Letter, history: CrlHistory, sig: _Signature, status: cades.SignatureStatus
) -> list[str]:
    """Step 6 against the registered CRLs (see :mod:`docgen.verify.crls`)."""
    try:
        serial = int(str(status.cert_serial), 16)
    except ValueError:
        serial = None
    reasons = judge_signature(history, sig.entry.index, sig.recorded_at, serial)
    if letter.crls is None:  # judged by the bundle alone: it cannot see a newer registered CRL
        reasons += [f"证明文件中:{text}" for text in history.backwards()]
        in_force = history.in_force(sig.entry.index)
        given = crl_number(letter.trust.crl)
        if in_force is not None and in_force.problem is None and given < in_force.number:
            reasons.append(
                f"给出的吊销列表是第 {given} 号,早于登记该签名时已登记的{in_force.label}:"
                "已过时,请使用最新的吊销列表"
            )
    return reasons


def _in_force_text(
    history: CrlHistory, signatures: list[tuple[str, _Signature, cades.SignatureStatus]]
) -> str:
    labels = []
    for _, sig, _status in signatures:
        in_force = history.in_force(sig.entry.index)
        if in_force is not None and in_force.short not in labels:
            labels.append(in_force.short)
    return "、".join(labels)


def _step_revocation(letter: _Letter) -> str:
    signatures = _checked_signatures(letter)
    history = _history(letter)
    problems: list[tuple[str, str]] = []
    for _, sig, status in signatures:
        assert sig.blob is not None
        reasons = _group(status, _SIG_CHECKS_REVOCATION)
        reasons += _registered_revocation(letter, history, sig, status)
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
        raise _NotApplicable("尚无签名,无可核对")
    used = _in_force_text(history, signatures)
    return (
        f"按登记各签名时{history.source}中有效的吊销列表判断({used}),"
        "证书均未吊销,吊销列表均未过期;签名时间与登记时间相符"
    )


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
    for entry in [*letter.entries, *letter.carried_crls]:
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
    except _NotApplicable as nothing:
        return StepResult(number, name, True, nothing.detail, skipped=True)
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
    crls: CrlHistory | None = None,
) -> LetterReport:
    """Run the checklist on one letter; never raises for bad input, only reports it.

    ``crls``: the registered CRLs from the log (an archive's, the workspace's registry); without
    it, step 6 judges by the ``crl`` entries the letter's proof bundle carries."""
    letter = _Letter(files, trust, expected_checkpoint, online_registry, crls=crls)
    steps = [_run_step(n, step, letter) for n, step in _STEPS]
    if online_registry is not None:
        steps.append(_run_step(8, _step_online, letter))
    if _has_rendition(letter):  # letters without a PDF keep the report they always had
        steps.append(_run_step(9, _step_pdf, letter))
    return _report(letter, tuple(steps))


def _has_rendition(letter: _Letter) -> bool:
    return any(e.record.get("type") == "rendition" for e in letter.entries)


def _step_pdf(letter: _Letter) -> str:
    """The PDF rendition and its PAdES signatures (:mod:`docgen.verify.pdf_check`), judged by
    the entries the proof bundle carries, the verifier's CA and CRL."""
    if letter.document is None or letter.doc_id is None:
        raise _Skip
    blob = letter.files.pdf
    if blob is None or blob.data is None:
        registered = next(
            (e.record.get("path") for e in letter.entries if e.record.get("type") == "rendition"),
            None,
        )
        where = (
            f"({registered})" if blob is None else f"({blob.path} {blob.problem or '无法读取'})"
        )
        raise _NotApplicable(f"登记了 PDF 转换件,但没有提供 PDF 文件{where},未核对 PDF")
    verdict = check_letter_pdf(
        blob.data, letter.doc_id, [e.record for e in letter.entries],
        ca_cert=letter.trust.ca_cert, crls=(letter.trust.crl,),
    )  # fmt: skip
    if not verdict.ok:
        raise _StepFailed(verdict.detail, blob.path)
    return verdict.detail


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
        pdf=_pdf_info(letter, steps),
        checkpoints=letter.checkpoint_notes,
    )


def _pdf_info(letter: _Letter, steps: tuple[StepResult, ...]) -> PdfInfo | None:
    """The PDF step 9 checked and found as registered; None when there was none to check."""
    blob = letter.files.pdf
    step = next((s for s in steps if s.number == 9), None)
    if step is None or not step.ok or step.skipped or blob is None or blob.data is None:
        return None
    signed = tuple(
        str(e.record.get("party"))
        for e in letter.entries
        if e.record.get("type") == "pdf_signature"
    )
    return PdfInfo(blob.path, _sha(blob.data), signed)
