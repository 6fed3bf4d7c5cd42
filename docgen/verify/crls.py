"""The revocation state the registry held when each signature was recorded.

Every CRL the CA issues is a ``crl`` entry of the log (its whole DER inside, read back with
:func:`docgen.signing.crl.crl_from_record`), and every revocation a ``revocation`` entry. A
signature entry at index *i* is judged against what the log held before *i*: the CRL in force is
the ``crl`` entry with the highest index below *i*; it must exist and must not have expired
before the signature was recorded, and no CRL or revocation entry below *i* may revoke the
signer's certificate at or before that time. A CRL file handed to the verifier is not what a
signature is judged by; it is compared with the newest registered CRL and reported when older.

Where the entries come from: an archive's ``log/entries.jsonl`` or the workspace's registry
(every entry), or, for a letter checked with nothing but its files, the proof bundle, which
carries the ``crl`` entry in force for each of its signatures with its inclusion proof. A bundle
cannot prove that no newer CRL was registered between that entry and the signature — only the log
can — so the verdict then names the CRL it relied on.

Plain, picklable data: worker processes receive a history as it is.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from docgen.core.errors import DocgenError
from docgen.signing.crl import crl_from_record, crl_next_update, crl_number, crl_sha256
from docgen.signing.x509util import fingerprint
from docgen.verify.derived import CrlFile
from docgen.verify.model import CheckResult

CRLS_CHECK = "登记的吊销列表"
CURRENT_CHECK = "吊销列表是否最新"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RegisteredCrl:
    """One ``crl`` entry of this CA, or why it cannot be used (``problem``)."""

    index: int
    number: int = 0
    sha256: str = ""
    this_update: datetime | None = None
    next_update: datetime | None = None
    der: bytes = b""
    revoked: Mapping[int, datetime] = field(default_factory=dict)  # serial → revocation date
    problem: str | None = None

    @property
    def label(self) -> str:
        return f"第 {self.number} 号吊销列表(登记簿第 {self.index} 条)"

    @property
    def short(self) -> str:
        return f"第 {self.number} 号,登记簿第 {self.index} 条"


@dataclass(frozen=True)
class Revocation:
    """A certificate revoked, as one entry below some index says."""

    index: int
    revoked_at: datetime
    where: str


@dataclass(frozen=True)
class CrlHistory:
    """This CA's registered CRLs and revocations, in log order."""

    crls: tuple[RegisteredCrl, ...] = ()
    revocations: Mapping[int, tuple[Revocation, ...]] = field(default_factory=dict)  # by serial
    source: str = "登记簿"
    problems: tuple[str, ...] = ()  # revocation entries that cannot be read

    @property
    def newest(self) -> RegisteredCrl | None:
        return self.crls[-1] if self.crls else None

    def in_force(self, index: int) -> RegisteredCrl | None:
        """The CRL in force for an entry at ``index``: the last ``crl`` entry before it."""
        at = bisect.bisect_left([c.index for c in self.crls], index)
        return self.crls[at - 1] if at else None

    def revoked_before(self, serial: int, index: int, moment: datetime) -> Revocation | None:
        """The earliest revocation of ``serial`` at or before ``moment`` that an entry below
        ``index`` registers, if any."""
        hits = [
            r
            for r in self.revocations.get(serial, ())
            if r.index < index and r.revoked_at <= moment
        ]
        return min(hits, key=lambda r: r.revoked_at) if hits else None

    def backwards(self) -> list[str]:
        """Each CRL whose number is not above every one registered before it."""
        found: list[str] = []
        highest: RegisteredCrl | None = None
        for crl in self.crls:
            if crl.problem is not None:
                continue
            if highest is not None and crl.number <= highest.number:
                found.append(
                    f"登记簿第 {crl.index} 条吊销列表的编号 {crl.number} 不大于此前登记的"
                    f"第 {highest.number} 号(第 {highest.index} 条):编号倒退"
                )
            if highest is None or crl.number > highest.number:
                highest = crl
        return found


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def crl_history(
    crl_records: Iterable[tuple[int, Mapping[str, Any]]],
    revocation_records: Iterable[tuple[int, Mapping[str, Any]]],
    ca_cert: x509.Certificate,
    *,
    source: str = "登记簿",
) -> CrlHistory:
    """The history of ``ca_cert``'s CRLs from ``(index, record)`` pairs. A ``crl`` entry of
    another CA (the CA was rebuilt in the same registry) is not this CA's history and is left
    out, as the signing side leaves it out; one that claims this CA and does not check is kept
    with its problem, so that a signature it should judge fails."""
    issuer = fingerprint(ca_cert)
    crls: list[RegisteredCrl] = []
    revoked: dict[int, list[Revocation]] = {}
    for index, record in sorted(crl_records, key=lambda item: item[0]):
        if record.get("issuer_fingerprint") != issuer:
            continue
        try:
            crl = crl_from_record(record, ca_cert=ca_cert, index=index)
            next_update = crl_next_update(crl)
        except DocgenError as exc:
            crls.append(RegisteredCrl(index, problem=exc.diagnostics()))
            continue
        number = crl_number(crl)
        dates = {entry.serial_number: entry.revocation_date_utc for entry in crl}
        where = f"第 {number} 号吊销列表(登记簿第 {index} 条)"
        for serial, moment in dates.items():
            revoked.setdefault(serial, []).append(Revocation(index, moment, where))
        crls.append(
            RegisteredCrl(
                index,
                number,
                crl_sha256(crl),
                crl.last_update_utc,
                next_update,
                crl.public_bytes(Encoding.DER),
                dates,
            )
        )
    problems: list[str] = []
    for index, record in revocation_records:
        when = _when(record.get("revoked_at"))
        serial_text = record.get("serial")
        try:
            number = int(str(serial_text), 16)
        except ValueError:
            number = -1
        if when is None or number < 0:
            problems.append(f"登记簿第 {index} 条吊销记录的序列号或吊销时间无法解析")
            continue
        revoked.setdefault(number, []).append(
            Revocation(index, when, f"登记簿第 {index} 条吊销记录")
        )
    return CrlHistory(
        tuple(crls),
        {serial: tuple(items) for serial, items in revoked.items()},
        source,
        tuple(problems),
    )


