"""Checking a letter's signed PDF rendition: every PAdES signature valid, by the registered party,
over the registered rendition, and nothing changed after the last one.

It lives in ``signing`` (moved from ``docgen.verify.pdf_check``, which re-exports it) because
``sign import`` must run the very same checks on a PDF signed elsewhere before registering it,
and ``signing`` may not import ``verify``.

The .docx and its .p7s files remain the letter of record (the checklist's steps 1–7); the PDF is
what people open and print, and it shows the signatures as stamps, so a PDF that looks signed
must be one docgen signed. Checked, in this order, each failure a Chinese sentence:

1. the rendition is registered for this very .docx (its ``docx_sha256`` is the letter's);
2. the registered ``pdf_signature`` records form one chain from the rendition (each signed the
   PDF the previous one produced), by distinct parties of the letter, and the file is byte for
   byte the last PDF registered (or the rendition itself, when nobody has signed it yet);
3. the PDF's embedded signatures are exactly the registered ones (field per party, in order),
   the bytes before the first one are the rendition, those before each next one the PDF the
   previous signature produced, and the last one covers the whole file: nothing, not even
   validation data, was appended after it (docgen puts the CA certificate and the CRL in the
   security store inside each signature's own revision);
4. pyHanko validates each signature: intact, cryptographically valid, its certificate the one
   registered and chaining to the institution's CA (the trust root given to ``docgen verify``),
   not revoked by the CRLs in the PDF's security store or given by the verifier (revocation is
   required: a certificate whose status cannot be established fails), and any later revision
   only adds a signature (pyHanko's difference analysis: form filling at most);
5. each signature's stamp (its widget) is on one page only, shown, and its rectangle is exactly
   where signing puts it: on that party's own 签名 line, found in the registered rendition's
   text layer by :func:`~docgen.signing.pdf_layout.find_signature_lines` and
   :meth:`~docgen.signing.pdf_layout.SignatureLine.stamp_rect` — the rule that placed it. A
   valid signature whose stamp sits on the other party's line, off the line, or that has no
   stamp, would make the page say something the signature does not.

A letter without a rendition has nothing to check here; that is said, not shown as ✓.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from docgen.core.errors import DocgenError
from docgen.signing.cades_verify import DEFAULT_TOLERANCE
from docgen.signing.pades import asn1_certificate, field_name, letter_parties
from docgen.signing.pdf_layout import SignatureLine, find_signature_lines
from docgen.signing.pdf_sign import letter_pdf

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

PARTY_LABELS = {"superior": "甲方", "subordinate": "乙方"}


@dataclass(frozen=True)
class PdfVerdict:
    """The outcome for one letter's PDF. ``present``: there is a registered rendition to check
    (otherwise ``ok`` is False and ``detail`` says why nothing was checked). ``complete``: every
    party of the letter has signed the PDF."""

    present: bool
    ok: bool
    complete: bool
    detail: str
    signed_by: tuple[str, ...] = ()


class _Failed(Exception):
    pass


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _time(text: object) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _who(record: dict[str, Any]) -> str:
    return f"{PARTY_LABELS.get(str(record.get('party')), '?')} {record.get('signer')}"


def _chain(
    document: dict[str, Any], rendition: dict[str, Any], records: Sequence[dict[str, Any]]
) -> str:
    """Checks 1 and 2 on the records alone; returns the SHA-256 the file must have."""
    if rendition.get("docx_sha256") != document.get("sha256"):
        raise _Failed("登记的 PDF 不是这份 .docx 的转换件(docx_sha256 与文书登记不一致)")
    parties = {str(p["party"]): str(p["id"]) for p in document.get("parties", [])}
    expected = str(rendition.get("pdf_sha256"))
    seen: set[str] = set()
    for record in records:
        party = str(record.get("party"))
        if parties.get(party) != record.get("signer"):
            label = PARTY_LABELS.get(party, party)
            raise _Failed(f"登记的 PDF 签名人 {record.get('signer')} 不是本文书的{label}")
        if party in seen:
            raise _Failed(f"{_who(record)} 在登记簿中对同一 PDF 签了两次")
        if record.get("previous_pdf_sha256") != expected:
            raise _Failed(f"{_who(record)} 的 PDF 签名登记不是接在上一版 PDF 之后(登记链断开)")
        seen.add(party)
        expected = str(record.get("pdf_sha256"))
    return expected


def _end_of_rendition(data: bytes, rendition: dict[str, Any], limit: int) -> int:
    """Where the rendition ends in ``data``, before ``limit``: at its registered size
    (``pdf_size``), or else at the end of one of its revisions (``%%EOF`` and the line break
    after it) whose prefix has the registered SHA-256."""
    rendition_sha = rendition.get("pdf_sha256")
    size = rendition.get("pdf_size")
    if isinstance(size, int):
        if size <= limit and _sha(data[:size]) == rendition_sha:
            return size
        raise _Failed("PDF 第一个签名之前的内容不是登记的 PDF 转换件")
    at = data.find(b"%%EOF", 0, limit)
    while at >= 0:
        end = at + 5
        for cut in (end, end + 1, end + 2):
            if cut <= limit and _sha(data[:cut]) == rendition_sha:
                return cut
        at = data.find(b"%%EOF", end, limit)
    raise _Failed("PDF 第一个签名之前的内容不是登记的 PDF 转换件")


def _imported_moment(
    record: dict[str, Any], base: dict[str, Any], claimed: datetime | None
) -> datetime | None:
    """When a PDF signature is judged (certificate validity, revocation): its claimed signing
    time — except for one made elsewhere and imported (``"source": "import"``), whose claimed
    time is only the signer's word: judged at its registry time, and the claimed time must lie
    between the registration of the PDF it signs and the registry time + tolerance (as
    ``sign import`` required; a record not yet registered is judged at the claimed time,
    ``sign import`` having checked the registry time itself)."""
    if record.get("source") != "import" or claimed is None:
        return claimed
    registered = _time(record.get("recorded_at"))
    if registered is None:
        return claimed
    signed_pdf = _time(base.get("recorded_at"))
    if signed_pdf is None or claimed < signed_pdf:
        raise _Failed(f"{_who(record)} 的 PDF 签名时间早于所签 PDF 的登记时间")
    if claimed > registered + DEFAULT_TOLERANCE:
        raise _Failed(f"{_who(record)} 的 PDF 签名时间晚于登记时间")
    return registered


def _validation_problem(status: PdfSignatureStatus, last: bool) -> str | None:
    if not status.intact:
        return "签名覆盖的内容被改动(摘要不符)"
    if not status.valid:
        return "签名值无效"
    if status.revoked:
        return "证书已吊销"
    if not status.trusted:
        return "证书不能验证到本单位根证书,或无法确认未吊销"
    if last:
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            return "最后一个签名之后 PDF 又被追加或改动"
    else:
        level = status.modification_level
        if (
            status.coverage != SignatureCoverageLevel.ENTIRE_REVISION
            or level is None
            or level > ModificationLevel.FORM_FILLING
            or status.docmdp_ok is False
        ):
            return "签名之后 PDF 除了后续签名还有其他改动"
    return None


async def _validate(
    data: bytes,
    records: Sequence[dict[str, Any]],
    ca_cert: x509.Certificate,
    crls: Sequence[x509.CertificateRevocationList],
    rendition: dict[str, Any],
    document: dict[str, Any],
) -> None:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
        dss = DocumentSecurityStore.read_dss(reader) if "/DSS" in reader.root else None
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise _Failed(f"PDF 无法读取({type(exc).__name__})") from exc
    names = [str(s.field_name) for s in signatures]
    wanted = [field_name(str(r.get("party"))) for r in records]
    if names != wanted:
        found, registered = "、".join(names) or "无", "、".join(wanted) or "无"
        raise _Failed(f"PDF 中的签名({found})与登记的签名({registered})不一致")
    if not signatures:
        if _sha(data) != rendition.get("pdf_sha256"):
            raise _Failed("PDF 与登记的转换件不一致")
        return
    extra = [
        asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER)) for c in crls
    ]
    end = 0
    lines: dict[str, SignatureLine] = {}
    people = {party: p.name for party, p in letter_parties(document).items()}
    for n, (embedded, record) in enumerate(zip(signatures, records, strict=True)):
        last = n == len(signatures) - 1
        _, hole_start, hole_end, tail = (int(v) for v in embedded.byte_range)
        if n == 0:
            cut = _end_of_rendition(data, rendition, hole_start)
            lines = _signature_lines(data[:cut], people)
        end = hole_end + tail
        # Each signature's revision holds its security store too: what it covers is the
        # whole PDF as registered after it.
        if _sha(data[:end]) != record.get("pdf_sha256"):
            raise _Failed(f"{_who(record)} 签名后的 PDF 与登记的不一致")
        moment = _time(record.get("signing_time"))
        at = _imported_moment(record, records[n - 1] if n else rendition, moment)
        kwargs: dict[str, Any] = {
            "trust_roots": [asn1_certificate(ca_cert)],
            "allow_fetching": False,
            "revocation_mode": "hard-fail",
            "crls": extra,
            "moment": at,
        }
        context = dss.as_validation_context(kwargs) if dss is not None else _plain_context(kwargs)
        try:
            status = await async_validate_pdf_signature(embedded, context)
        except (SignatureValidationError, PdfError, ValueError) as exc:
            raise _Failed(f"{_who(record)} 的 PDF 签名无法验证({type(exc).__name__})") from exc
        problem = _validation_problem(status, last)
        if problem is not None:
            raise _Failed(f"{_who(record)} 的 PDF 签名:{problem}")
        _check_stamp(reader, embedded.field_name, record, lines, people)
        cert_der = status.signing_cert.dump()
        if _sha(cert_der) != record.get("cert_fingerprint"):
            raise _Failed(f"{_who(record)} 的 PDF 签名所用证书与登记的不一致")
        reported = status.signer_reported_dt
        if (
            moment is not None
            and reported is not None
            and abs((reported - moment).total_seconds()) > 1
        ):
            raise _Failed(f"{_who(record)} 的 PDF 签名时间与登记的不一致")
    if end != len(data):
        raise _Failed("最后一个签名之后 PDF 又被追加了内容")


def _signature_lines(rendition: bytes, names: dict[str, str]) -> dict[str, SignatureLine]:
    """Each party's 签名 line on the registered rendition, as signing finds it."""
    try:
        return find_signature_lines(rendition, names, where="PDF")
    except DocgenError as exc:
        raise _Failed(f"无法在登记的 PDF 转换件中找到签名栏,不能核对签章位置:{exc}") from exc


