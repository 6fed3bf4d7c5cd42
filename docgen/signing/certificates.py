"""Personal keys and certificates: issuing them under the root CA, and replacing them (rotate).

Every function takes ``now`` instead of reading the clock, and returns the registry's
``certificate`` records for the caller to append; this module never touches the registry.
The extensions beyond keyUsage (purpose, policy, CRL address) are :mod:`docgen.signing.profile`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from docgen.core.errors import Location, UsageError
from docgen.core.models import Person, Roster
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.keyfiles import (
    PRIVATE_FILE_MODE,
    PUBLIC_FILE_MODE,
    ca_paths,
    certificate_pem,
    encrypt_private_key,
    generate_private_key,
    load_certificate,
    make_private_dir,
    person_paths,
    write_atomic,
)
from docgen.signing.passphrase import Passphrase, require_new_strength
from docgen.signing.profile import CertificateProfile
from docgen.signing.x509util import (
    Algorithm,
    CertificateRefusedError,
    SigningKey,
    algorithm_of,
    fingerprint,
    fit_common_name,
    iso_z,
    require_positive_days,
    serial_hex,
    subject_key_id,
    utc_second,
    validity_problem,
)


def certificate_record(person_id: str, cert: x509.Certificate) -> dict[str, Any]:
    """The registry's ``certificate`` record for a newly issued certificate."""
    return {
        "type": "certificate",
        "person": person_id,
        "cert_fingerprint": fingerprint(cert),
        "serial": serial_hex(cert),
        "not_before": iso_z(cert.not_valid_before_utc),
        "not_after": iso_z(cert.not_valid_after_utc),
    }


@dataclass(frozen=True)
class IssuedCertificate:
    person_id: str
    name: str
    cert: x509.Certificate
    cert_path: Path
    key_path: Path
    record: dict[str, Any]
    replaced_serial: str | None = None  # set by rotate: the serial moved to old/

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)

    @property
    def serial(self) -> str:
        return serial_hex(self.cert)


@dataclass(frozen=True)
class IssueResult:
    issued: tuple[IssuedCertificate, ...]
    skipped: tuple[tuple[str, str], ...]  # (person id, reason in Chinese)

    @property
    def records(self) -> tuple[dict[str, Any], ...]:
        return tuple(item.record for item in self.issued)


def _person_certificate(
    person: Person,
    key: SigningKey,
    *,
    institution: str,
    ca_cert: x509.Certificate,
    ca_key: SigningKey,
    now: datetime,
    days: int,
    profile: CertificateProfile,
) -> x509.Certificate:
    start = utc_second(now)
    end = min(start + timedelta(days=days), ca_cert.not_valid_after_utc)
    if end <= start:
        raise CertificateRefusedError(
            f"根证书已于 {iso_z(ca_cert.not_valid_after_utc)} 到期,不能再签发证书",
            hint="请重建根证书(docgen keys init-ca)",
        )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, institution),
            x509.NameAttribute(NameOID.COMMON_NAME, fit_common_name(person.name)),
            x509.NameAttribute(NameOID.USER_ID, person.id),
        ]
    )
    ski = subject_key_id(ca_cert)
    aki = (
        x509.AuthorityKeyIdentifier(
            key_identifier=ski, authority_cert_issuer=None, authority_cert_serial_number=None
        )
        if ski is not None
        else x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(aki, critical=False)
    )
    for extension in profile.extensions():
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(ca_key, hashes.SHA256())


@dataclass(frozen=True)
class _CaMaterial:
    cert: x509.Certificate
    key: SigningKey
    profile: CertificateProfile


def _open_ca(
    keys_dir: Path, ca_passphrase: Passphrase, now: datetime, profile: CertificateProfile
) -> _CaMaterial:
    ca_cert = load_ca_certificate(keys_dir)
    problem = validity_problem(ca_cert, now)
    if problem is not None:
        raise CertificateRefusedError(
            f"根证书不可用:{problem}", location=Location(file=str(ca_paths(keys_dir).cert))
        )
    return _CaMaterial(ca_cert, load_ca_key(keys_dir, ca_passphrase, ca_cert), profile)


def _roster_person(roster: Roster, person_id: str) -> Person:
    try:
        return roster.person(person_id)
    except KeyError as exc:
        raise UsageError(
            f"名册中没有编号为“{person_id}”的人员",
            location=Location(file=roster.source) if roster.source else None,
            hint="请用 docgen keys list 或查看名册核对编号",
        ) from exc


