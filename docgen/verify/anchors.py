"""The trust anchors a verifier starts from: the institution's CA certificate, its CRL and the
registry's verifier key, read from files or bytes and refused with a clear message when they
cannot be used (nothing is verified against anchors that do not hold together).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cryptography import x509

from docgen.core.errors import Location, UsageError, VerificationError
from docgen.registry.note import parse_verifier_key
from docgen.signing.crl import crl_issued_by
from docgen.verify.derived import CA_NAME, CRL_NAME, VKEY_NAME
from docgen.verify.model import DEFAULT_TOLERANCE, MAX_ANCHOR_BYTES, TrustAnchors


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
    return TrustAnchors(
        ca_cert=ca_cert, crl=crl, verifier_key=vkey, tolerance=tolerance, crl_name=crl_name
    )


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
