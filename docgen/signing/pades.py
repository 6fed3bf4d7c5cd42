"""PAdES signatures on a letter's PDF rendition, each with a visible stamp on its party's 签名 line.

Why: the .docx stays unchanged (its signatures are detached .p7s files), so a signed letter still
shows blank 签名 lines. Its PDF rendition is signed as well, the way every e-signature product
offices know does it: each party adds an incremental PAdES baseline signature (subfilter
``ETSI.CAdES.detached``), in either order, whose appearance — name, 职务, Beijing time, the
certificate's serial and, when registered, the handwritten signature — sits on that party's own
签名 line (:mod:`docgen.signing.pdf_layout`, :mod:`docgen.signing.stamp`). The institution's CA
certificate and the CRL in force go into the document security store (PAdES-B-LT), so any
reader can validate the PDF offline.

The key is docgen's :class:`~docgen.signing.signer.Signer` (opened and checked by
:func:`~docgen.signing.signer.load_signer`); the private key stays a ``cryptography`` object and
is never serialised. Times come from the caller (``now``), never from the clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning

from docgen.core.errors import Location, ValidationError
from docgen.signing.pdf_layout import PARTY_LABELS, SignatureLine, find_signature_lines
from docgen.signing.signer import Signer
from docgen.signing.stamp import StampFont, StampText, signature_image, stamp_font, stamp_style
from docgen.signing.x509util import fingerprint, serial_hex

with warnings.catch_warnings():
    # pyHanko imports cryptography's DSA classes, which warn at import; docgen never uses DSA.
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers import pdf_cms
    from pyhanko.sign.signers.pdf_signer import (
        DSSContentSettings,
        PdfSignatureMetadata,
        PdfSigner,
        SigDSSPlacementPreference,
    )
    from pyhanko.stamp import TextStampStyle
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.errors import PathValidationError
    from pyhanko_certvalidator.registry import SimpleCertificateStore

# pyHanko logs in English (e.g. that fetching revocation data is off, as docgen wants): keep it
# out of what users read; failures surface as exceptions and become Chinese messages.
logging.getLogger("pyhanko").addHandler(logging.NullHandler())
logging.getLogger("pyhanko").propagate = False
logging.getLogger("pyhanko_certvalidator").addHandler(logging.NullHandler())
logging.getLogger("pyhanko_certvalidator").propagate = False

SUBFILTER = fields.SigSeedSubFilter.PADES
DIGEST = "sha256"


def field_name(party: str) -> str:
    """The signature field of a party: one per party, so a second signature by the same party
    cannot be added next to the first."""
    return f"docgen-{party}"


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _KeySigner(pdf_cms.Signer):
    """A pyHanko signer over docgen's key object (ECDSA or RSA PKCS#1 v1.5, SHA-256)."""

    def __init__(self, signer: Signer, ca_cert: x509.Certificate) -> None:
        self._key = signer.key
        super().__init__(
            signing_cert=asn1_certificate(signer.cert),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [asn1_certificate(ca_cert)]
            ),
            embed_roots=True,
        )

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if digest_algorithm != DIGEST:
            raise SigningError(f"unexpected digest {digest_algorithm}")
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        raise SigningError(f"unsupported key {type(self._key).__name__}")


@dataclass(frozen=True)
class PdfParty:
    """A signer's place in a letter: party (superior/subordinate), id, name and 职务."""

    party: str
    person_id: str
    name: str
    title: str


def letter_parties(document: dict[str, Any]) -> dict[str, PdfParty]:
    """The parties of a ``document`` registry record, by party."""
    return {
        str(p["party"]): PdfParty(
            str(p["party"]), str(p["id"]), str(p["name"]), str(p.get("title", ""))
        )
        for p in document["parties"]
    }


@dataclass(frozen=True)
class PadesSetup:
    """What every PDF signature of one run shares: the CA certificate and the CRL in force (both
    go into the PDF's security store), where handwritten signatures are, and the stamp font."""

    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList
    people_dir: Path
    font: StampFont | None = None

    def stamp_font(self) -> StampFont:
        return self.font if self.font is not None else stamp_font()


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    field: str
    line: SignatureLine | None  # None: signed without a stamp