def issue_certificates(
    keys_dir: Path,
    roster: Roster,
    person_ids: Sequence[str] | None,
    *,
    institution: str,
    ca_passphrase: Passphrase,
    passphrase: Passphrase | Callable[[str], Passphrase],
    now: datetime,
    days: int,
    algorithm: Algorithm | None = None,
    profile: CertificateProfile | None = None,
) -> IssueResult:
    """Give each person (``None``: everyone in the roster) a key pair and a certificate.

    A person named explicitly who already has a certificate is refused (use :func:`rotate`);
    with ``None``, such people are skipped and listed in ``skipped``. Nothing is written for
    anyone when the CA passphrase is wrong, or when anyone's passphrase is too short.
    ``passphrase`` is one for everyone, or a function giving each person's (by id).
    """
    require_positive_days(days, "证书有效期")
    explicit = person_ids is not None
    people = (
        [_roster_person(roster, pid) for pid in person_ids]
        if person_ids is not None
        else list(roster.people)
    )
    todo: list[Person] = []
    skipped: list[tuple[str, str]] = []
    for person in people:
        paths = person_paths(keys_dir, person.id)
        if paths.cert.exists() or paths.key.exists():
            if explicit:
                raise UsageError(
                    f"{person.name}({person.id})已有证书",
                    location=Location(file=str(paths.cert)),
                    hint=f"要换新密钥请用 docgen keys rotate --person {person.id}",
                )
            skipped.append((person.id, "已有证书"))
            continue
        todo.append(person)
    if not todo:
        return IssueResult((), tuple(skipped))
    secrets = {
        person.id: passphrase(person.id) if callable(passphrase) else passphrase for person in todo
    }
    for secret in secrets.values():
        require_new_strength(secret)
    ca = _open_ca(keys_dir, ca_passphrase, now, profile or CertificateProfile.default(institution))
    issued = [
        _issue_one(
            keys_dir, person, ca, institution, secrets[person.id], now, days, algorithm, None
        )
        for person in todo
    ]
    return IssueResult(tuple(issued), tuple(skipped))


def _issue_one(
    keys_dir: Path,
    person: Person,
    ca: _CaMaterial,
    institution: str,
    passphrase: Passphrase,
    now: datetime,
    days: int,
    algorithm: Algorithm | None,
    replaced: x509.Certificate | None,
) -> IssuedCertificate:
    paths = person_paths(keys_dir, person.id)
    key = generate_private_key(algorithm or algorithm_of(ca.cert))
    cert = _person_certificate(
        person,
        key,
        institution=institution,
        ca_cert=ca.cert,
        ca_key=ca.key,
        now=now,
        days=days,
        profile=ca.profile,
    )
    key_pem = encrypt_private_key(key, passphrase)
    make_private_dir(paths.directory.parent)
    make_private_dir(paths.directory)
    if replaced is not None:
        make_private_dir(paths.old)
        write_atomic(
            paths.old / f"{serial_hex(replaced)}.pem", certificate_pem(replaced), PUBLIC_FILE_MODE
        )
    write_atomic(paths.key, key_pem, PRIVATE_FILE_MODE)
    write_atomic(paths.cert, certificate_pem(cert), PUBLIC_FILE_MODE)
    return IssuedCertificate(
        person_id=person.id,
        name=person.name,
        cert=cert,
        cert_path=paths.cert,
        key_path=paths.key,
        record=certificate_record(person.id, cert),
        replaced_serial=serial_hex(replaced) if replaced is not None else None,
    )


def rotate(
    keys_dir: Path,
    roster: Roster,
    person_id: str,
    *,
    institution: str,
    ca_passphrase: Passphrase,
    passphrase: Passphrase,
    now: datetime,
    days: int,
    algorithm: Algorithm | None = None,
    profile: CertificateProfile | None = None,
) -> IssuedCertificate:
    """Issue a new key and certificate; the old certificate moves to ``old/<serial>.pem``.

    The old certificate is not revoked, so signatures made with it stay verifiable; its key file is
    replaced, so it can sign nothing more.
    """
    require_positive_days(days, "证书有效期")
    person = _roster_person(roster, person_id)
    paths = person_paths(keys_dir, person.id)
    if not paths.cert.exists():
        raise UsageError(
            f"{person.name}({person.id})还没有证书,无需更换",
            location=Location(file=str(paths.cert)),
            hint=f"请用 docgen keys issue --person {person.id}",
        )
    old = load_certificate(paths.cert)
    require_new_strength(passphrase)
    ca = _open_ca(keys_dir, ca_passphrase, now, profile or CertificateProfile.default(institution))
    return _issue_one(keys_dir, person, ca, institution, passphrase, now, days, algorithm, old)
