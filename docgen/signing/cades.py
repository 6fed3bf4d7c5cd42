"""Detached CAdES-BES signatures: CMS SignedData (DER) over the exact bytes of a file.

``cryptography`` makes and checks the raw signatures; ``asn1crypto`` builds and parses the CMS
structure (RFC 5652) and the ESS signing-certificate-v2 attribute (RFC 5035). The verifier is a
checklist: every check is run that can be run, each failure is listed, and a bad signature never
raises — only a programming error does.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asn1crypto.tsp  # noqa: F401  (registers the signing_certificate_v2 attribute with cms)
from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from docgen.signing.pki import (
    RevocationReason,
    SigningKey,
    common_name_of,
    crl_issued_by,
    fingerprint,
    iso_z,
    issued_by,
    person_id_of,
    revocation_of,
    revocation_reason,
    same_public_key,
    serial_hex,
    utc,
    validity_problem,
)

MAX_SIGNATURE_BYTES = 1 << 20
DEFAULT_TOLERANCE = timedelta(minutes=10)

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_ECDSA_ALGOS = {"sha256_ecdsa": "sha256", "sha384_ecdsa": "sha384", "sha512_ecdsa": "sha512"}
_RSA_ALGOS = {"sha256_rsa": "sha256", "sha384_rsa": "sha384", "sha512_rsa": "sha512"}

# Names of the checks, in the order they are reported.
CHECK_STRUCTURE = "签名文件结构"
CHECK_CONTENT_TYPE = "内容类型"
CHECK_DIGEST_ALGORITHM = "摘要算法"
CHECK_MESSAGE_DIGEST = "文件摘要"
CHECK_CERTIFICATE = "签名证书"
CHECK_SIGNATURE = "签名值"
CHECK_SIGNING_CERTIFICATE = "签名证书属性"
CHECK_CHAIN = "证书链"
CHECK_VALIDITY = "证书有效期"
CHECK_KEY_USAGE = "密钥用途"
CHECK_REVOCATION = "吊销状态"
CHECK_SIGNING_TIME = "签名时间"
CHECK_SIGNER = "签名人"

# Details of passed checks that do not depend on the signature (shared by both parsing paths).
_STRUCTURE_OK = "CMS SignedData,分离式,一个签名人"
_CONTENT_TYPE_OK = "id-data"
_SIGNING_CERTIFICATE_OK = "与嵌入的签名证书一致"


# ---------------------------------------------------------------------------------------------
# signing


def _digest(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


# The last file digested while verifying, by identity: a letter's signatures (and its registry
# hash) are all checked against the same bytes object. The object is kept, so its id cannot be
# reused meanwhile; bytes never change.
_last_file_digest: tuple[bytes, str, bytes] | None = None


def file_digest(name: str, data: bytes) -> bytes:
    """``hashlib.new(name, data).digest()``, computed once for the same ``data`` object."""
    global _last_file_digest
    last = _last_file_digest
    if last is not None and last[0] is data and last[1] == name:
        return last[2]
    digest = _digest(name, data)
    _last_file_digest = (data, name, digest)
    return digest


def _signing_time(moment: datetime) -> cms.Time:
    moment = utc(moment).replace(microsecond=0)
    if 1950 <= moment.year < 2050:
        return cms.Time({"utc_time": moment})
    return cms.Time({"generalized_time": moment})


def sign_detached(
    data: bytes,
    key: SigningKey,
    cert: x509.Certificate,
    *,
    signing_time: datetime,
    chain: Sequence[x509.Certificate] = (),
    digest_algorithm: str = "sha256",
) -> bytes:
    """A detached CAdES-BES SignedData (DER) over ``data``, signer certificate embedded.

    Signed attributes: contentType, messageDigest, signingTime (seconds precision) and ESS
    signingCertificateV2 (SHA-256 hash of the certificate plus issuer and serial).
    """
    return DetachedSigner(key, cert, chain=chain, digest_algorithm=digest_algorithm).sign(
        data, signing_time=signing_time
    )


_SEQUENCE = 0x30
_SET = 0x31
_OCTET_STRING = 0x04


def _der(tag: int, content: bytes) -> bytes:
    """One DER tag-length-value."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


_CONTEXT_0 = 0xA0
_VERSION_1 = bytes(core.Integer(1).dump())
_SIGNED_DATA_OID = bytes(cms.ContentType("signed_data").dump())
_ENCAP_DATA = bytes(cms.EncapsulatedContentInfo({"content_type": "data"}).dump())
_MESSAGE_DIGEST_OID = bytes(cms.CMSAttributeType("message_digest").dump())
_SIGNING_TIME_OID = bytes(cms.CMSAttributeType("signing_time").dump())
_SIGNING_CERTIFICATE_V2_OID = bytes(cms.CMSAttributeType("signing_certificate_v2").dump())
_CONTENT_TYPE_DATA = bytes(cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump())


@functools.lru_cache(maxsize=8)
def _time_der(moment: datetime) -> bytes:
    return bytes(_signing_time(moment).dump())


@functools.lru_cache(maxsize=8)
def _digest_algorithm_der(digest_algorithm: str) -> bytes:
    return bytes(algos.DigestAlgorithm({"algorithm": digest_algorithm}).dump())