# Annotation flags that keep a widget from being seen or printed (PDF 32000-1, 12.5.3):
# Invisible (1), Hidden (2), NoView (6); Print (3) must be set for the printed copy.
_HIDING_FLAGS = 1 | 2 | 32
_PRINT_FLAG = 4


def _widgets(reader: PdfFileReader, name: str) -> list[tuple[int, generic.DictionaryObject]]:
    """(page index, widget) of every widget annotation of the field ``name`` on any page."""
    found = []
    for page_no in range(int(reader.root["/Pages"]["/Count"])):
        page, _ = reader.find_page_for_modification(page_no)  # type: ignore[no-untyped-call]
        annots = page.get_object().get("/Annots")
        for ref in annots.get_object() if annots is not None else ():
            annot = ref.get_object()
            owner = annot.get("/Parent").get_object() if "/Parent" in annot else annot
            if annot.get("/Subtype") == "/Widget" and str(owner.get("/T")) == name:
                found.append((page_no, annot))
    return found


def _check_stamp(
    reader: PdfFileReader,
    name: str,
    record: dict[str, Any],
    lines: dict[str, SignatureLine],
    names: dict[str, str],
) -> None:
    """Check 5 for one signature: its one widget, shown and printed, exactly at the stamp
    rectangle of its party's 签名 line."""
    party = str(record.get("party"))
    label = PARTY_LABELS.get(party, party)
    line = lines.get(party)
    try:
        widgets = _widgets(reader, name)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _Failed(f"{_who(record)} 的 PDF 签章无法读取({type(exc).__name__})") from exc
    shown = [(page, widget, _rect(widget)) for page, widget in widgets]
    shown = [w for w in shown if w[2][2] > w[2][0] and w[2][3] > w[2][1]]
    if not shown:
        raise _Failed(f"{_who(record)} 的 PDF 签名没有可见签章(页面上看不到这个签名)")
    if line is None or len(widgets) != 1:
        raise _Failed(
            f"{_who(record)} 的 PDF 签名有 {len(widgets)} 个签章,应只在{label}签名栏有 1 个"
        )
    page, widget, (x0, y0, x1, y1) = shown[0]
    flags = int(widget.get("/F", 0))
    if flags & _HIDING_FLAGS or not flags & _PRINT_FLAG:
        raise _Failed(f"{_who(record)} 的 PDF 签章被设为不显示或不打印(/F {flags})")
    wanted = line.stamp_rect()
    if page == line.page and all(
        abs(a - b) <= 0.5 for a, b in zip((x0, y0, x1, y1), wanted, strict=True)
    ):
        return
    where = f"第 {page + 1} 页 [{x0:g} {y0:g} {x1:g} {y1:g}]"
    others = [
        f"落在{PARTY_LABELS.get(p, p)}({names.get(p, '?')})的签名栏"
        for p, other in lines.items()
        if p != party and other.page == page and _overlap(other.stamp_rect(), (x0, y0, x1, y1))
    ]
    raise _Failed(
        f"{_who(record)} 的 PDF 签章不在{label}({names.get(party, '?')})的“签名:”一栏上"
        f"({where},应在第 {line.page + 1} 页 [{' '.join(map(str, wanted))}]"
        + (f";{others[0]}" if others else "")
        + ")"
    )


