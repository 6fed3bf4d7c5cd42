"""Making detached CAdES-BES signatures: CMS SignedData (DER) over the exact bytes of a file.

``cryptography`` makes the raw signature; the CMS structure (RFC 5652) and the ESS
signing-certificate-v2 attribute (RFC 5035) are DER-encoded here, from parts ``asn1crypto``
encodes once. The DER pieces are public because the verifier's fast path
(:mod:`docgen.signing.cades_fast`) recognises a signature by the very bytes written here.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

import asn1crypto.tsp  # noqa: F401  (registers the signing_certificate_v2 attribute with cms)
from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from docgen.signing.x509util import SigningKey, same_public_key, utc

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def digest_of(name: str, data: bytes) -> bytes:
    """The ``name`` digest (``sha256`` …) of ``data``."""
    return hashlib.new(name, data).digest()


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


SEQUENCE = 0x30
SET = 0x31
OCTET_STRING = 0x04


def der_tlv(tag: int, content: bytes) -> bytes:
    """One DER tag-length-value."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


CONTEXT_0 = 0xA0
VERSION_1 = bytes(core.Integer(1).dump())
SIGNED_DATA_OID = bytes(cms.ContentType("signed_data").dump())
ENCAP_DATA = bytes(cms.EncapsulatedContentInfo({"content_type": "data"}).dump())
MESSAGE_DIGEST_OID = bytes(cms.CMSAttributeType("message_digest").dump())
SIGNING_TIME_OID = bytes(cms.CMSAttributeType("signing_time").dump())
SIGNING_CERTIFICATE_V2_OID = bytes(cms.CMSAttributeType("signing_certificate_v2").dump())
CONTENT_TYPE_DATA = bytes(cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump())


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
def issuer_general_names(issuer_der: bytes) -> bytes:
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
        if digest_algorithm not in HASHES:
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
        self._sid = der_tlv(SEQUENCE, issuer_der + serial_der)  # issuerAndSerialNumber
        issuer_serial = der_tlv(SEQUENCE, issuer_general_names(issuer_der) + serial_der)
        ess_cert_id_v2 = der_tlv(
            SEQUENCE, der_tlv(OCTET_STRING, digest_of("sha256", cert_der)) + issuer_serial
        )
        signing_certificate = der_tlv(SEQUENCE, der_tlv(SEQUENCE, ess_cert_id_v2))
        self._signing_certificate = der_tlv(
            SEQUENCE, SIGNING_CERTIFICATE_V2_OID + der_tlv(SET, signing_certificate)
        )
        self._content_type = CONTENT_TYPE_DATA
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
        message_digest = der_tlv(OCTET_STRING, digest_of(digest_algorithm, data))
        attributes = b"".join(
            sorted(
                (
                    self._content_type,
                    der_tlv(SEQUENCE, MESSAGE_DIGEST_OID + der_tlv(SET, message_digest)),
                    der_tlv(SEQUENCE, SIGNING_TIME_OID + der_tlv(SET, _time_der(signing_time))),
                    self._signing_certificate,
                )
            )
        )
        to_be_signed = der_tlv(SET, attributes)
        hash_algorithm = HASHES[digest_algorithm]()
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            signature = key.sign(to_be_signed, ec.ECDSA(hash_algorithm))
        else:
            signature = key.sign(to_be_signed, padding.PKCS1v15(), hash_algorithm)
        signer_info = der_tlv(
            SEQUENCE,
            VERSION_1
            + self._sid
            + self._digest_algo
            + der_tlv(CONTEXT_0, attributes)  # signedAttrs [0] IMPLICIT SET OF
            + self._signature_algorithm
            + der_tlv(OCTET_STRING, signature),
        )
        signed_data = der_tlv(
            SEQUENCE,
            VERSION_1
            + der_tlv(SET, self._digest_algo)
            + ENCAP_DATA
            + der_tlv(CONTEXT_0, b"".join(sorted(self._certificates)))  # [0] IMPLICIT SET OF
            + der_tlv(SET, signer_info),
        )
        return der_tlv(SEQUENCE, SIGNED_DATA_OID + der_tlv(CONTEXT_0, signed_data))