@functools.lru_cache(maxsize=8)
def _signature_algorithm_der(digest_algorithm: str, ecdsa: bool) -> bytes:
    if ecdsa:
        algorithm = algos.SignedDigestAlgorithm({"algorithm": f"{digest_algorithm}_ecdsa"})
    else:
        algorithm = algos.SignedDigestAlgorithm(
            {"algorithm": "rsassa_pkcs1v15", "parameters": core.Null()}
        )
    return bytes(algorithm.dump())


@functools.lru_cache(maxsize=16)
def _issuer_general_names(issuer_der: bytes) -> bytes:
    """GeneralNames holding one directoryName: the same for every certificate of one CA, and
    costly to encode with asn1crypto (it re-encodes the name under the explicit tag)."""
    names = asn1_x509.GeneralNames(
        [asn1_x509.GeneralName({"directory_name": asn1_x509.Name.load(issuer_der)})]
    )
    return bytes(names.dump())


class DetachedSigner:
    """Signs many files with one key: everything that does not depend on the file is encoded once.

    Building the certificate, issuer-and-serial and signingCertificateV2 structures with
    asn1crypto costs far more than the signature itself; for bulk signing they are built once
    per signer and reused (as already-encoded values), so each further signature only encodes
    its messageDigest and signingTime.
    """

    def __init__(
        self,
        key: SigningKey,
        cert: x509.Certificate,
        *,
        chain: Sequence[x509.Certificate] = (),
        digest_algorithm: str = "sha256",
    ) -> None:
        if digest_algorithm not in _HASHES:
            raise ValueError(f"unsupported digest algorithm {digest_algorithm!r}")
        if not same_public_key(key, cert):
            raise ValueError("the private key does not belong to the certificate")
        self._key = key
        self._digest_algorithm = digest_algorithm
        cert_der = cert.public_bytes(serialization.Encoding.DER)
        issuer_der = cert.issuer.public_bytes()
        serial_der = bytes(core.Integer(cert.serial_number).dump())
        # The per-signer structures are DER-encoded directly from their already-encoded parts
        # (issuer name, serial, certificate hash): asn1crypto would re-encode the issuer name
        # field by field, which cost more than ten signatures. The encodings equal asn1crypto's
        # byte for byte (tests/test_bulk_scale.py compares them).
        self._sid = _der(_SEQUENCE, issuer_der + serial_der)  # issuerAndSerialNumber
        issuer_serial = _der(_SEQUENCE, _issuer_general_names(issuer_der) + serial_der)
        ess_cert_id_v2 = _der(
            _SEQUENCE, _der(_OCTET_STRING, _digest("sha256", cert_der)) + issuer_serial
        )
        signing_certificate = _der(_SEQUENCE, _der(_SEQUENCE, ess_cert_id_v2))
        self._signing_certificate = _der(
            _SEQUENCE, _SIGNING_CERTIFICATE_V2_OID + _der(_SET, signing_certificate)
        )
        self._content_type = _CONTENT_TYPE_DATA
        self._digest_algo = _digest_algorithm_der(digest_algorithm)
        self._signature_algorithm = _signature_algorithm_der(
            digest_algorithm, isinstance(key, ec.EllipticCurvePrivateKey)
        )
        self._certificates = [
            cert_der,
            *(c.public_bytes(serialization.Encoding.DER) for c in chain),
        ]

    def sign(self, data: bytes, *, signing_time: datetime) -> bytes:
        """A detached CAdES-BES SignedData (DER) over ``data``.

        Encoded directly from the parts encoded once per signer; every SET OF is sorted as DER
        demands. The bytes equal what asn1crypto builds from the same values
        (tests/test_bulk_scale.py compares them).
        """
        digest_algorithm = self._digest_algorithm
        message_digest = _der(_OCTET_STRING, _digest(digest_algorithm, data))
        attributes = b"".join(
            sorted(
                (
                    self._content_type,
                    _der(_SEQUENCE, _MESSAGE_DIGEST_OID + _der(_SET, message_digest)),
                    _der(_SEQUENCE, _SIGNING_TIME_OID + _der(_SET, _time_der(signing_time))),
                    self._signing_certificate,
                )
            )
        )
        to_be_signed = _der(_SET, attributes)
        hash_algorithm = _HASHES[digest_algorithm]()
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            signature = key.sign(to_be_signed, ec.ECDSA(hash_algorithm))
        else:
            signature = key.sign(to_be_signed, padding.PKCS1v15(), hash_algorithm)
        signer_info = _der(
            _SEQUENCE,
            _VERSION_1
            + self._sid
            + self._digest_algo
            + _der(_CONTEXT_0, attributes)  # signedAttrs [0] IMPLICIT SET OF
            + self._signature_algorithm
            + _der(_OCTET_STRING, signature),
        )
        signed_data = _der(
            _SEQUENCE,
            _VERSION_1
            + _der(_SET, self._digest_algo)
            + _ENCAP_DATA
            + _der(_CONTEXT_0, b"".join(sorted(self._certificates)))  # [0] IMPLICIT SET OF
            + _der(_SET, signer_info),
        )
        return _der(_SEQUENCE, _SIGNED_DATA_OID + _der(_CONTEXT_0, signed_data))


# ---------------------------------------------------------------------------------------------
# verification results


@dataclass(frozen=True)
class Check:
    name: str  # Chinese, e.g. 文件摘要
    ok: bool
    detail: str

    def describe(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}:{self.detail}"


