"""``sign import`` of a signed PDF: the person's PAdES signature, made in a copy of the workspace,
over the letter's registered PDF, brought back and registered as ``sign --as`` would have.

The file is accepted only when it is exactly the letter's current registered PDF (the rendition,
or the PDF the other party signed) with one new incremental signature appended, and that
signature passes every check ``docgen verify`` makes of a registered PDF signature
(:func:`docgen.signing.pades_check.check_signed_pdf`, run with the would-be record appended to
the registered ones: chain, field, coverage of the whole file, pyHanko's validation against this
CA and the workspace CRL, the stamp on the party's own line, the certificate and signing time
the record names). Before that, as for a ``.p7s``: the signer is a party who has not signed this
PDF, the certificate is registered as theirs, not revoked now (registry time) and valid now, and
the claimed signing time lies between the registration of the PDF it signs and now + tolerance.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from docgen.signing.pades import field_name, letter_parties
from docgen.signing.pades_check import check_signed_pdf
from docgen.signing.pdf_sign import LetterPdf
from docgen.signing.x509util import fingerprint, iso_z, person_id_of, serial_hex

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

MAX_PDF_BYTES = 64 << 20  # a letter's PDF is a few hundred KB


class ImportRefused(Exception):
    """Why a file (a .p7s or a signed PDF) cannot be imported (Chinese), with what was learned
    of it."""

    def __init__(self, reason: str, doc_id: str | None = None, person: str | None = None):
        super().__init__(reason)
        self.reason, self.doc_id, self.person = reason, doc_id, person


@dataclass(frozen=True)
class PdfCandidate:
    """A checked PDF: its letter, signer, party and the ``pdf_signature`` record to register."""

    letter: LetterPdf
    signer: str
    party: str
    data: bytes
    record: dict[str, Any]


def find_base(data: bytes, letters: list[LetterPdf]) -> LetterPdf:
    """The letter whose current registered PDF ``data`` extends (strictly: something appended)."""
    hashed: dict[int, str] = {}
    for letter in letters:
        size, sha = letter.current_size, letter.current_sha256
        if size is None or sha is None or size >= len(data):
            continue
        if size not in hashed:
            hashed[size] = hashlib.sha256(data[:size]).hexdigest()
        if hashed[size] == sha:
            return letter
    raise ImportRefused(
        "PDF 不是在登记的某份文书 PDF(转换件或对方已签的 PDF)之后追加签名而成"
        "(PDF 被改动过、不是本单位的文书,或签名时用的不是最新的 PDF)"
    )


def _new_signature(data: bytes, doc_id: str) -> tuple[x509.Certificate, datetime, str]:
    """The last embedded signature's certificate, claimed time and field name."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
        if not signatures:
            raise ImportRefused("PDF 中没有签名", doc_id)
        last = signatures[-1]
        cert = x509.load_der_x509_certificate(last.signer_cert.dump())
        claimed = last.self_reported_timestamp
        field = str(last.field_name)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ImportRefused(f"PDF 中的签名无法读取({type(exc).__name__})", doc_id) from exc
    if claimed is None:
        raise ImportRefused("PDF 签名没有签名时间", doc_id)
    return cert, claimed, field


def check_pdf(
    data: bytes,
    letter: LetterPdf,
    *,
    now: datetime,
    tolerance: timedelta,
    ca_cert: x509.Certificate,
    crl: x509.CertificateRevocationList,
    certificates: set[tuple[str, str]],
    revoked: Any,
) -> PdfCandidate:
    """Every check of the module docstring on ``data`` extending ``letter``'s current PDF.
    ``revoked(serial)`` is the registered revocation of a serial or None."""
    doc_id = letter.doc_id
    assert letter.rendition is not None
    cert, claimed, field = _new_signature(data, doc_id)
    signer = person_id_of(cert)
    parties = {p.person_id: p.party for p in letter_parties(letter.document).values()}
    if signer is None or signer not in parties:
        raise ImportRefused(f"PDF 签名人 {signer} 不是文书 {doc_id} 的签订方", doc_id, signer)
    party = parties[signer]
    if field != field_name(party):
        raise ImportRefused(f"PDF 签名域 {field} 不是{signer}应签的签名域", doc_id, signer)
    if letter.signed_by(signer):
        raise ImportRefused(f"{signer} 已签署过文书 {doc_id} 的 PDF,不重复登记", doc_id, signer)
    cert_fp = fingerprint(cert)
    if (signer, cert_fp) not in certificates:
        raise ImportRefused(f"PDF 签名证书未在登记簿中登记为 {signer} 的证书", doc_id, signer)
    hit = revoked(cert.serial_number)
    listed = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if hit is not None or listed is not None:
        raise ImportRefused("PDF 签名证书已吊销,不能登记", doc_id, signer)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ImportRefused(f"PDF 签名证书在登记时({iso_z(now)})不在有效期内", doc_id, signer)
    # Not before the PDF it signs was registered (the rendition, or the other party's PDF).
    base = letter.signatures[-1] if letter.signatures else letter.rendition
    base_time = datetime.fromisoformat(str(base["recorded_at"]).replace("Z", "+00:00"))
    if claimed < base_time:
        raise ImportRefused(
            f"PDF 签名时间 {iso_z(claimed)} 早于所签 PDF 的登记时间 {iso_z(base_time)}",
            doc_id,
            signer,
        )
    if claimed > now + tolerance:
        raise ImportRefused(
            f"PDF 签名时间 {iso_z(claimed)} 晚于登记(导入)时间 {iso_z(now)}"
            "(请检查签名所用电脑的时钟)",
            doc_id,
            signer,
        )
    record = {
        "type": "pdf_signature",
        "doc_id": doc_id,
        "signer": signer,
        "party": party,
        "cert_fingerprint": cert_fp,
        "cert_serial": serial_hex(cert),
        "field": field,
        "path": str(letter.rendition["path"]),
        "previous_pdf_sha256": letter.current_sha256,
        "pdf_sha256": hashlib.sha256(data).hexdigest(),
        "pdf_size": len(data),
        "signing_time": iso_z(claimed),
        "source": "import",
    }
    verdict = check_signed_pdf(
        data,
        document=letter.document,
        rendition=letter.rendition,
        pdf_signatures=[*letter.signatures, record],
        ca_cert=ca_cert,
        crls=[crl],
    )
    if not verdict.ok:
        raise ImportRefused(f"PDF 签名未通过核验:{verdict.detail}", doc_id, signer)
    return PdfCandidate(letter, signer, party, data, record)