def existing_signature_fields(pdf: bytes, *, where: str) -> list[str]:
    """The names of the signature fields already signed in ``pdf``, in signing order."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = sorted(reader.embedded_signatures, key=lambda sig: sig.signed_revision)
        return [str(sig.field_name) for sig in signatures]
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            f"无法读取 PDF({type(exc).__name__}),不能签名",
            location=Location(file=where),
            hint="请重新生成 PDF:docgen pdf --year 年度",
        ) from exc


def _validation_context(setup: PadesSetup, now: datetime) -> ValidationContext:
    return ValidationContext(
        trust_roots=[asn1_certificate(setup.ca_cert)],
        crls=[setup.crl.public_bytes(serialization.Encoding.DER)],
        allow_fetching=False,
        moment=now,
        revocation_mode="hard-fail",
    )


def _reserved(signer: Signer, ca_cert: x509.Certificate) -> int:
    """Room (hex digits) for the CMS: both certificates, the signature and attributes, doubled
    as hex, with slack. Given explicitly, pyHanko does not sign a dummy to measure."""
    ders = len(signer.cert.public_bytes(serialization.Encoding.DER)) + len(
        ca_cert.public_bytes(serialization.Encoding.DER)
    )
    return 2 * (ders + 4096)


def sign_pdf(
    pdf: bytes,
    signer: Signer,
    document: dict[str, Any],
    setup: PadesSetup,
    *,
    now: datetime,
    where: str,
    line: SignatureLine | None = None,
    visible: bool = True,
) -> SignedPdf:
    """Add ``signer``'s PAdES-B-LT signature to ``pdf`` (the rendition of ``document``, a
    ``document`` registry record), its stamp on their 签名 line. Returns the new file's bytes.

    Refused with a Chinese message (nothing is written here anyway): a signer who is not a party,
    a party that already signed this PDF, a signature field of someone else, no 签名 line found
    (see :func:`~docgen.signing.pdf_layout.find_signature_lines`), a certificate pyHanko cannot
    validate against the CA and the CRL at ``now``. ``visible=False`` (for the benchmark's
    comparison) makes the same signature without a stamp.
    """
    parties = letter_parties(document)
    mine = next((p for p in parties.values() if p.person_id == signer.person_id), None)
    if mine is None:
        raise ValidationError(
            f"{signer.person_id} 不是文书 {document['doc_id']} 的签订方,不能签署其 PDF",
            location=Location(file=where),
        )
    name = field_name(mine.party)
    present = existing_signature_fields(pdf, where=where)
    allowed = {field_name(p) for p in PARTY_LABELS}
    if name in present:
        raise ValidationError(
            f"PDF 中已有{PARTY_LABELS[mine.party]}({mine.name})的签名,不能再签",
            location=Location(file=where),
        )
    strangers = [f for f in present if f not in allowed]
    if strangers:
        raise ValidationError(
            f"PDF 中有不属于签订双方的签名({'、'.join(strangers)}),拒绝签名",
            location=Location(file=where),
            hint="请重新生成 PDF:docgen pdf --year 年度",
        )
    if line is None and visible:
        names = {party: p.name for party, p in parties.items()}
        line = find_signature_lines(pdf, names, where=where)[mine.party]
    style: TextStampStyle | None = None
    params: dict[str, str] = {}
    spec = fields.SigFieldSpec(name)
    if line is not None:
        box = line.stamp_box()
        text = StampText(mine.name, mine.title, now, serial_hex(signer.cert))
        image = signature_image(setup.people_dir, signer.person_id)
        style, params = stamp_style(
            text, box.width, box.height, image=image, font=setup.stamp_font()
        )
        spec = fields.SigFieldSpec(name, on_page=line.page, box=line.stamp_rect())
    meta = PdfSignatureMetadata(
        field_name=name,
        subfilter=SUBFILTER,
        md_algorithm=DIGEST,
        embed_validation_info=True,
        validation_context=_validation_context(setup, now),
        name=mine.name,
        # The CA certificate and the CRL go into the security store in the signature's own
        # revision, before it is signed: the signature then covers the whole file, and nothing
        # may follow it (docgen.verify.pdf_check refuses anything appended).
        dss_settings=DSSContentSettings(
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
        ),
    )
    pdf_signer = PdfSigner(
        meta, _KeySigner(signer, setup.ca_cert), stamp_style=style, new_field_spec=spec
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = asyncio.run(_sign(pdf_signer, writer, now, _reserved(signer, setup.ca_cert), params))
    except PathValidationError as exc:
        raise ValidationError(
            f"证书(序列号 {serial_hex(signer.cert)})不能由本单位根证书和吊销列表验证,拒绝签名 PDF",
            location=Location(file=where),
            hint="请检查证书和吊销列表:docgen keys list",
        ) from exc
    except (PdfError, SigningError, ValueError) as exc:
        raise ValidationError(
            f"PDF 签名失败({type(exc).__name__}: {exc})",
            location=Location(file=where),
            hint="请重新生成 PDF:docgen pdf --year 年度",
        ) from exc
    return SignedPdf(out, name, line)


async def _sign(
    pdf_signer: PdfSigner,
    writer: IncrementalPdfFileWriter,
    now: datetime,
    reserved: int,
    params: dict[str, str],
) -> bytes:
    """pyHanko's ``async_sign_pdf``, with the signing time set to ``now`` (it reads the clock)
    and the room for the CMS given (it would sign a dummy to measure it)."""
    session = pdf_signer.init_signing_session(writer)
    session.system_time = now
    validation = await session.perform_presign_validation(writer)
    tbs = session.prepare_tbs_document(
        validation_info=validation, bytes_reserved=reserved, appearance_text_params=params
    )
    prepared, output = tbs.digest_tbs_document(output=io.BytesIO())
    post = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=pdf_cms.PdfCMSSignedAttributes(
            signing_time=now,
            adobe_revinfo_attr=None,
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
        ),
    )
    await post.post_signature_processing(output)
    output.seek(0)
    data: bytes = output.read()
    return data


def pdf_signature_record(
    doc_id: str,
    signer: Signer,
    party: str,
    *,
    pdf_path: str,
    previous_sha256: str,
    signed: bytes,
    field: str,
    signing_time: str,
) -> dict[str, Any]:
    """The registry record of one PDF signature: who, which certificate, the PDF's SHA-256
    before (the rendition, or the PDF the other party signed) and after signing."""
    return {
        "type": "pdf_signature",
        "doc_id": doc_id,
        "signer": signer.person_id,
        "party": party,
        "cert_fingerprint": fingerprint(signer.cert),
        "cert_serial": serial_hex(signer.cert),
        "field": field,
        "path": pdf_path,
        "previous_pdf_sha256": previous_sha256,
        "pdf_sha256": hashlib.sha256(signed).hexdigest(),
        "pdf_size": len(signed),
        "signing_time": signing_time,
    }