@dataclass(frozen=True)
class SignatureStatus:
    valid: bool
    signer_name: str | None
    signer_id: str | None
    signing_time: datetime | None
    cert_fingerprint: str | None
    cert_serial: str | None
    checks: tuple[Check, ...]
    failures: tuple[str, ...]
    certificate: x509.Certificate | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        head = "签名有效" if self.valid else "签名无效"
        who = self.signer_name or "未知签名人"
        if self.signer_id:
            who = f"{who}({self.signer_id})"
        return "\n".join([f"{head}:{who}", *(c.describe() for c in self.checks)])


class _Failed(Exception):
    """One check failed; ``detail`` says why, in Chinese."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# Errors asn1crypto or cryptography raise on malformed input, turned into a failed check.
_MALFORMED = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
)


@dataclass
class _State:
    """What the earlier checks found, for the later ones."""

    signer_info: cms.SignerInfo | None = None
    signed_data: cms.SignedData | None = None
    attributes: dict[str, list[Any]] = field(default_factory=dict)
    digest_name: str | None = None
    cert: x509.Certificate | None = None
    cert_der: bytes | None = None
    signing_time: datetime | None = None
    cert_info: _CertInfo | None = None


def _digest_label(name: str) -> str:
    return name.upper().replace("SHA", "SHA-")


def _message_digest_label(actual: bytes) -> str:
    return f"与文件一致({actual.hex()[:16]}…)"


def _algorithm_parameters_ok(
    algorithm: algos.DigestAlgorithm | algos.SignedDigestAlgorithm,
) -> bool:
    params = algorithm["parameters"]
    return isinstance(params, core.Void | core.Null)


def _attribute_map(signed_attrs: cms.CMSAttributes) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for attribute in signed_attrs:
        name = attribute["type"].native
        if name in found:
            raise _Failed(f"签名属性 {name} 出现了不止一次")
        found[name] = list(attribute["values"])
    return found


def _single(attributes: Mapping[str, list[Any]], name: str, label: str) -> Any:
    values = attributes.get(name)
    if values is None:
        raise _Failed(f"缺少签名属性 {label}")
    if len(values) != 1:
        raise _Failed(f"签名属性 {label} 应恰有一个值")
    return values[0]


def _verify_signature(
    public: Any,
    algo_name: str,
    parameters_ok: Callable[[], bool],
    digest_name: str | None,
    signature: bytes,
    to_be_signed: bytes,
) -> str:
    """Check the signature value over the signed attributes; raises _Failed with the reason."""
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            hash_name = _ECDSA_ALGOS.get(algo_name)
            if hash_name is None:
                raise _Failed(f"签名算法 {algo_name} 与 ECDSA 证书不符或不受支持")
            if not parameters_ok():
                raise _Failed("签名算法参数不合规")
            public.verify(signature, to_be_signed, ec.ECDSA(_HASHES[hash_name]()))
        elif isinstance(public, rsa.RSAPublicKey):
            if algo_name == "rsassa_pkcs1v15":
                hash_name = digest_name
                if hash_name is None:
                    raise _Failed("摘要算法不被接受,无法验证签名")
            else:
                hash_name = _RSA_ALGOS.get(algo_name)
            if hash_name is None:
                raise _Failed(f"签名算法 {algo_name} 与 RSA 证书不符或不受支持")
            if not parameters_ok():
                raise _Failed("签名算法参数不合规")
            public.verify(signature, to_be_signed, padding.PKCS1v15(), _HASHES[hash_name]())
        else:
            raise _Failed("证书公钥类型不受支持(只支持 ECDSA 和 RSA)")
    except InvalidSignature as exc:
        raise _Failed("签名值验证失败:签名属性被改动,或签名不是这张证书的私钥做的") from exc
    return f"{algo_name} 验证通过"


# ---------------------------------------------------------------------------------------------
# the fast path: the common shape of a signature, parsed once
#
# Nearly every signature a verifier meets is one ``DetachedSigner`` wrote: one signer named by
# issuer and serial, the four CAdES-BES attributes, the signer certificate first. For those the
# full asn1crypto parse and its repeated attribute look-ups cost several times the signature
# check itself. ``_fast_parse`` walks the DER once, accepting only canonical DER (definite,
# minimal lengths, one-byte tags) in exactly that shape; the parts that recur from signature to
# signature (algorithm identifiers, the certificate, the signingCertificateV2 attribute) are
# judged once per exact byte string and remembered. Anything else — another shape, a failed
# check, a doubt — is not decided here: the full checklist runs from the start instead, so every
# failure is reported exactly as before and the fast path only ever reports a signature whose
# first seven checks the full parse would pass with the same details.


# Tests set this to False to run the full parse alone and compare the two paths.
FAST_PATH = True


class _NotFast(Exception):
    """The fast path does not decide this signature; the full parse does."""


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the canonical-DER value at ``pos``."""
    if pos + 2 > end:
        raise _NotFast
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise _NotFast  # multi-byte tag
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
            raise _NotFast
        length = int.from_bytes(buf[pos + 2 : start], "big")
        if length < 0x80:
            raise _NotFast
    stop = start + length
    if stop > end:
        raise _NotFast
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
            raise _NotFast
        found.append((tag, pos, begin, stop))
        pos = stop
    if pos != end:
        raise _NotFast
    return found


@dataclass(frozen=True, slots=True)
class _CertInfo:
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


def _certificate_label(cert: x509.Certificate) -> str:
    name = common_name_of(cert) or cert.subject.rfc4514_string()
    return f"{name},序列号 {serial_hex(cert)}"