def _rect(widget: generic.DictionaryObject) -> tuple[float, float, float, float]:
    """A widget's /Rect, normalised (lower left, upper right); empty when it has none."""
    values = [float(v) for v in widget.get("/Rect", ())]
    if len(values) != 4:
        return (0.0, 0.0, 0.0, 0.0)
    a, b, c, d = values
    return (min(a, c), min(b, d), max(a, c), max(b, d))


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _plain_context(kwargs: dict[str, Any]) -> Any:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(**kwargs)


def check_signed_pdf(
    data: bytes | None,
    *,
    document: dict[str, Any],
    rendition: dict[str, Any] | None,
    pdf_signatures: Sequence[dict[str, Any]],
    ca_cert: x509.Certificate,
    crls: Sequence[x509.CertificateRevocationList] = (),
) -> PdfVerdict:
    """Check the PDF rendition ``data`` of the letter registered as ``document``.

    ``rendition`` and ``pdf_signatures`` are the letter's ``rendition`` and ``pdf_signature``
    registry records (in registry order); ``ca_cert`` is the trust root; ``crls`` are CRLs the
    verifier has besides those in the PDF (a newer one revokes what the PDF's own did not).
    """
    if rendition is None:
        return PdfVerdict(False, False, False, "没有登记 PDF 转换件,未核对 PDF")
    if data is None:
        return PdfVerdict(True, False, False, f"找不到登记的 PDF 文件 {rendition.get('path')}")
    records = list(pdf_signatures)
    try:
        expected = _chain(document, rendition, records)
        if _sha(data) != expected:
            raise _Failed("PDF 文件与登记的不一致(签名后被改动或被替换)")
        asyncio.run(_validate(data, records, ca_cert, crls, rendition, document))
    except _Failed as failed:
        return PdfVerdict(True, False, False, str(failed))
    parties = [str(p["party"]) for p in document.get("parties", [])]
    signed = tuple(str(r.get("party")) for r in records)
    missing = [PARTY_LABELS.get(p, p) for p in parties if p not in signed]
    labels = "、".join(PARTY_LABELS.get(p, p) for p in signed)
    if not signed:
        return PdfVerdict(True, True, False, "PDF 与登记的转换件一致,尚无人签署 PDF", signed)
    if missing:
        detail = f"PDF 签名有效({labels}),{'、'.join(missing)}尚未签署 PDF"
        return PdfVerdict(True, True, False, detail, signed)
    return PdfVerdict(
        True, True, True, f"PDF 的 {len(signed)} 个签名均有效({labels}),签后未被改动", signed
    )


def check_letter_pdf(
    data: bytes | None,
    doc_id: str,
    records: Sequence[dict[str, Any]],
    *,
    ca_cert: x509.Certificate,
    crls: Sequence[x509.CertificateRevocationList] = (),
) -> PdfVerdict:
    """:func:`check_signed_pdf` for a letter known by its registry records (a proof bundle's
    entries, or the registry's, in index order): its ``document``, ``rendition`` and
    ``pdf_signature`` records are picked as signing picks them
    (:func:`docgen.signing.pdf_sign.letter_pdf`)."""
    letter = letter_pdf(doc_id, records)
    if letter is None:
        return PdfVerdict(False, False, False, f"没有文书 {doc_id} 的登记记录,未核对 PDF")
    return check_signed_pdf(
        data,
        document=letter.document,
        rendition=letter.rendition,
        pdf_signatures=letter.signatures,
        ca_cert=ca_cert,
        crls=crls,
    )
