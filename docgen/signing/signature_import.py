"""``sign import``: signatures made elsewhere — in a copy of the workspace on the signer's own PC —
brought back, checked fully, then registered as if ``sign --as`` had made them here.

A ``.p7s`` is located by what it signs (the messageDigest of its signed attributes against the
SHA-256 of every registered letter); a file name like ``<doc_id>_….docx.<person>.p7s`` only
narrows the search and must agree with what the file says. Then, with nothing written yet:

* the letter is registered, not voided, and its file here still has the registered bytes;
* :func:`docgen.signing.cades_verify.verify_detached` over those bytes, against this CA and the
  workspace CRL (checked to be the newest registered one and in force), revocation judged *now* —
  the time the registry will record — so a certificate revoked before the import is refused
  whatever signing time the file claims. The signing time may be any time from the letter's
  own registration up to now (+ the workspace's tolerance for clocks): people sign at home in
  the evening and bring the file the next day. ``verify`` applies the same rule to a record with
  ``"source": "import"`` (and the ±tolerance rule to every other); the certificate must be valid
  both at the claimed time and now, so a claimed early time lets in no revoked or expired key;
* the certificate is registered for the person it names, that person is a party of the letter
  and has not signed it, and no registered revocation lists it.

A signed PDF (``%PDF``) is the letter's registered PDF with the person's PAdES signature
appended in the copy: checked by :mod:`docgen.signing.pdf_import` (the same checks ``verify``
makes of a registered PDF signature, the same time and revocation rule) and registered as a
``pdf_signature`` record, the file replacing the letter's PDF.

Accepted files are written atomically under the letter's own signature name (never under the
name they came with) and registered in one transaction per year, with the same ``signature``
record ``sign --as`` makes (plus ``"source": "import"``). Each file gets an outcome with its
reason in Chinese; a refused file changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import cms

from docgen.core.errors import DocgenError
from docgen.core.lock import workspace_lock
from docgen.core.workspace import Workspace
from docgen.records.naming import signature_relpath
from docgen.records.state import LetterState, letters_state
from docgen.registry import Registry, open_registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.cades_verify import MAX_SIGNATURE_BYTES, SignatureStatus, verify_detached
from docgen.signing.pdf_import import MAX_PDF_BYTES, ImportRefused, check_pdf, find_base
from docgen.signing.pdf_sign import LetterPdf, letter_pdfs
from docgen.signing.revocation_state import (
    CheckedCrl,
    RevocationState,
    checked_workspace_crl,
    read_revocation_state,
)
from docgen.signing.sign import commit_signatures, utc_iso
from docgen.signing.x509util import iso_z

_NAMED = re.compile(r"^(?P<doc>[^_.]+)(?:[_.].*?)?(?:\.docx\.(?P<signer>[^.]+))?\.p7s$")


@dataclass(frozen=True)
class ImportOutcome:
    path: Path
    doc_id: str | None
    person_id: str | None
    accepted: bool
    reason: str  # in Chinese


@dataclass(frozen=True)
class _Accepted:
    letter: LetterState
    year: int
    signer: str
    party: str
    target: Path
    p7s: bytes
    record: dict[str, Any]


@dataclass
class _Context:
    ws: Workspace
    registry: Registry
    now: datetime
    ca_cert: Any
    registered: RevocationState
    crl: CheckedCrl
    tolerance: timedelta
    by_sha: dict[str, list[tuple[str, int]]]  # letter SHA-256 -> (doc_id, year), registry order
    doc_ids: set[str]  # every registered letter
    certificates: set[tuple[str, str]]  # (person, certificate fingerprint) registered
    taken: set[tuple[str, str]]  # (doc_id, signer) accepted earlier in this batch
    only_signer: str | None = None  # the signing page: the person logged in
    pdfs: list[LetterPdf] | None = None  # every letter's PDF state, read at the first PDF


def _read(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise ImportRefused("不是普通文件")
        with path.open("rb") as head:
            limit = MAX_PDF_BYTES if head.read(5) == b"%PDF-" else MAX_SIGNATURE_BYTES
        if path.stat().st_size > limit:
            raise ImportRefused(f"文件过大(上限 {MAX_SIGNATURE_BYTES} 字节),不是签名文件")
        return path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"无法读取文件({exc.strerror})") from exc


def _signed_digest(p7s: bytes) -> tuple[str, bytes]:
    """The digest algorithm and messageDigest the file claims: only to find its letter (the
    full verification comes after)."""
    try:
        info = cms.ContentInfo.load(p7s, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signer_infos = info["content"]["signer_infos"]
        if len(signer_infos) != 1:
            raise ValueError("not one signer")
        signer = signer_infos[0]
        algorithm = signer["digest_algorithm"]["algorithm"].native
        for attribute in signer["signed_attrs"]:
            if attribute["type"].native == "message_digest":
                return str(algorithm), bytes(attribute["values"][0].native)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ImportRefused("不是分离式 CAdES 签名文件(CMS SignedData,.p7s)") from exc
    raise ImportRefused("签名文件没有 messageDigest 签名属性,不是分离式 CAdES 签名")


def _find_letter(ctx: _Context, path: Path, p7s: bytes) -> tuple[str, int, str | None]:
    """(doc_id, year, signer named by the file name or None)."""
    algorithm, digest = _signed_digest(p7s)
    named = _NAMED.match(path.name)
    named_doc = named.group("doc") if named else None
    named_signer = named.group("signer") if named else None
    if algorithm != "sha256":
        raise ImportRefused(f"签名的摘要算法为 {algorithm},本单位文书的签名使用 SHA-256")
    found = ctx.by_sha.get(digest.hex(), [])
    if named_doc is not None and named_doc in ctx.doc_ids:
        match = [(d, y) for d, y in found if d == named_doc]
        if not match:
            raise ImportRefused(
                f"签名所针对的内容与登记的文书 {named_doc} 不一致(签名时文书已被改动,"
                "或不是这份文书的签名)",
                named_doc,
            )
        return match[0][0], match[0][1], named_signer
    if not found:
        raise ImportRefused(
            "签名所针对的内容与登记簿中的任何文书都不一致(文书被改动过,或不是本单位的文书)"
        )
    doc_id, year = found[-1]
    return doc_id, year, named_signer


def _letter_time(record: dict[str, Any], doc_id: str) -> datetime:
    """When the registry recorded the letter: no signature of it can be older."""
    try:
        return datetime.fromisoformat(str(record["recorded_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        reason = f"文书 {doc_id} 的登记记录没有可用的登记时间,无法判断签名时间"
        raise ImportRefused(reason, doc_id) from exc


def _failed(status: SignatureStatus) -> list[str]:
    return [f"{c.name}:{c.detail}" for c in status.checks if not c.ok]


def _check_pdf(ctx: _Context, data: bytes) -> _Accepted:
    if ctx.pdfs is None:
        ctx.pdfs = list(letter_pdfs(ctx.registry, sorted(ctx.doc_ids)).values())
    base = find_base(data, ctx.pdfs)
    letter = letters_state(ctx.registry, [base.doc_id], int(base.document["year"]))
    state = letter.letters[base.doc_id]
    if state.voided:
        raise ImportRefused(f"文书 {base.doc_id} 已作废,不能再登记签名", base.doc_id)
    done = check_pdf(
        data, base, now=ctx.now, tolerance=ctx.tolerance, ca_cert=ctx.ca_cert,
        crl=ctx.crl.crl, certificates=ctx.certificates, revoked=ctx.registered.revocation,
    )  # fmt: skip
    if ctx.only_signer is not None and done.signer != ctx.only_signer:
        reason = f"签名人为 {done.signer},不是当前登录的 {ctx.only_signer}:只能导入本人的签名"
        raise ImportRefused(reason, base.doc_id, done.signer)
    if (base.doc_id, f"{done.signer}/pdf") in ctx.taken:
        reason = f"{done.signer} 已签署过文书 {base.doc_id} 的 PDF,不重复登记"
        raise ImportRefused(reason, base.doc_id, done.signer)
    year = int(base.document["year"])
    target = ctx.ws.year_dir(year) / str(done.record["path"])
    return _Accepted(state, year, done.signer, done.party, target, data, done.record)


def _check(ctx: _Context, path: Path) -> _Accepted:
    p7s = _read(path)
    if p7s.startswith(b"%PDF-"):
        return _check_pdf(ctx, p7s)
    doc_id, year, named_signer = _find_letter(ctx, path, p7s)
    letter = letters_state(ctx.registry, [doc_id], year).letters[doc_id]
    if letter.voided:
        raise ImportRefused(f"文书 {doc_id} 已作废,不能再登记签名", doc_id)
    year_dir = ctx.ws.year_dir(year)
    letter_path = year_dir / str(letter.record["path"])
    try:
        data = letter_path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"找不到文书文件 {letter_path},无法核对签名", doc_id) from exc
    if hashlib.sha256(data).hexdigest() != letter.record["sha256"]:
        raise ImportRefused(f"本机的文书文件 {letter_path} 与登记内容不一致,无法核对签名", doc_id)
    registered_at = _letter_time(letter.record, doc_id)
    status = verify_detached(
        data, p7s, ca_cert=ctx.ca_cert, crl=ctx.crl.crl, at=ctx.now,
        registry_time=ctx.now, tolerance=ctx.tolerance, made_after=registered_at,
    )  # fmt: skip
    signer = status.signer_id
    failures = _failed(status)
    if failures:
        hint = ""
        if any(f.startswith("签名时间") for f in failures):
            hint = "(签名时间须在文书登记之后、导入之前:请检查签名所用电脑的时钟,重新签名后导入)"
        raise ImportRefused("签名未通过核验:" + ";".join(failures) + hint, doc_id, signer)
    assert signer is not None and status.cert_fingerprint is not None
    if ctx.only_signer is not None and signer != ctx.only_signer:
        raise ImportRefused(
            f"签名人为 {signer},不是当前登录的 {ctx.only_signer}:只能导入本人的签名", doc_id, signer
        )
    if named_signer is not None and named_signer != signer:
        raise ImportRefused(
            f"文件名表明签名人为 {named_signer},但签名证书属于 {signer}", doc_id, signer
        )
    parties = {pid: party for party, pid in letter.parties}
    if signer not in parties:
        names = "、".join(f"{p['name']}({p['id']})" for p in letter.record["parties"])
        raise ImportRefused(f"签名人 {signer} 不是文书 {doc_id} 的签订方(签订方:{names})", doc_id,
                       signer)  # fmt: skip
    if signer in letter.signatures or (doc_id, signer) in ctx.taken:
        raise ImportRefused(f"{signer} 已签署过文书 {doc_id},不重复登记", doc_id, signer)
    if (signer, status.cert_fingerprint) not in ctx.certificates:
        reason = f"签名证书(序列号 {status.cert_serial})未在登记簿中登记为 {signer} 的证书"
        raise ImportRefused(reason, doc_id, signer)
    assert status.cert_serial is not None and status.signing_time is not None
    revoked = ctx.registered.revocation(int(status.cert_serial, 16))
    if revoked is not None:
        raise ImportRefused(
            f"签名证书已于 {iso_z(revoked.revoked_at)} 吊销({revoked.reason.label})", doc_id, signer
        )
    record = {
        "type": "signature",
        "doc_id": doc_id,
        "signer": signer,
        "party": parties[signer],
        "cert_fingerprint": status.cert_fingerprint,
        "cert_serial": status.cert_serial,
        "p7s_sha256": hashlib.sha256(p7s).hexdigest(),
        "doc_sha256": letter.record["sha256"],
        "signing_time": utc_iso(status.signing_time),
        "source": "import",
    }
    target = year_dir / signature_relpath(str(letter.record["path"]), signer)
    return _Accepted(letter, year, signer, parties[signer], target, p7s, record)


def _context(ws: Workspace, registry: Registry, now: datetime) -> _Context:
    ca_cert = load_ca_certificate(ws.keys_dir)
    registered = read_revocation_state(registry, ca_cert)
    crl = checked_workspace_crl(ws.keys_dir, ca_cert, registered, now=now)
    by_sha: dict[str, list[tuple[str, int]]] = {}
    for entry in registry.entries(type="document"):
        record = entry.record
        by_sha.setdefault(str(record.get("sha256")), []).append(
            (str(record["doc_id"]), int(record.get("year", 0)))
        )
    certificates = {
        (str(e.record.get("person")), str(e.record.get("cert_fingerprint")))
        for e in registry.entries(type="certificate")
    }
    tolerance = timedelta(seconds=ws.config.signing_time_tolerance_seconds)
    doc_ids = {doc_id for items in by_sha.values() for doc_id, _ in items}
    return _Context(ws, registry, now, ca_cert, registered, crl, tolerance, by_sha, doc_ids,
                    certificates, set())  # fmt: skip


def import_signatures(
    ws: Workspace,
    files: Sequence[Path],
    *,
    now: datetime,
    only_signer: str | None = None,
) -> list[ImportOutcome]:
    """Check each file fully and register those that pass (see the module docstring); one
    outcome per file, in order. ``only_signer`` (the signing page: the person logged in) also
    refuses signatures by anyone else. A check that cannot be made at all (no CA, a stale or
    expired workspace CRL) raises a :class:`DocgenError` before any file is looked at. Takes the
    workspace lock."""
    outcomes: list[ImportOutcome | None] = [None] * len(files)
    with workspace_lock(ws.root), open_registry(ws) as registry:
        ctx = _context(ws, registry, now)
        ctx.only_signer = only_signer
        accepted: dict[int, list[tuple[int, _Accepted]]] = {}
        for number, path in enumerate(files):
            try:
                done = _check(ctx, path)
            except ImportRefused as refused:
                outcomes[number] = ImportOutcome(path, refused.doc_id, refused.person, False,
                                                 refused.reason)  # fmt: skip
                continue
            pdf = "/pdf" if done.record["type"] == "pdf_signature" else ""
            ctx.taken.add((done.letter.doc_id, done.signer + pdf))
            accepted.setdefault(done.year, []).append((number, done))
        for year, items in sorted(accepted.items()):
            commit_signatures(
                ws, registry, year, [(a.target, a.p7s) for _, a in items],
                [a.record for _, a in items], now,
            )  # fmt: skip
            for number, item in items:
                label = "甲方" if item.party == "superior" else "乙方"
                what = f"{item.letter.doc_id}" + (
                    " PDF " if item.record["type"] == "pdf_signature" else " "
                )
                outcomes[number] = ImportOutcome(
                    files[number], item.letter.doc_id, item.signer, True,
                    f"{item.signer}({label})对文书 {what}的签名已核验并记入登记簿",
                )  # fmt: skip
    result = [o for o in outcomes if o is not None]
    if len(result) != len(files):  # every file has an outcome; anything else is a bug
        raise DocgenError("导入签名时有文件没有得到结果")
    return result