@functools.lru_cache(maxsize=4096)
def _cert_info(der: bytes) -> _CertInfo:
    """The facts of a canonical-DER X.509 v3 certificate; raises _NotFast for anything else.

    Remembered per exact DER: a signer's certificate recurs in every letter they signed.
    """
    end = len(der)
    tag, start, stop = _tlv(der, 0, end)
    if tag != _SEQUENCE or stop != end:
        raise _NotFast
    tbs = _shaped(der, start, stop, (_SEQUENCE, _SEQUENCE, 0x03))[0]
    parts = _children(der, tbs[2], tbs[3])
    # version [0] v3, serial, signature, issuer, validity, subject, subjectPublicKeyInfo and
    # optionally extensions [3]: the fields asn1crypto maps in order, nothing unusual.
    tags = [p[0] for p in parts]
    if tags not in (
        [0xA0, 0x02, _SEQUENCE, _SEQUENCE, _SEQUENCE, _SEQUENCE, _SEQUENCE],
        [0xA0, 0x02, _SEQUENCE, _SEQUENCE, _SEQUENCE, _SEQUENCE, _SEQUENCE, 0xA3],
    ):
        raise _NotFast
    if der[parts[0][1] : parts[0][3]] != _V3:
        raise _NotFast
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
    except (*_MALFORMED, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise _NotFast from exc
    try:
        key_usage: tuple[bool, str] | None = _key_usage_verdict(cert)
    except _MALFORMED:
        key_usage = None
    serial_der = bytes(core.Integer(cert.serial_number).dump())
    # signingCertificateV2 as DetachedSigner encodes it (the same steps): any signature whose
    # attribute has exactly these bytes names this certificate by its SHA-256 hash, issuer
    # and serial, which is what the full check accepts.
    issuer_serial = _der(_SEQUENCE, _issuer_general_names(issuer_der) + serial_der)
    ess_cert_id_v2 = _der(_SEQUENCE, _der(_OCTET_STRING, _digest("sha256", der)) + issuer_serial)
    signing_certificate = _der(
        _SEQUENCE,
        _SIGNING_CERTIFICATE_V2_OID + _der(_SET, _der(_SEQUENCE, _der(_SEQUENCE, ess_cert_id_v2))),
    )
    serial = serial_hex(cert)
    return _CertInfo(
        cert=cert,
        der=der,
        issuer_and_serial=issuer_tlv + serial_tlv,
        signing_certificate_v2=signing_certificate,
        common_name=common_name,
        person_id=person_id,
        fingerprint=fingerprint(cert),
        serial_hex=serial,
        detail=_certificate_label(cert),
        public_key=public_key,
        key_usage=key_usage,
    )


@functools.lru_cache(maxsize=64)
def _accepted_digest(digest_algorithm: bytes, digest_algorithms: bytes) -> str | None:
    """The signer's digest algorithm when the full 摘要算法 check passes on these exact bytes."""
    try:
        algorithm = algos.DigestAlgorithm.load(digest_algorithm, strict=True)
        listed = list(cms.DigestAlgorithms.load(digest_algorithms, strict=True))
        name = str(algorithm["algorithm"].native)
        if name not in _HASHES or not _algorithm_parameters_ok(algorithm):
            return None
        if name not in [a["algorithm"].native for a in listed]:
            return None
        if not all(_algorithm_parameters_ok(a) for a in listed):
            return None
    except _MALFORMED:
        return None
    return name


@functools.lru_cache(maxsize=64)
def _signature_algorithm(encoded: bytes) -> tuple[str, bool] | None:
    """(name, parameters acceptable) of a signatureAlgorithm, as the full check reads them."""
    try:
        algorithm = algos.SignedDigestAlgorithm.load(encoded, strict=True)
        return str(algorithm["algorithm"].native), _algorithm_parameters_ok(algorithm)
    except _MALFORMED:
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
            raise _NotFast
    else:
        raise _NotFast
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
        raise _NotFast from exc


@dataclass(frozen=True, slots=True)
class _Parsed:
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


_ATTRIBUTE_OIDS = (_MESSAGE_DIGEST_OID, _SIGNING_TIME_OID, _SIGNING_CERTIFICATE_V2_OID)


def _fast_parse(p7s: bytes) -> _Parsed:
    """The common shape, or _NotFast."""
    end = len(p7s)
    tag, start, stop = _tlv(p7s, 0, end)
    if tag != _SEQUENCE or stop != end:
        raise _NotFast  # strict: nothing after the ContentInfo
    oid, content = _shaped(p7s, start, stop, (0x06, _CONTEXT_0))
    if p7s[oid[1] : oid[3]] != _SIGNED_DATA_OID:
        raise _NotFast
    (signed_data,) = _shaped(p7s, content[2], content[3], (_SEQUENCE,))
    version, digests, encap, certificates, signer_infos = _shaped(
        p7s, signed_data[2], signed_data[3], (0x02, _SET, _SEQUENCE, _CONTEXT_0, _SET)
    )
    if p7s[version[1] : version[3]] != _VERSION_1 or p7s[encap[1] : encap[3]] != _ENCAP_DATA:
        raise _NotFast
    certs = _children(p7s, certificates[2], certificates[3])
    if not certs or any(c[0] != _SEQUENCE for c in certs):
        raise _NotFast
    (signer_info,) = _shaped(p7s, signer_infos[2], signer_infos[3], (_SEQUENCE,))
    si_version, sid, digest, attrs, sig_alg, signature = _shaped(
        p7s,
        signer_info[2],
        signer_info[3],
        (0x02, _SEQUENCE, _SEQUENCE, _CONTEXT_0, _SEQUENCE, _OCTET_STRING),
    )
    if p7s[si_version[1] : si_version[3]] != _VERSION_1:
        raise _NotFast
    found: dict[bytes, tuple[int, int, int, int]] = {}  # attribute type → its values (SET)
    signed: dict[bytes, bytes] = {}  # the same, as the attribute's encoding
    content_type = False
    for attribute in _children(p7s, attrs[2], attrs[3]):
        if attribute[0] != _SEQUENCE:
            raise _NotFast
        encoded = p7s[attribute[1] : attribute[3]]
        if encoded == _CONTENT_TYPE_DATA and not content_type:
            content_type = True
            continue
        kind, values = _shaped(p7s, attribute[2], attribute[3], (0x06, _SET))
        name = p7s[kind[1] : kind[3]]
        if name not in _ATTRIBUTE_OIDS or name in found:
            raise _NotFast
        found[name] = values
        signed[name] = encoded
    if not content_type or len(found) != len(_ATTRIBUTE_OIDS):
        raise _NotFast
    digest_values = found[_MESSAGE_DIGEST_OID]
    (octets,) = _shaped(p7s, digest_values[2], digest_values[3], (_OCTET_STRING,))
    time_values = found[_SIGNING_TIME_OID]
    (moment,) = _children(p7s, time_values[2], time_values[3])
    first = certs[0]
    return _Parsed(
        digest_algorithms=p7s[digests[1] : digests[3]],
        first_certificate=p7s[first[1] : first[3]],
        sid=p7s[sid[2] : sid[3]],
        digest_algorithm=p7s[digest[1] : digest[3]],
        to_be_signed=b"\x31" + p7s[attrs[1] + 1 : attrs[3]],
        signature_algorithm=p7s[sig_alg[1] : sig_alg[3]],
        signature=p7s[signature[2] : signature[3]],
        message_digest=p7s[octets[2] : octets[3]],
        signing_time=_fast_time(moment[0], p7s[moment[2] : moment[3]]),
        signing_certificate_v2=signed[_SIGNING_CERTIFICATE_V2_OID],
    )


# Per-process memos of pure functions of certificates (which compare and hash by their DER) and
# of moments: a bulk verification meets the same CA, signers and times over and over.
_iso_z = functools.lru_cache(maxsize=1024)(iso_z)


@functools.lru_cache(maxsize=16)
def _ca_constraints_problem(ca_cert: x509.Certificate) -> str | None:
    try:
        basic = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "根证书没有 basicConstraints 扩展,不能作为根证书"
    if not basic.ca:
        return "根证书的 basicConstraints 不是 CA"
    return None


@functools.lru_cache(maxsize=16)
def _issued_by_label(ca_cert: x509.Certificate) -> str:
    ca_name = common_name_of(ca_cert) or ca_cert.subject.rfc4514_string()
    return f"由“{ca_name}”签发"


def _key_usage_verdict(cert: x509.Certificate) -> tuple[bool, str]:
    """(passes, detail) of the 密钥用途 check."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False, "证书没有 keyUsage 扩展,不是签名证书"
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        basic = None
    if basic is not None and basic.ca:
        return False, "签名证书是 CA 证书,不能用于签署文书"
    if not (usage.digital_signature or usage.content_commitment):
        return False, "证书的 keyUsage 既无 digitalSignature 也无 nonRepudiation,不能用于签名"
    return True, "digitalSignature/nonRepudiation"


class _Verifier:
    def __init__(
        self,
        data: bytes,
        p7s: bytes,
        *,
        ca_cert: x509.Certificate,
        crl: x509.CertificateRevocationList | None,
        at: datetime,
        expected_signer_fingerprint: str | None,
        registry_time: datetime | None,
        tolerance: timedelta,
    ) -> None:
        self.data = data
        self.p7s = p7s
        self.ca_cert = ca_cert
        self.crl = crl
        self.at = utc(at)
        self.expected = expected_signer_fingerprint
        self.registry_time = utc(registry_time) if registry_time is not None else None
        self.tolerance = tolerance
        self.state = _State()
        self.checks: list[Check] = []

    def run(self) -> SignatureStatus:
        steps: list[tuple[str, Callable[[], str]]] = []
        if not self._fast():
            if not self._check(CHECK_STRUCTURE, self.structure):
                return self._status()
            steps += [
                (CHECK_CONTENT_TYPE, self.content_type),
                (CHECK_DIGEST_ALGORITHM, self.digest_algorithm),
                (CHECK_MESSAGE_DIGEST, self.message_digest),
                (CHECK_CERTIFICATE, self.certificate),
                (CHECK_SIGNATURE, self.signature),
                (CHECK_SIGNING_CERTIFICATE, self.signing_certificate),
            ]
        steps += [
            (CHECK_CHAIN, self.chain),
            (CHECK_VALIDITY, self.validity),
            (CHECK_KEY_USAGE, self.key_usage),
            (CHECK_REVOCATION, self.revocation),
            (CHECK_SIGNING_TIME, self.signing_time),
        ]
        if self.expected is not None:
            steps.append((CHECK_SIGNER, self.signer))
        for name, step in steps:
            self._check(name, step)
        return self._status()

    def _fast(self) -> bool:
        """Checks 1–7 for a signature in the common shape that passes them all.

        False, with nothing recorded, whenever the full parse must decide (see ``_fast_parse``).
        """
        p7s = self.p7s
        if not FAST_PATH or not p7s or len(p7s) > MAX_SIGNATURE_BYTES:
            return False
        try:
            parsed = _fast_parse(p7s)
            info = _cert_info(parsed.first_certificate)
        except _NotFast:
            return False
        if (
            parsed.sid != info.issuer_and_serial
            or parsed.signing_certificate_v2 != info.signing_certificate_v2
        ):
            return False
        digest_name = _accepted_digest(parsed.digest_algorithm, parsed.digest_algorithms)
        algorithm = _signature_algorithm(parsed.signature_algorithm)
        if digest_name is None or algorithm is None:
            return False
        actual = file_digest(digest_name, self.data)
        if parsed.message_digest != actual:
            return False
        algo_name, parameters_ok = algorithm
        try:
            signature_detail = _verify_signature(
                info.public_key,
                algo_name,
                lambda: parameters_ok,
                digest_name,
                parsed.signature,
                parsed.to_be_signed,
            )
        except (_Failed, *_MALFORMED):
            return False
        state = self.state
        state.cert, state.cert_der, state.cert_info = info.cert, info.der, info
        state.digest_name = digest_name
        state.signing_time = utc(parsed.signing_time)
        self.checks += [
            Check(CHECK_STRUCTURE, True, _STRUCTURE_OK),
            Check(CHECK_CONTENT_TYPE, True, _CONTENT_TYPE_OK),
            Check(CHECK_DIGEST_ALGORITHM, True, _digest_label(digest_name)),
            Check(CHECK_MESSAGE_DIGEST, True, _message_digest_label(actual)),
            Check(CHECK_CERTIFICATE, True, info.detail),
            Check(CHECK_SIGNATURE, True, signature_detail),
            Check(CHECK_SIGNING_CERTIFICATE, True, _SIGNING_CERTIFICATE_OK),
        ]
        return True

    def _check(self, name: str, step: Callable[[], str]) -> bool:
        try:
            detail = step()
        except _Failed as failure:
            self.checks.append(Check(name, False, failure.detail))
            return False
        except _MALFORMED as exc:
            self.checks.append(Check(name, False, f"签名文件内容无法解析({type(exc).__name__})"))
            return False
        self.checks.append(Check(name, True, detail))
        return True

    def _status(self) -> SignatureStatus:
        cert = self.state.cert
        failures = tuple(f"{c.name}:{c.detail}" for c in self.checks if not c.ok)
        info = self.state.cert_info
        if info is not None:
            return SignatureStatus(
                valid=bool(self.checks) and not failures,
                signer_name=info.common_name,
                signer_id=info.person_id,
                signing_time=self.state.signing_time,
                cert_fingerprint=info.fingerprint,
                cert_serial=info.serial_hex,
                checks=tuple(self.checks),
                failures=failures,
                certificate=info.cert,
            )
        return SignatureStatus(
            valid=bool(self.checks) and not failures,
            signer_name=common_name_of(cert) if cert is not None else None,
            signer_id=person_id_of(cert) if cert is not None else None,
            signing_time=self.state.signing_time,
            cert_fingerprint=fingerprint(cert) if cert is not None else None,
            cert_serial=serial_hex(cert) if cert is not None else None,
            checks=tuple(self.checks),
            failures=failures,
            certificate=cert,
        )

    def _need_cert(self) -> x509.Certificate:
        if self.state.cert is None:
            raise _Failed("没有可用的签名证书,无法检查")
        return self.state.cert

    def _need_signing_time(self) -> datetime:
        if self.state.signing_time is None:
            raise _Failed("签名中没有可用的签名时间,无法检查")
        return self.state.signing_time

    # -- the checks -------------------------------------------------------------------------

    def structure(self) -> str:
        if len(self.p7s) > MAX_SIGNATURE_BYTES:
            raise _Failed(
                f"签名文件过大({len(self.p7s)} 字节,上限 {MAX_SIGNATURE_BYTES} 字节),"
                "不是本系统的签名"
            )
        if not self.p7s:
            raise _Failed("签名文件为空")
        try:
            info = cms.ContentInfo.load(self.p7s, strict=True)
        except _MALFORMED as exc:
            raise _Failed(f"不是有效的 CMS 签名文件(DER):{type(exc).__name__}") from exc
        if info["content_type"].native != "signed_data":
            raise _Failed(f"CMS 内容类型为 {info['content_type'].dotted},不是 SignedData")
        signed_data = info["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise _Failed(f"签名文件应恰有一个签名人,实有 {len(signer_infos)} 个")
        signer_info = signer_infos[0]
        sid_kind = signer_info["sid"].name
        expected_si = "v1" if sid_kind == "issuer_and_serial_number" else "v3"
        if signer_info["version"].native != expected_si:
            raise _Failed(f"签名人信息版本号 {signer_info['version'].native} 不符合 RFC 5652")
        expected_sd = "v3" if expected_si == "v3" else "v1"
        if signed_data["version"].native != expected_sd:
            raise _Failed(f"SignedData 版本号 {signed_data['version'].native} 不符合 RFC 5652")
        if signed_data["encap_content_info"]["content"].native is not None:
            raise _Failed("签名文件内嵌了被签内容,应为分离式签名(detached)")
        if isinstance(signer_info["signed_attrs"], core.Void):
            raise _Failed("缺少签名属性(signedAttrs),不是 CAdES 签名")
        self.state.attributes = _attribute_map(signer_info["signed_attrs"])
        self.state.signed_data = signed_data
        self.state.signer_info = signer_info
        if "signing_time" in self.state.attributes:
            value = _single(self.state.attributes, "signing_time", "signingTime")
            self.state.signing_time = utc(value.native)
        return _STRUCTURE_OK

    def _si(self) -> cms.SignerInfo:
        assert self.state.signer_info is not None and self.state.signed_data is not None
        return self.state.signer_info

    def content_type(self) -> str:
        signed_data = self.state.signed_data
        assert signed_data is not None
        econtent = signed_data["encap_content_info"]["content_type"]
        if econtent.native != "data":
            raise _Failed(f"被签内容类型为 {econtent.dotted},应为 id-data")
        value = _single(self.state.attributes, "content_type", "contentType")
        if value.dotted != econtent.dotted:
            raise _Failed("签名属性 contentType 与被签内容类型不一致")
        return _CONTENT_TYPE_OK

    def digest_algorithm(self) -> str:
        signer_info = self._si()
        algorithm = signer_info["digest_algorithm"]
        name = str(algorithm["algorithm"].native)
        if name not in _HASHES:
            raise _Failed(f"摘要算法 {name} 不安全或不受支持,只接受 SHA-256/384/512")
        if not _algorithm_parameters_ok(algorithm):
            raise _Failed("摘要算法参数不合规")
        signed_data = self.state.signed_data
        assert signed_data is not None
        listed = list(signed_data["digest_algorithms"])
        if name not in [a["algorithm"].native for a in listed]:
            raise _Failed("SignedData 的摘要算法列表中没有签名人使用的算法")
        if not all(_algorithm_parameters_ok(a) for a in listed):
            raise _Failed("SignedData 摘要算法列表中的算法参数不合规")
        self.state.digest_name = name
        return _digest_label(name)

    def message_digest(self) -> str:
        if self.state.digest_name is None:
            raise _Failed("摘要算法不被接受,未比较")
        value = _single(self.state.attributes, "message_digest", "messageDigest")
        actual = file_digest(self.state.digest_name, self.data)
        if value.native != actual:
            raise _Failed("文件摘要与签名中记录的不一致:文件在签名后被改动,或签名不属于这个文件")
        return _message_digest_label(actual)

    def certificate(self) -> str:
        signer_info = self._si()
        signed_data = self.state.signed_data
        assert signed_data is not None
        sid = signer_info["sid"]
        candidates = (
            [c.chosen for c in signed_data["certificates"] if c.name == "certificate"]
            if not isinstance(signed_data["certificates"], core.Void)
            else []
        )
        match = None
        for candidate in candidates:
            if sid.name == "issuer_and_serial_number":
                wanted = sid.chosen
                if (
                    candidate.issuer.dump() == wanted["issuer"].dump()
                    and candidate.serial_number == wanted["serial_number"].native
                ):
                    match = candidate
                    break
            elif candidate.key_identifier == sid.chosen.native:
                match = candidate
                break
        if match is None:
            raise _Failed("签名文件中没有签名人的证书(按签名人标识找不到)")
        cert_der = bytes(match.dump())
        try:
            cert = x509.load_der_x509_certificate(cert_der)
            # cryptography parses lazily: touch every field the later checks and the status use.
            _ = (cert.subject, cert.issuer, cert.extensions, cert.public_key())
            _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.serial_number)
            _ = (common_name_of(cert), person_id_of(cert))
        except (*_MALFORMED, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
            raise _Failed("签名人证书无法解析") from exc
        self.state.cert = cert
        self.state.cert_der = cert_der
        return _certificate_label(cert)

    def signature(self) -> str:
        cert = self._need_cert()
        signer_info = self._si()
        raw_attrs = bytes(signer_info["signed_attrs"].dump())
        if not raw_attrs or raw_attrs[0] != 0xA0:
            raise _Failed("签名属性的编码不正确")
        to_be_signed = b"\x31" + raw_attrs[1:]
        signature = bytes(signer_info["signature"].native)
        algorithm = signer_info["signature_algorithm"]
        algo_name = algorithm["algorithm"].native
        return _verify_signature(
            cert.public_key(),
            algo_name,
            lambda: _algorithm_parameters_ok(algorithm),
            self.state.digest_name,
            signature,
            to_be_signed,
        )

    def signing_certificate(self) -> str:
        cert = self._need_cert()
        assert self.state.cert_der is not None
        value = _single(self.state.attributes, "signing_certificate_v2", "signingCertificateV2")
        cert_ids = value["certs"]
        if len(cert_ids) == 0:
            raise _Failed("signingCertificateV2 中没有证书标识")
        first = cert_ids[0]
        hash_name = first["hash_algorithm"]["algorithm"].native
        if hash_name not in _HASHES:
            raise _Failed(f"signingCertificateV2 使用的摘要算法 {hash_name} 不被接受")
        if bytes(first["cert_hash"].native) != _digest(hash_name, self.state.cert_der):
            raise _Failed("signingCertificateV2 中的证书摘要与嵌入的签名证书不一致(证书被替换)")
        issuer_serial = first["issuer_serial"]
        if not isinstance(issuer_serial, core.Void):
            issuer_der = cert.issuer.public_bytes()
            names = issuer_serial["issuer"]
            # One directoryName ([4] EXPLICIT Name) with the certificate's issuer DER is the same
            # name; any other encoding is compared by asn1crypto (RFC 4518 string preparation,
            # otherwise the costliest step of a verification).
            named = names.contents == _der(0xA4, issuer_der) or any(
                n.name == "directory_name" and n.chosen == asn1_x509.Name.load(issuer_der)
                for n in names
            )
            if not named or issuer_serial["serial_number"].native != cert.serial_number:
                raise _Failed("signingCertificateV2 中的签发者和序列号与签名证书不一致")
        return _SIGNING_CERTIFICATE_OK

    def chain(self) -> str:
        cert = self._need_cert()
        problem = issued_by(cert, self.ca_cert)
        if problem is not None:
            raise _Failed(problem)
        problem = _ca_constraints_problem(self.ca_cert)
        if problem is not None:
            raise _Failed(problem)
        if self.state.signing_time is not None:
            ca_problem = validity_problem(self.ca_cert, self.state.signing_time)
            if ca_problem is not None:
                raise _Failed(f"签名时根证书不在有效期内:{ca_problem}")
        return _issued_by_label(self.ca_cert)

    def validity(self) -> str:
        cert = self._need_cert()
        moment = self._need_signing_time()
        problem = validity_problem(cert, moment)
        if problem is not None:
            raise _Failed(f"签名时{problem}")
        return (
            f"签名时({_iso_z(moment)})在有效期内"
            f"({_iso_z(cert.not_valid_before_utc)} 至 {_iso_z(cert.not_valid_after_utc)})"
        )

    def key_usage(self) -> str:
        cert = self._need_cert()
        info = self.state.cert_info
        verdict = info.key_usage if info is not None else None
        ok, detail = verdict if verdict is not None else _key_usage_verdict(cert)
        if not ok:
            raise _Failed(detail)
        return detail

    def revocation(self) -> str:
        cert = self._need_cert()
        if self.crl is None:
            return "未提供证书吊销列表,未检查吊销状态"
        if not crl_issued_by(self.crl, self.ca_cert):
            raise _Failed("证书吊销列表不是本单位根证书签发的(签发者或签名不符)")
        entry = revocation_of(self.crl, cert.serial_number)
        if entry is None:
            return f"未吊销(吊销列表发布于 {_iso_z(self.crl.last_update_utc)})"
        revoked_at = entry.revocation_date_utc
        reason = revocation_reason(entry)
        if self.registry_time is not None:
            reference, label = self.registry_time, "登记时间"
        else:
            reference, label = self._need_signing_time(), "签名时间(未经登记簿佐证)"
            if reason is RevocationReason.KEY_COMPROMISE and revoked_at <= self.at:
                raise _Failed(
                    f"证书已于 {iso_z(revoked_at)} 因{reason.label}吊销;"
                    "没有登记时间佐证时,不接受私钥泄露证书的任何签名"
                )
        if revoked_at <= reference:
            raise _Failed(
                f"证书已于 {iso_z(revoked_at)} 吊销({reason.label}),"
                f"不晚于{label} {iso_z(reference)}"
            )
        return f"证书于 {iso_z(revoked_at)} 吊销,晚于{label} {iso_z(reference)},签名仍有效"

    def signing_time(self) -> str:
        moment = self._need_signing_time()
        if moment > self.at + self.tolerance:
            raise _Failed(f"签名时间 {iso_z(moment)} 晚于验证时间 {iso_z(self.at)}")
        if self.registry_time is not None:
            gap = abs(moment - self.registry_time)
            if gap > self.tolerance:
                raise _Failed(
                    f"签名时间 {iso_z(moment)} 与登记时间 {iso_z(self.registry_time)} "
                    f"相差 {int(gap.total_seconds())} 秒,超过允许的 "
                    f"{int(self.tolerance.total_seconds())} 秒"
                )
            return f"{_iso_z(moment)},与登记时间相符"
        return _iso_z(moment)

    def signer(self) -> str:
        cert = self._need_cert()
        assert self.expected is not None
        info = self.state.cert_info
        actual = info.fingerprint if info is not None else fingerprint(cert)
        if actual != self.expected.lower():
            raise _Failed(
                f"签名证书指纹 {actual[:16]}… 与应签人的证书指纹 {self.expected[:16]}… 不一致"
            )
        return "与应签人的证书一致"


def verify_detached(
    data: bytes,
    p7s: bytes,
    *,
    ca_cert: x509.Certificate,
    crl: x509.CertificateRevocationList | None,
    at: datetime,
    expected_signer_fingerprint: str | None = None,
    registry_time: datetime | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> SignatureStatus:
    """Check a detached signature over ``data``; every failed check is listed in the result.

    Revocation is judged at ``registry_time`` when given (and the signing time must then lie
    within ``tolerance`` of it); otherwise at the signing time, which alone is not trusted for
    certificates revoked for key compromise.
    """
    return _Verifier(
        data,
        p7s,
        ca_cert=ca_cert,
        crl=crl,
        at=at,
        expected_signer_fingerprint=expected_signer_fingerprint,
        registry_time=registry_time,
        tolerance=tolerance,
    ).run()