def judge_signature(
    history: CrlHistory, index: int, recorded_at: datetime, serial: int | None
) -> list[str]:
    """Why a signature entry at ``index``, recorded at ``recorded_at`` with the certificate of
    ``serial``, fails against the registered revocation state (empty: it passes)."""
    in_force = history.in_force(index)
    if in_force is None:
        return [
            f"登记该签名(登记簿第 {index} 条)之前,{history.source}中没有本单位根证书的吊销列表,"
            "无法判断当时证书是否已吊销"
        ]
    if in_force.problem is not None:
        return [f"登记该签名时有效的吊销列表(登记簿第 {in_force.index} 条)无法使用:"
                f"{in_force.problem}"]  # fmt: skip
    reasons: list[str] = []
    if in_force.next_update is not None and in_force.next_update < recorded_at:
        reasons.append(
            f"登记该签名时({iso(recorded_at)})有效的{in_force.label}已于"
            f" {iso(in_force.next_update)} 过期"
        )
    if serial is not None:
        hit = history.revoked_before(serial, index, recorded_at)
        if hit is not None:
            reasons.append(
                f"签名证书(序列号 {serial:x})已于 {iso(hit.revoked_at)} 被吊销({hit.where}),"
                f"早于登记该签名的时间 {iso(recorded_at)}"
            )
    return reasons


def history_checks(history: CrlHistory, where: str | None) -> list[CheckResult]:
    """The registered CRLs as a whole: each usable and this CA's, numbers only going up."""
    problems = [f"登记簿第 {c.index} 条:{c.problem}" for c in history.crls if c.problem]
    problems += history.backwards()
    problems += history.problems
    if problems:
        return [CheckResult(CRLS_CHECK, False, ";".join(problems), where)]
    if not history.crls:
        return [
            CheckResult(
                CRLS_CHECK, False, f"{history.source}中没有本单位根证书签发的任何吊销列表", where
            )
        ]
    newest = history.crls[-1]
    return [
        CheckResult(
            CRLS_CHECK,
            True,
            f"{history.source}中共 {len(history.crls)} 份吊销列表,均由本单位根证书签发,"
            f"编号逐次增大;最新的是{newest.label}",
            where,
        )
    ]


def given_crl_check(
    given: x509.CertificateRevocationList, history: CrlHistory, shown: str | None
) -> CheckResult | None:
    """Whether the CRL the verifier was given is not older than the newest registered one
    (``None`` when nothing is registered to compare it with)."""
    newest = history.newest
    if newest is None or newest.problem is not None:
        return None
    number, sha = crl_number(given), crl_sha256(given)
    if number < newest.number:
        return CheckResult(
            CURRENT_CHECK,
            False,
            f"给出的吊销列表是第 {number} 号,早于{history.source}中最新的{newest.label}:"
            "已过时,请使用最新的吊销列表",
            shown,
        )
    if number == newest.number and sha != newest.sha256:
        return CheckResult(
            CURRENT_CHECK,
            False,
            f"给出的吊销列表与{history.source}中的{newest.label}编号相同、内容不同(SHA-256 不符)",
            shown,
        )
    if number == newest.number:
        return CheckResult(
            CURRENT_CHECK, True, f"给出的吊销列表就是{history.source}中最新的{newest.label}", shown
        )
    return CheckResult(
        CURRENT_CHECK,
        True,
        f"给出的吊销列表(第 {number} 号)比{history.source}中最新的{newest.label}更新",
        shown,
    )


def expiry_warning(
    given: x509.CertificateRevocationList, history: CrlHistory, now: datetime | None
) -> CheckResult | None:
    """A warning (not a failure) when the newest CRL known — registered or given — is past its
    nextUpdate at ``now``: revocations since then are not known to this verification."""
    if now is None:
        return None
    candidates: list[tuple[int, datetime, str]] = []
    if given.next_update_utc is not None:  # docgen always writes one
        candidates.append((crl_number(given), given.next_update_utc, "给出的吊销列表"))
    newest = history.newest
    if newest is not None and newest.next_update is not None:
        candidates.append((newest.number, newest.next_update, newest.label))
    if not candidates:
        return None
    number, expires, label = max(candidates, key=lambda c: c[0])
    if expires >= now:
        return None
    return CheckResult(
        "吊销列表有效期",
        True,
        f"最新的吊销列表({label},第 {number} 号)已于 {iso(expires)} 过期:此后的吊销情况未知,"
        "请向办公室索取新的吊销列表(docgen keys crl)",
        warning=True,
    )


def crl_files(history: CrlHistory) -> tuple[CrlFile, ...]:
    """The registered CRLs as an archive holds them for openssl (``crls/crl-<number>.pem``)."""
    return tuple(
        CrlFile(crl.index, crl.number, x509.load_der_x509_crl(crl.der).public_bytes(Encoding.PEM))
        for crl in history.crls
        if crl.problem is None
    )
