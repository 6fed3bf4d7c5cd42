"""What the registry says about revocation: the CRLs it holds and every certificate revoked.

The files under ``keys/ca/`` can be swapped for older ones (a CRL issued before a revocation is
still validly signed); the registry cannot lose an entry. So the signer judges the workspace CRL
against the registry, and takes the revoked serials from the registry as well as from the file:

- :func:`read_revocation_state` reads the ``crl`` and ``revocation`` entries once per command
  (optionally only those before a given index: the state a signature entry at that index was
  made in, for the verifier's online check) into a :class:`RevocationState`, which is plain,
  picklable data that worker processes receive as it is;
- :func:`judge_crl` says whether a CRL is the newest registered one (not older, not another one
  with the same number, not missing from the registry), and :func:`checked_workspace_crl` reads
  ``keys/ca/crl.pem`` and also refuses it once ``now`` is past its nextUpdate.

A registered CRL issued by another CA (the CA was rebuilt in the same registry) is not this
CA's history and is skipped; a ``crl`` entry that claims this CA but does not verify is an error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from docgen.core.errors import DocgenError, Location, ValidationError
from docgen.registry import Registry
from docgen.signing.crl import (
    crl_der,
    crl_from_record,
    crl_next_update,
    crl_number,
    crl_sha256,
    load_crl,
)
from docgen.signing.keyfiles import ca_paths
from docgen.signing.x509util import RevocationReason, fingerprint, iso_z, utc


class RevocationListError(DocgenError):
    """The workspace CRL cannot be trusted to sign with: stale, unregistered, altered or expired."""


@dataclass(frozen=True)
class RegisteredCrl:
    """One ``crl`` entry of this CA. The newest one in a :class:`RevocationState` was checked in
    full by :func:`docgen.signing.crl.crl_from_record`; older ones are as recorded."""

    index: int
    number: int
    sha256: str
    this_update: datetime
    next_update: datetime
    recorded_at: str
    der: bytes

    def crl(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl(self.der)


@dataclass(frozen=True)
class Revoked:
    """A revoked serial: the earliest revocation time any registered source gives, and where."""

    serial: int
    revoked_at: datetime
    reason: RevocationReason
    source: str  # in Chinese, e.g. "登记簿第 12 条 revocation 记录"


@dataclass(frozen=True)
class RevocationState:
    """The registry's revocation facts for one CA, up to some index."""

    issuer_fingerprint: str
    crls: tuple[RegisteredCrl, ...] = ()  # in index order
    revoked: Mapping[int, Revoked] = field(default_factory=dict)
    recorded: frozenset[int] = frozenset()  # serials that have a ``revocation`` entry

    @property
    def newest(self) -> RegisteredCrl | None:
        """The CRL registered last: the one in force for anything appended after it."""
        return self.crls[-1] if self.crls else None

    @property
    def highest_number(self) -> int:
        """The highest CRL number ever registered for this CA (0 when none)."""
        return max((c.number for c in self.crls), default=0)

    def revocation(self, serial: int) -> Revoked | None:
        return self.revoked.get(serial)

    def registered(self, sha256: str) -> RegisteredCrl | None:
        return next((c for c in self.crls if c.sha256 == sha256), None)


def _when(value: object, index: int, name: str) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise ValidationError(
            f"登记簿第 {index} 条记录的时间“{value}”无法解析",
            location=Location(field=name),
            hint="登记簿可能被改动;请运行 docgen registry audit 查明",
        ) from exc


def _serial(value: object, index: int) -> int:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return int(value, 16)
    except ValueError as exc:
        raise ValidationError(
            f"登记簿第 {index} 条记录的序列号“{value}”无法解析",
            location=Location(field="serial"),
            hint="登记簿可能被改动;请运行 docgen registry audit 查明",
        ) from exc


def _reason(value: object) -> RevocationReason:
    try:
        return RevocationReason(str(value))
    except ValueError:
        return RevocationReason.UNSPECIFIED


