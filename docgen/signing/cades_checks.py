"""Checks of one CAdES signature that both ways of reading it run the same way.

:mod:`docgen.signing.cades_verify` reads a signature either with the fast DER walk of
:mod:`docgen.signing.cades_fast` or with the full ``asn1crypto`` parse; the signature value, the
key usage and the algorithm parameters are judged here for both, so both report the same details.
A failed check raises :class:`CheckFailed` with the reason in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asn1crypto import algos, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from docgen.signing.cades_sign import HASHES
from docgen.signing.x509util import common_name_of, serial_hex

_ECDSA_ALGOS = {"sha256_ecdsa": "sha256", "sha384_ecdsa": "sha384", "sha512_ecdsa": "sha512"}
_RSA_ALGOS = {"sha256_rsa": "sha256", "sha384_rsa": "sha384", "sha512_rsa": "sha512"}


class CheckFailed(Exception):
    """One check failed; ``detail`` says why, in Chinese."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# Errors asn1crypto or cryptography raise on malformed input, turned into a failed check.
MALFORMED = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
)


def algorithm_parameters_ok(
    algorithm: algos.DigestAlgorithm | algos.SignedDigestAlgorithm,
) -> bool:
    """True when the algorithm's parameters are absent or NULL, the only ones accepted."""
    params = algorithm["parameters"]
    return isinstance(params, core.Void | core.Null)


def check_signature_value(
    public: Any,
    algo_name: str,
    parameters_ok: Callable[[], bool],
    digest_name: str | None,
    signature: bytes,
    to_be_signed: bytes,
) -> str:
    """Check the signature value over the signed attributes; raises CheckFailed with the reason."""
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            hash_name = _ECDSA_ALGOS.get(algo_name)
            if hash_name is None:
                raise CheckFailed(f"签名算法 {algo_name} 与 ECDSA 证书不符或不受支持")
            if not parameters_ok():
                raise CheckFailed("签名算法参数不合规")
            public.verify(signature, to_be_signed, ec.ECDSA(HASHES[hash_name]()))
        elif isinstance(public, rsa.RSAPublicKey):
            if algo_name == "rsassa_pkcs1v15":
                hash_name = digest_name
                if hash_name is None:
                    raise CheckFailed("摘要算法不被接受,无法验证签名")
            else:
                hash_name = _RSA_ALGOS.get(algo_name)
            if hash_name is None:
                raise CheckFailed(f"签名算法 {algo_name} 与 RSA 证书不符或不受支持")
            if not parameters_ok():
                raise CheckFailed("签名算法参数不合规")
            public.verify(signature, to_be_signed, padding.PKCS1v15(), HASHES[hash_name]())
        else:
            raise CheckFailed("证书公钥类型不受支持(只支持 ECDSA 和 RSA)")
    except InvalidSignature as exc:
        raise CheckFailed("签名值验证失败:签名属性被改动,或签名不是这张证书的私钥做的") from exc
    return f"{algo_name} 验证通过"


def certificate_label(cert: x509.Certificate) -> str:
    """The 签名证书 check's detail: the signer's name and the certificate's serial."""
    name = common_name_of(cert) or cert.subject.rfc4514_string()
    return f"{name},序列号 {serial_hex(cert)}"


def key_usage_verdict(cert: x509.Certificate) -> tuple[bool, str]:
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
