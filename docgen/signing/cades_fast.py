"""The verifier's fast path: the common shape of a signature, read in one walk over its DER.

Nearly every signature a verifier meets is one ``DetachedSigner`` wrote: one signer named by
issuer and serial, the four CAdES-BES attributes, the signer certificate first. For those the
full asn1crypto parse and its repeated attribute look-ups cost several times the signature
check itself. :func:`fast_parse` walks the DER once, accepting only canonical DER (definite,
minimal lengths, one-byte tags) in exactly that shape; the parts that recur from signature to
signature (algorithm identifiers, the certificate, the signingCertificateV2 attribute) are
judged once per exact byte string and remembered. Anything else — another shape, a failed
check, a doubt — is not decided here: :class:`NotFast` is raised and the full checklist of
:mod:`docgen.signing.cades_verify` runs from the start instead, so every failure is reported
exactly as before and the fast path only ever reports a signature whose first seven checks the
full parse would pass with the same details.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import algos, cms, core
from cryptography import x509

from docgen.signing.cades_checks import (
    MALFORMED,
    algorithm_parameters_ok,
    certificate_label,
    key_usage_verdict,
)
from docgen.signing.cades_sign import (
    CONTENT_TYPE_DATA,
    CONTEXT_0,
    ENCAP_DATA,
    HASHES,
    MESSAGE_DIGEST_OID,
    OCTET_STRING,
    SEQUENCE,
    SET,
    SIGNED_DATA_OID,
    SIGNING_CERTIFICATE_V2_OID,
    SIGNING_TIME_OID,
    VERSION_1,
    der_tlv,
    digest_of,
    issuer_general_names,
)
from docgen.signing.x509util import common_name_of, fingerprint, person_id_of, serial_hex


class NotFast(Exception):
    """The fast path does not decide this signature; the full parse does."""


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the canonical-DER value at ``pos``."""
    if pos + 2 > end:
        raise NotFast
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise NotFast  # multi-byte tag
    first = buf[pos + 1]
    if first < 0x80:
        start = pos + 2
        length = first
    else:
        count = first & 0x7F
        start = pos + 2 + count
        # 0x80 is the indefinite length (BER); a leading zero or a long form for a short
        # length is not minimal; more than four length bytes is never one of ours.
        if count == 0 or count > 4 or start > end or buf[pos + 2] == 0:
            raise NotFast
        length = int.from_bytes(buf[pos + 2 : start], "big")
        if length < 0x80:
            raise NotFast
    stop = start + length
    if stop > end:
        raise NotFast
    return tag, start, stop


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Every value in ``buf[start:end]``, as (tag, position, start of contents, end)."""
    found = []
    pos = start
    while pos < end:
        tag, begin, stop = _tlv(buf, pos, end)
        found.append((tag, pos, begin, stop))
        pos = stop
    return found


def _shaped(
    buf: bytes, start: int, end: int, tags: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """The values in ``buf[start:end]``, which must have exactly these tags in this order."""
    found = []
    pos = start
    for wanted in tags:
        tag, begin, stop = _tlv(buf, pos, end)
        if tag != wanted:
            raise NotFast
        found.append((tag, pos, begin, stop))
        pos = stop
    if pos != end:
        raise NotFast
    return found


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What the checks need from one signer certificate, found once per exact DER."""

    cert: x509.Certificate
    der: bytes
    issuer_and_serial: bytes  # contents of the issuerAndSerialNumber naming it (raw, from TBS)
    signing_certificate_v2: bytes  # the attribute exactly as DetachedSigner writes it
    common_name: str | None
    person_id: str | None
    fingerprint: str
    serial_hex: str
    detail: str  # the 签名证书 check's detail
    public_key: Any
    key_usage: tuple[bool, str] | None  # None: the check itself must run (and fail as before)


_V3 = b"\xa0\x03\x02\x01\x02"