def _checked(record: Mapping[str, Any], index: int, ca_cert: x509.Certificate) -> RegisteredCrl:
    """The newest CRL, the one the workspace file must equal: DER, digest, every field and the
    CA's signature checked (:func:`~docgen.signing.crl.crl_from_record`)."""
    crl = crl_from_record(record, ca_cert=ca_cert, index=index)
    return RegisteredCrl(
        index=index,
        number=crl_number(crl),
        sha256=crl_sha256(crl),
        this_update=crl.last_update_utc,
        next_update=crl_next_update(crl),
        recorded_at=str(record.get("recorded_at", "")),
        der=crl_der(crl),
    )


def _as_recorded(
    record: Mapping[str, Any], index: int, _ca_cert: x509.Certificate
) -> RegisteredCrl:
    """An older CRL as its record states it, not parsed (one command would otherwise verify
    every CRL ever issued). What is taken from it can only make signing refuse more: its serials
    join the revoked set, its number can only raise the highest one, a file equal to it is
    stale. A verifier that needs an older CRL itself checks it with ``crl_from_record``."""
    number = record.get("number")
    sha = record.get("sha256")
    der = record.get("der")
    if not isinstance(number, int) or not isinstance(sha, str) or not isinstance(der, str):
        raise ValidationError(
            f"登记簿第 {index} 条吊销列表记录缺少编号、摘要或 DER",
            location=Location(field="number"),
            hint="登记簿可能被改动;请运行 docgen registry audit 查明",
        )
    try:
        raw = base64.b64decode(der.encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as exc:
        raw = None
        problem: Exception | None = exc
    else:
        problem = None
    if raw is None or hashlib.sha256(raw).hexdigest() != sha:
        raise ValidationError(
            f"登记簿第 {index} 条吊销列表记录的 DER 与其 SHA-256 不符",
            location=Location(field="der"),
            hint="登记簿可能被改动;请运行 docgen registry audit 查明",
        ) from problem
    return RegisteredCrl(
        index=index,
        number=number,
        sha256=sha,
        this_update=_when(record.get("this_update"), index, "this_update"),
        next_update=_when(record.get("next_update"), index, "next_update"),
        recorded_at=str(record.get("recorded_at", "")),
        der=raw,
    )


def _listed(record: Mapping[str, Any], index: int) -> list[Mapping[str, Any]]:
    listed = record.get("revoked")
    if not isinstance(listed, list) or not all(isinstance(x, dict) for x in listed):
        raise ValidationError(
            f"登记簿第 {index} 条吊销列表记录的吊销清单格式不对",
            location=Location(field="revoked"),
            hint="登记簿可能被改动;请运行 docgen registry audit 查明",
        )
    return listed


def revocation_state(
    entries: Iterable[tuple[int, Mapping[str, Any]]],
    ca_cert: x509.Certificate,
    *,
    before: int | None = None,
) -> RevocationState:
    """The state given by ``(index, record)`` pairs in index order (other types are ignored);
    with ``before``, only the entries at a lower index count."""
    issuer = fingerprint(ca_cert)
    crls: list[RegisteredCrl] = []
    revoked: dict[int, Revoked] = {}
    recorded: set[int] = set()

    def note(serial: int, at: datetime, reason: RevocationReason, source: str) -> None:
        known = revoked.get(serial)
        if known is None or at < known.revoked_at:
            revoked[serial] = Revoked(serial, at, reason, source)

    mine: list[tuple[int, Mapping[str, Any]]] = []  # this CA's crl records
    for index, record in entries:
        if before is not None and index >= before:
            break
        kind = record.get("type")
        if kind == "revocation":
            serial = _serial(record.get("serial"), index)
            recorded.add(serial)
            note(
                serial,
                _when(record.get("revoked_at"), index, "revoked_at"),
                _reason(record.get("reason")),
                f"登记簿第 {index} 条吊销记录",
            )
        elif kind == "crl" and record.get("issuer_fingerprint") == issuer:
            mine.append((index, record))
        # a crl record of another CA (the CA was rebuilt) is not this CA's history
    for place, (index, record) in enumerate(mine):
        entry = (_checked if place == len(mine) - 1 else _as_recorded)(record, index, ca_cert)
        crls.append(entry)
        number = entry.number
        for listed in _listed(record, index):
            note(
                _serial(listed.get("serial"), index),
                _when(listed.get("revoked_at"), index, "revoked"),
                _reason(listed.get("reason")),
                f"登记簿第 {index} 条(第 {number} 号吊销列表)",
            )
    return RevocationState(issuer, tuple(crls), revoked, frozenset(recorded))


def read_revocation_state(
    registry: Registry, ca_cert: x509.Certificate, *, before: int | None = None
) -> RevocationState:
    """:func:`revocation_state` of the registry's ``crl`` and ``revocation`` entries."""
    entries = sorted(
        [*registry.entries(type="crl"), *registry.entries(type="revocation")],
        key=lambda e: e.index,
    )
    return revocation_state(((e.index, e.record) for e in entries), ca_cert, before=before)


# ---------------------------------------------------------------------------------------------
# judging a CRL against the registry

_FIX = "请运行 docgen keys crl 重新签发并登记"


def judge_crl(
    crl: x509.CertificateRevocationList, state: RevocationState, path: Path
) -> RegisteredCrl:
    """The registered entry of ``crl`` when it is the newest registered CRL; otherwise refused
    (older than the newest, another CRL with the newest number, or not registered at all)."""
    where = Location(file=str(path))
    number, sha = crl_number(crl), crl_sha256(crl)
    newest = state.newest
    if newest is not None and newest.sha256 == sha:
        return newest
    if newest is None:
        raise RevocationListError(
            f"吊销列表(第 {number} 号)没有记入登记簿,拒绝签名",
            location=where,
            hint=f"{_FIX}(此前建立的工作目录也可运行 docgen keys init-ca 补记)",
        )
    highest = state.highest_number
    older = state.registered(sha)
    if older is not None or number < highest:
        raise RevocationListError(
            f"吊销列表已过时:本文件是第 {number} 号,登记簿中最新的是第 {newest.number} 号"
            f"(登记于 {newest.recorded_at}),可能被换成了旧文件,拒绝签名",
            location=where,
            hint=_FIX,
        )
    if number == highest:
        raise RevocationListError(
            f"吊销列表与登记簿中的第 {number} 号内容不一致(SHA-256 不同),拒绝签名",
            location=where,
            hint=_FIX,
        )
    raise RevocationListError(
        f"吊销列表(第 {number} 号)没有记入登记簿(登记簿中最新的是第 {newest.number} 号),"
        "可能是吊销或发布时中断,拒绝签名",
        location=where,
        hint=_FIX,
    )


def require_fresh(crl: x509.CertificateRevocationList, path: Path, now: datetime) -> None:
    """Refuse a CRL whose nextUpdate is before ``now``."""
    expires = crl_next_update(crl)
    if utc(now) > expires:
        raise RevocationListError(
            f"吊销列表已于 {iso_z(expires)} 过期",
            location=Location(file=str(path)),
            hint="请运行 docgen keys crl 重新签发",
        )


@dataclass(frozen=True)
class CheckedCrl:
    """The workspace CRL after :func:`checked_workspace_crl`: the newest registered one."""

    crl: x509.CertificateRevocationList
    path: Path
    registered: RegisteredCrl


def checked_workspace_crl(
    keys_dir: Path,
    ca_cert: x509.Certificate,
    state: RevocationState,
    *,
    now: datetime | None,
) -> CheckedCrl:
    """``keys/ca/crl.pem``, refused when missing, not this CA's, not the newest registered CRL
    or (with ``now``) expired."""
    path = ca_paths(keys_dir).crl_pem
    if not path.exists():
        raise RevocationListError(
            "证书吊销列表不存在,拒绝签名",
            location=Location(file=str(path)),
            hint=f"{_FIX}(登记簿中保存着全部吊销记录)",
        )
    crl = load_crl(path, ca_cert=ca_cert)
    entry = judge_crl(crl, state, path)
    if now is not None:
        require_fresh(crl, path, now)
    return CheckedCrl(crl, path, entry)
