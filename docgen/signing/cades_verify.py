"""Verifying detached CAdES-BES signatures: a checklist over the CMS SignedData and the file.

``cryptography`` checks the raw signature; ``asn1crypto`` parses the CMS structure (RFC 5652)
and the ESS signing-certificate-v2 attribute (RFC 5035) when the fast path of
:mod:`docgen.signing.cades_fast` does not decide. The verifier is a checklist: every check is run
that can be run, each failure is listed, and a bad signature never raises — only a programming
error does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asn1crypto.tsp  # noqa: F401  (registers the signing_certificate_v2 attribute with cms)
from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from docgen.signing.cades_checks import (
    MALFORMED,
    CheckFailed,
    algorithm_parameters_ok,
    certificate_label,
    check_signature_value,
    key_usage_verdict,
)
from docgen.signing.cades_fast import (
    CertInfo,
    NotFast,
    accepted_digest,
    cert_info,
    fast_parse,
    signature_algorithm,
)
from docgen.signing.cades_sign import HASHES, der_tlv, digest_of
from docgen.signing.crl import crl_issued_by, revocation_of, revocation_reason
from docgen.signing.x509util import (
    RevocationReason,
    common_name_of,
    fingerprint,
    iso_z,
    issued_by,
    person_id_of,
    serial_hex,
    utc,
    validity_problem,
)

MAX_SIGNATURE_BYTES = 1 << 20
DEFAULT_TOLERANCE = timedelta(minutes=10)

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
    digest = digest_of(name, data)
    _last_file_digest = (data, name, digest)
    return digest


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
    cert_info: CertInfo | None = None


def _digest_label(name: str) -> str:
    return name.upper().replace("SHA", "SHA-")


def _message_digest_label(actual: bytes) -> str:
    return f"与文件一致({actual.hex()[:16]}…)"


def _attribute_map(signed_attrs: cms.CMSAttributes) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for attribute in signed_attrs:
        name = attribute["type"].native
        if name in found:
            raise CheckFailed(f"签名属性 {name} 出现了不止一次")
        found[name] = list(attribute["values"])
    return found


def _single(attributes: Mapping[str, list[Any]], name: str, label: str) -> Any:
    values = attributes.get(name)
    if values is None:
        raise CheckFailed(f"缺少签名属性 {label}")
    if len(values) != 1:
        raise CheckFailed(f"签名属性 {label} 应恰有一个值")
    return values[0]


# Tests set this to False to run the full parse alone and compare the two paths.
FAST_PATH = True


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
        made_after: datetime | None = None,
    ) -> None:
        self.data = data
        self.p7s = p7s
        self.ca_cert = ca_cert
        self.crl = crl
        self.at = utc(at)
        self.expected = expected_signer_fingerprint
        self.registry_time = utc(registry_time) if registry_time is not None else None
        self.tolerance = tolerance
        self.made_after = utc(made_after) if made_after is not None else None
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

        False, with nothing recorded, whenever the full parse must decide (see ``fast_parse``).
        """
        p7s = self.p7s
        if not FAST_PATH or not p7s or len(p7s) > MAX_SIGNATURE_BYTES:
            return False
        try:
            parsed = fast_parse(p7s)
            info = cert_info(parsed.first_certificate)
        except NotFast:
            return False
        if (
            parsed.sid != info.issuer_and_serial
            or parsed.signing_certificate_v2 != info.signing_certificate_v2
        ):
            return False
        digest_name = accepted_digest(parsed.digest_algorithm, parsed.digest_algorithms)
        algorithm = signature_algorithm(parsed.signature_algorithm)
        if digest_name is None or algorithm is None:
            return False
        actual = file_digest(digest_name, self.data)
        if parsed.message_digest != actual:
            return False
        algo_name, parameters_ok = algorithm
        try:
            signature_detail = check_signature_value(
                info.public_key,
                algo_name,
                lambda: parameters_ok,
                digest_name,
                parsed.signature,
                parsed.to_be_signed,
            )
        except (CheckFailed, *MALFORMED):
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
        except CheckFailed as failure:
            self.checks.append(Check(name, False, failure.detail))
            return False
        except MALFORMED as exc:
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
            raise CheckFailed("没有可用的签名证书,无法检查")
        return self.state.cert

    def _need_signing_time(self) -> datetime:
        if self.state.signing_time is None:
            raise CheckFailed("签名中没有可用的签名时间,无法检查")
        return self.state.signing_time

    # -- the checks -------------------------------------------------------------------------

    def structure(self) -> str:
        if len(self.p7s) > MAX_SIGNATURE_BYTES:
            raise CheckFailed(
                f"签名文件过大({len(self.p7s)} 字节,上限 {MAX_SIGNATURE_BYTES} 字节),"
                "不是本系统的签名"
            )
        if not self.p7s:
            raise CheckFailed("签名文件为空")
        try:
            info = cms.ContentInfo.load(self.p7s, strict=True)
        except MALFORMED as exc:
            raise CheckFailed(f"不是有效的 CMS 签名文件(DER):{type(exc).__name__}") from exc
        if info["content_type"].native != "signed_data":
            raise CheckFailed(f"CMS 内容类型为 {info['content_type'].dotted},不是 SignedData")
        signed_data = info["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise CheckFailed(f"签名文件应恰有一个签名人,实有 {len(signer_infos)} 个")
        signer_info = signer_infos[0]
        sid_kind = signer_info["sid"].name
        expected_si = "v1" if sid_kind == "issuer_and_serial_number" else "v3"
        if signer_info["version"].native != expected_si:
            raise CheckFailed(f"签名人信息版本号 {signer_info['version'].native} 不符合 RFC 5652")
        expected_sd = "v3" if expected_si == "v3" else "v1"
        if signed_data["version"].native != expected_sd:
            raise CheckFailed(f"SignedData 版本号 {signed_data['version'].native} 不符合 RFC 5652")
        if signed_data["encap_content_info"]["content"].native is not None:
            raise CheckFailed("签名文件内嵌了被签内容,应为分离式签名(detached)")
        if isinstance(signer_info["signed_attrs"], core.Void):
            raise CheckFailed("缺少签名属性(signedAttrs),不是 CAdES 签名")
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
            raise CheckFailed(f"被签内容类型为 {econtent.dotted},应为 id-data")
        value = _single(self.state.attributes, "content_type", "contentType")
        if value.dotted != econtent.dotted:
            raise CheckFailed("签名属性 contentType 与被签内容类型不一致")
        return _CONTENT_TYPE_OK

    def digest_algorithm(self) -> str:
        signer_info = self._si()
        algorithm = signer_info["digest_algorithm"]
        name = str(algorithm["algorithm"].native)
        if name not in HASHES:
            raise CheckFailed(f"摘要算法 {name} 不安全或不受支持,只接受 SHA-256/384/512")
        if not algorithm_parameters_ok(algorithm):
            raise CheckFailed("摘要算法参数不合规")
        signed_data = self.state.signed_data
        assert signed_data is not None
        listed = list(signed_data["digest_algorithms"])
        if name not in [a["algorithm"].native for a in listed]:
            raise CheckFailed("SignedData 的摘要算法列表中没有签名人使用的算法")
        if not all(algorithm_parameters_ok(a) for a in listed):
            raise CheckFailed("SignedData 摘要算法列表中的算法参数不合规")
        self.state.digest_name = name
        return _digest_label(name)

    def message_digest(self) -> str:
        if self.state.digest_name is None:
            raise CheckFailed("摘要算法不被接受,未比较")
        value = _single(self.state.attributes, "message_digest", "messageDigest")
        actual = file_digest(self.state.digest_name, self.data)
        if value.native != actual:
            raise CheckFailed(
                "文件摘要与签名中记录的不一致:文件在签名后被改动,或签名不属于这个文件"
            )
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
            raise CheckFailed("签名文件中没有签名人的证书(按签名人标识找不到)")
        cert_der = bytes(match.dump())
        try:
            cert = x509.load_der_x509_certificate(cert_der)
            # cryptography parses lazily: touch every field the later checks and the status use.
            _ = (cert.subject, cert.issuer, cert.extensions, cert.public_key())
            _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.serial_number)
            _ = (common_name_of(cert), person_id_of(cert))
        except (*MALFORMED, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
            raise CheckFailed("签名人证书无法解析") from exc
        self.state.cert = cert
        self.state.cert_der = cert_der
        return certificate_label(cert)

    def signature(self) -> str:
        cert = self._need_cert()
        signer_info = self._si()
        raw_attrs = bytes(signer_info["signed_attrs"].dump())
        if not raw_attrs or raw_attrs[0] != 0xA0:
            raise CheckFailed("签名属性的编码不正确")
        to_be_signed = b"\x31" + raw_attrs[1:]
        signature = bytes(signer_info["signature"].native)
        algorithm = signer_info["signature_algorithm"]
        algo_name = algorithm["algorithm"].native
        return check_signature_value(
            cert.public_key(),
            algo_name,
            lambda: algorithm_parameters_ok(algorithm),
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
            raise CheckFailed("signingCertificateV2 中没有证书标识")
        first = cert_ids[0]
        hash_name = first["hash_algorithm"]["algorithm"].native
        if hash_name not in HASHES:
            raise CheckFailed(f"signingCertificateV2 使用的摘要算法 {hash_name} 不被接受")
        if bytes(first["cert_hash"].native) != digest_of(hash_name, self.state.cert_der):
            raise CheckFailed("signingCertificateV2 中的证书摘要与嵌入的签名证书不一致(证书被替换)")
        issuer_serial = first["issuer_serial"]
        if not isinstance(issuer_serial, core.Void):
            issuer_der = cert.issuer.public_bytes()
            names = issuer_serial["issuer"]
            # One directoryName ([4] EXPLICIT Name) with the certificate's issuer DER is the same
            # name; any other encoding is compared by asn1crypto (RFC 4518 string preparation,
            # otherwise the costliest step of a verification).
            named = names.contents == der_tlv(0xA4, issuer_der) or any(
                n.name == "directory_name" and n.chosen == asn1_x509.Name.load(issuer_der)
                for n in names
            )
            if not named or issuer_serial["serial_number"].native != cert.serial_number:
                raise CheckFailed("signingCertificateV2 中的签发者和序列号与签名证书不一致")
        return _SIGNING_CERTIFICATE_OK

    def chain(self) -> str:
        cert = self._need_cert()
        problem = issued_by(cert, self.ca_cert)
        if problem is not None:
            raise CheckFailed(problem)
        problem = _ca_constraints_problem(self.ca_cert)
        if problem is not None:
            raise CheckFailed(problem)
        if self.state.signing_time is not None:
            ca_problem = validity_problem(self.ca_cert, self.state.signing_time)
            if ca_problem is not None:
                raise CheckFailed(f"签名时根证书不在有效期内:{ca_problem}")
        return _issued_by_label(self.ca_cert)

    def validity(self) -> str:
        cert = self._need_cert()
        moment = self._need_signing_time()
        problem = validity_problem(cert, moment)
        if problem is not None:
            raise CheckFailed(f"签名时{problem}")
        if self.made_after is not None and self.registry_time is not None:
            # Made elsewhere: the claimed time is the signer's word; the registry time is not.
            problem = validity_problem(cert, self.registry_time)
            if problem is not None:
                raise CheckFailed(f"登记时({_iso_z(self.registry_time)}){problem}")
        return (
            f"签名时({_iso_z(moment)})在有效期内"
            f"({_iso_z(cert.not_valid_before_utc)} 至 {_iso_z(cert.not_valid_after_utc)})"
        )

    def key_usage(self) -> str:
        cert = self._need_cert()
        info = self.state.cert_info
        verdict = info.key_usage if info is not None else None
        ok, detail = verdict if verdict is not None else key_usage_verdict(cert)
        if not ok:
            raise CheckFailed(detail)
        return detail

    def revocation(self) -> str:
        cert = self._need_cert()
        if self.crl is None:
            return "未提供证书吊销列表,未检查吊销状态"
        if not crl_issued_by(self.crl, self.ca_cert):
            raise CheckFailed("证书吊销列表不是本单位根证书签发的(签发者或签名不符)")
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
                raise CheckFailed(
                    f"证书已于 {iso_z(revoked_at)} 因{reason.label}吊销;"
                    "没有登记时间佐证时,不接受私钥泄露证书的任何签名"
                )
        if revoked_at <= reference:
            raise CheckFailed(
                f"证书已于 {iso_z(revoked_at)} 吊销({reason.label}),"
                f"不晚于{label} {iso_z(reference)}"
            )
        return f"证书于 {iso_z(revoked_at)} 吊销,晚于{label} {iso_z(reference)},签名仍有效"

    def signing_time(self) -> str:
        moment = self._need_signing_time()
        if self.registry_time is not None and self.made_after is not None:
            return self._imported_time(moment, self.registry_time, self.made_after)
        if moment > self.at + self.tolerance:
            raise CheckFailed(f"签名时间 {iso_z(moment)} 晚于验证时间 {iso_z(self.at)}")
        if self.registry_time is not None:
            gap = abs(moment - self.registry_time)
            if gap > self.tolerance:
                raise CheckFailed(
                    f"签名时间 {iso_z(moment)} 与登记时间 {iso_z(self.registry_time)} "
                    f"相差 {int(gap.total_seconds())} 秒,超过允许的 "
                    f"{int(self.tolerance.total_seconds())} 秒"
                )
            return f"{_iso_z(moment)},与登记时间相符"
        return _iso_z(moment)

    def _imported_time(self, moment: datetime, registered: datetime, letter: datetime) -> str:
        """A signature made elsewhere and brought in later: any time from the letter's own
        registration up to the registry time (+ tolerance for the clocks)."""
        if moment < letter:
            raise CheckFailed(
                f"签名时间 {iso_z(moment)} 早于文书登记时间 {iso_z(letter)}:"
                "文书登记之前不可能对它签名"
            )
        if moment > registered + self.tolerance:
            raise CheckFailed(
                f"签名时间 {iso_z(moment)} 晚于登记(导入)时间 {iso_z(registered)} 超过 "
                f"{int(self.tolerance.total_seconds())} 秒"
            )
        return f"{_iso_z(moment)},在文书登记之后、导入登记之前(异地签名后导入)"

    def signer(self) -> str:
        cert = self._need_cert()
        assert self.expected is not None
        info = self.state.cert_info
        actual = info.fingerprint if info is not None else fingerprint(cert)
        if actual != self.expected.lower():
            raise CheckFailed(
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
    made_after: datetime | None = None,
) -> SignatureStatus:
    """Check a detached signature over ``data``; every failed check is listed in the result.

    Revocation is judged at ``registry_time`` when given (and the signing time must then lie
    within ``tolerance`` of it); otherwise at the signing time, which alone is not trusted for
    certificates revoked for key compromise.

    ``made_after`` (with ``registry_time``) marks a signature made elsewhere and imported later
    (a ``signature`` record with ``"source": "import"``): its signing time may then lie anywhere
    from ``made_after`` — the letter's own registration — to ``registry_time`` + ``tolerance``;
    revocation is still judged at ``registry_time``, and the certificate must be valid both at
    the claimed signing time and at ``registry_time``, so a claimed early time lets in neither a
    revoked nor an expired key.
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
        made_after=made_after,
    ).run()