@functools.lru_cache(maxsize=4096)
def cert_info(der: bytes) -> CertInfo:
    """The facts of a canonical-DER X.509 v3 certificate; raises NotFast for anything else.

    Remembered per exact DER: a signer's certificate recurs in every letter they signed.
    """
    end = len(der)
    tag, start, stop = _tlv(der, 0, end)
    if tag != SEQUENCE or stop != end:
        raise NotFast
    tbs = _shaped(der, start, stop, (SEQUENCE, SEQUENCE, 0x03))[0]
    parts = _children(der, tbs[2], tbs[3])
    # version [0] v3, serial, signature, issuer, validity, subject, subjectPublicKeyInfo and
    # optionally extensions [3]: the fields asn1crypto maps in order, nothing unusual.
    tags = [p[0] for p in parts]
    if tags not in (
        [0xA0, 0x02, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE],
        [0xA0, 0x02, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE, 0xA3],
    ):
        raise NotFast
    if der[parts[0][1] : parts[0][3]] != _V3:
        raise NotFast
    serial_tlv = der[parts[1][1] : parts[1][3]]
    issuer_tlv = der[parts[3][1] : parts[3][3]]
    try:
        cert = x509.load_der_x509_certificate(der)
        # The same fields the full path touches (cryptography parses lazily).
        _ = (cert.subject, cert.issuer, cert.extensions)
        public_key = cert.public_key()
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.serial_number)
        common_name, person_id = common_name_of(cert), person_id_of(cert)
        issuer_der = cert.issuer.public_bytes()
    except (*MALFORMED, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise NotFast from exc
    try:
        key_usage: tuple[bool, str] | None = key_usage_verdict(cert)
    except MALFORMED:
        key_usage = None
    serial_der = bytes(core.Integer(cert.serial_number).dump())
    # signingCertificateV2 as DetachedSigner encodes it (the same steps): any signature whose
    # attribute has exactly these bytes names this certificate by its SHA-256 hash, issuer
    # and serial, which is what the full check accepts.
    issuer_serial = der_tlv(SEQUENCE, issuer_general_names(issuer_der) + serial_der)
    ess_cert_id_v2 = der_tlv(
        SEQUENCE, der_tlv(OCTET_STRING, digest_of("sha256", der)) + issuer_serial
    )
    signing_certificate = der_tlv(
        SEQUENCE,
        SIGNING_CERTIFICATE_V2_OID
        + der_tlv(SET, der_tlv(SEQUENCE, der_tlv(SEQUENCE, ess_cert_id_v2))),
    )
    serial = serial_hex(cert)
    return CertInfo(
        cert=cert,
        der=der,
        issuer_and_serial=issuer_tlv + serial_tlv,
        signing_certificate_v2=signing_certificate,
        common_name=common_name,
        person_id=person_id,
        fingerprint=fingerprint(cert),
        serial_hex=serial,
        detail=certificate_label(cert),
        public_key=public_key,
        key_usage=key_usage,
    )


@functools.lru_cache(maxsize=64)
def accepted_digest(digest_algorithm: bytes, digest_algorithms: bytes) -> str | None:
    """The signer's digest algorithm when the full 摘要算法 check passes on these exact bytes."""
    try:
        algorithm = algos.DigestAlgorithm.load(digest_algorithm, strict=True)
        listed = list(cms.DigestAlgorithms.load(digest_algorithms, strict=True))
        name = str(algorithm["algorithm"].native)
        if name not in HASHES or not algorithm_parameters_ok(algorithm):
            return None
        if name not in [a["algorithm"].native for a in listed]:
            return None
        if not all(algorithm_parameters_ok(a) for a in listed):
            return None
    except MALFORMED:
        return None
    return name


@functools.lru_cache(maxsize=64)
def signature_algorithm(encoded: bytes) -> tuple[str, bool] | None:
    """(name, parameters acceptable) of a signatureAlgorithm, as the full check reads them."""
    try:
        algorithm = algos.SignedDigestAlgorithm.load(encoded, strict=True)
        return str(algorithm["algorithm"].native), algorithm_parameters_ok(algorithm)
    except MALFORMED:
        return None


def _fast_time(tag: int, text: bytes) -> datetime:
    """signingTime as UTCTime ``YYMMDDHHMMSSZ`` or GeneralizedTime ``YYYYMMDDHHMMSSZ`` only
    (what asn1crypto reads the same way); anything else goes to the full parse."""
    if tag == 0x17 and len(text) == 13 and text[12] == 0x5A and text[:12].isdigit():
        year = int(text[:2])
        year += 2000 if year < 50 else 1900
        rest = text[2:12]
    elif tag == 0x18 and len(text) == 15 and text[14] == 0x5A and text[:14].isdigit():
        year = int(text[:4])
        rest = text[4:14]
        if year == 0:
            raise NotFast
    else:
        raise NotFast
    try:
        return datetime(
            year,
            int(rest[0:2]),
            int(rest[2:4]),
            int(rest[4:6]),
            int(rest[6:8]),
            int(rest[8:10]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise NotFast from exc


@dataclass(frozen=True, slots=True)
class Parsed:
    """The parts of a signature in the common shape, as raw bytes."""

    digest_algorithms: bytes
    first_certificate: bytes
    sid: bytes  # contents of issuerAndSerialNumber
    digest_algorithm: bytes
    to_be_signed: bytes  # the signed attributes as a SET OF
    signature_algorithm: bytes
    signature: bytes
    message_digest: bytes
    signing_time: datetime
    signing_certificate_v2: bytes


_ATTRIBUTE_OIDS = (MESSAGE_DIGEST_OID, SIGNING_TIME_OID, SIGNING_CERTIFICATE_V2_OID)


def fast_parse(p7s: bytes) -> Parsed:
    """The common shape, or NotFast."""
    end = len(p7s)
    tag, start, stop = _tlv(p7s, 0, end)
    if tag != SEQUENCE or stop != end:
        raise NotFast  # strict: nothing after the ContentInfo
    oid, content = _shaped(p7s, start, stop, (0x06, CONTEXT_0))
    if p7s[oid[1] : oid[3]] != SIGNED_DATA_OID:
        raise NotFast
    (signed_data,) = _shaped(p7s, content[2], content[3], (SEQUENCE,))
    version, digests, encap, certificates, signer_infos = _shaped(
        p7s, signed_data[2], signed_data[3], (0x02, SET, SEQUENCE, CONTEXT_0, SET)
    )
    if p7s[version[1] : version[3]] != VERSION_1 or p7s[encap[1] : encap[3]] != ENCAP_DATA:
        raise NotFast
    certs = _children(p7s, certificates[2], certificates[3])
    if not certs or any(c[0] != SEQUENCE for c in certs):
        raise NotFast
    (signer_info,) = _shaped(p7s, signer_infos[2], signer_infos[3], (SEQUENCE,))
    si_version, sid, digest, attrs, sig_alg, signature = _shaped(
        p7s,
        signer_info[2],
        signer_info[3],
        (0x02, SEQUENCE, SEQUENCE, CONTEXT_0, SEQUENCE, OCTET_STRING),
    )
    if p7s[si_version[1] : si_version[3]] != VERSION_1:
        raise NotFast
    found: dict[bytes, tuple[int, int, int, int]] = {}  # attribute type → its values (SET)
    signed: dict[bytes, bytes] = {}  # the same, as the attribute's encoding
    content_type = False
    for attribute in _children(p7s, attrs[2], attrs[3]):
        if attribute[0] != SEQUENCE:
            raise NotFast
        encoded = p7s[attribute[1] : attribute[3]]
        if encoded == CONTENT_TYPE_DATA and not content_type:
            content_type = True
            continue
        kind, values = _shaped(p7s, attribute[2], attribute[3], (0x06, SET))
        name = p7s[kind[1] : kind[3]]
        if name not in _ATTRIBUTE_OIDS or name in found:
            raise NotFast
        found[name] = values
        signed[name] = encoded
    if not content_type or len(found) != len(_ATTRIBUTE_OIDS):
        raise NotFast
    digest_values = found[MESSAGE_DIGEST_OID]
    (octets,) = _shaped(p7s, digest_values[2], digest_values[3], (OCTET_STRING,))
    time_values = found[SIGNING_TIME_OID]
    moments = _children(p7s, time_values[2], time_values[3])
    if len(moments) != 1:
        raise NotFast  # no value or several: the full parse reports it
    moment = moments[0]
    first = certs[0]
    return Parsed(
        digest_algorithms=p7s[digests[1] : digests[3]],
        first_certificate=p7s[first[1] : first[3]],
        sid=p7s[sid[2] : sid[3]],
        digest_algorithm=p7s[digest[1] : digest[3]],
        to_be_signed=b"\x31" + p7s[attrs[1] + 1 : attrs[3]],
        signature_algorithm=p7s[sig_alg[1] : sig_alg[3]],
        signature=p7s[signature[2] : signature[3]],
        message_digest=p7s[octets[2] : octets[3]],
        signing_time=_fast_time(moment[0], p7s[moment[2] : moment[3]]),
        signing_certificate_v2=signed[SIGNING_CERTIFICATE_V2_OID],
    )
