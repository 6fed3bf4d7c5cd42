"""The personal certificate profile: purpose, policy and CRL address, and what generic tools make
of it — openssl (``cms -verify``, ``verify -crl_check``) and pyhanko-certvalidator.

The review found that a generic validator in its default mode calls a revoked docgen certificate
valid: with no cRLDistributionPoints it never looks for a CRL. These tests show the extensions
are there, that the tools now find the revocation, and that good certificates still pass.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import AsyncGenerator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from helpers import CliOutcome, run_docgen

from docgen.core.workspace import (
    CONFIG_NAME,
    DEFAULT_CRL_URL,
    config_text,
    default_policy_oid,
    find_workspace,
)
from docgen.signing.keyfiles import ca_paths, person_paths
from docgen.signing.profile import DOCUMENT_SIGNING

CA_SECRET = "ca-口令-profile-tests"
PERSON_SECRET = "person-口令-profile-tests"
INSTITUTION = "庆城县人民检察院"
T0 = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
REVOKED_AT = T0 + timedelta(hours=1)
CHECKED_AT = T0 + timedelta(hours=2)
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl 命令不可用,跳过互操作检查")


def docgen(root: Path, *args: str) -> CliOutcome:
    outcome = run_docgen(*args, "-w", str(root))
    assert "Traceback" not in outcome.text
    return outcome


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace through the CLI: P001 and P002 issued, P002 revoked an hour later."""
    root = tmp_path_factory.mktemp("profile") / "ws"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
        env.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
        env.setenv("DOCGEN_NOW", T0.isoformat())
        assert run_docgen("init", str(root)).code == 0
        for args in (
            ["keys", "init-ca"],
            ["keys", "issue", "--person", "P001", "--person", "P002"],
            ["generate", "--year", "2027"],
        ):
            outcome = docgen(root, *args)
            assert outcome.code == 0, (args, outcome.text)
        env.setenv("DOCGEN_NOW", REVOKED_AT.isoformat())
        outcome = docgen(root, "keys", "revoke", "--person", "P002", "--reason", "key_compromise")
        assert outcome.code == 0, outcome.text
        env.setenv("DOCGEN_NOW", CHECKED_AT.isoformat())
        outcome = docgen(root, "sign", "--as", "P001", "--year", "2027")
        assert outcome.code == 0, outcome.text
    yield root


def good_cert(root: Path) -> Path:
    return person_paths(root / "keys", "P001").cert


def revoked_cert(root: Path) -> Path:
    (path,) = person_paths(root / "keys", "P002").revoked.glob("*.pem")
    return path


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


# ---------------------------------------------------------------------------------------------
# the extensions


def test_personal_certificate_carries_purpose_policy_and_crl_address(pki: Path) -> None:
    cert = load(good_cert(pki))
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert not eku.critical
    assert list(eku.value) == [DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert DOCUMENT_SIGNING.dotted_string == "1.3.6.1.5.5.7.3.36"
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert not policies.critical
    assert [p.policy_identifier.dotted_string for p in policies.value] == [
        default_policy_oid(INSTITUTION)
    ]
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    assert not points.critical
    (point,) = points.value
    assert point.full_name == [x509.UniformResourceIdentifier(DEFAULT_CRL_URL)]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)  # as before
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign


def test_root_certificate_is_unchanged(pki: Path) -> None:
    ca = load(ca_paths(pki / "keys").cert)
    present = {type(ext.value) for ext in ca.extensions}
    assert present == {
        x509.BasicConstraints, x509.KeyUsage, x509.SubjectKeyIdentifier,
        x509.AuthorityKeyIdentifier,
    }  # fmt: skip


def test_default_policy_oid_is_derived_from_the_name_with_uuid5() -> None:
    expected = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:docgen:certificate-policy:{INSTITUTION}")
    assert default_policy_oid(INSTITUTION) == f"2.25.{expected.int}"
    assert default_policy_oid(f" {INSTITUTION} ") == default_policy_oid(INSTITUTION)
    assert default_policy_oid("另一个县人民检察院") != default_policy_oid(INSTITUTION)
    x509.ObjectIdentifier(default_policy_oid(INSTITUTION))  # a valid OID for cryptography too
    text = config_text(INSTITUTION, 2027)
    assert f'certificate_policy_oid = "{default_policy_oid(INSTITUTION)}"' in text
    assert f'crl_url = "{DEFAULT_CRL_URL}"' in text


def test_configured_policy_and_crl_url_go_into_new_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    monkeypatch.setenv("DOCGEN_NOW", T0.isoformat())
    assert run_docgen("init", str(root)).code == 0
    config = root / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    text = text.replace(f'"{DEFAULT_CRL_URL}"', '"https://jcy.example.gov.cn/ca/crl.der"')
    text = text.replace(f'"{default_policy_oid(INSTITUTION)}"', '"1.2.156.999.1.2"')
    config.write_text(text, encoding="utf-8")
    assert find_workspace(root).config.policy_oid == "1.2.156.999.1.2"
    assert docgen(root, "keys", "init-ca").code == 0
    assert docgen(root, "keys", "issue", "--person", "P001").code == 0
    cert = load(good_cert(root))
    (policy,) = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policy.policy_identifier.dotted_string == "1.2.156.999.1.2"
    (point,) = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert point.full_name == [x509.UniformResourceIdentifier("https://jcy.example.gov.cn/ca/crl.der")]


def test_a_config_without_the_new_fields_gets_the_defaults(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert run_docgen("init", str(root)).code == 0
    config = root / CONFIG_NAME
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if not ln.startswith(("crl_url", "certificate_policy_oid"))]
    config.write_text("".join(kept), encoding="utf-8")
    loaded = find_workspace(root).config
    assert loaded.crl_url == DEFAULT_CRL_URL
    assert loaded.policy_oid == default_policy_oid(INSTITUTION)


@pytest.mark.parametrize(
    "value",
    [
        "/var/www/html/crl.der",
        "keys/ca/crl.der",
        "file:///srv/ca/crl.der",
        "ldap://ldap.example/cn=ca",
        "http://",
        "http://127.0.0.1:notaport/crl.der",
        "http://吊销列表.example/crl.der",
        "http://example.org/crl der",
        "",
    ],
)
def test_crl_url_must_be_an_http_url(tmp_path: Path, value: str) -> None:
    root = tmp_path / "ws"
    assert run_docgen("init", str(root)).code == 0
    config = root / CONFIG_NAME
    text = config.read_text(encoding="utf-8").replace(f'"{DEFAULT_CRL_URL}"', f'"{value}"')
    config.write_text(text, encoding="utf-8")
    out = docgen(root, "keys", "list")
    assert out.code == 1, out.text
    assert "docgen.toml" in out.err and "字段“crl_url”" in out.err
    assert "只能是网址,不能是文件路径" in out.err
    assert "\n" not in out.err.strip()


@pytest.mark.parametrize("value", ["abc", "2.25.", "1.40.5", "3.1", "2.25.01", "2"])
def test_policy_oid_must_be_an_oid(tmp_path: Path, value: str) -> None:
    root = tmp_path / "ws"
    assert run_docgen("init", str(root)).code == 0
    config = root / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    text = text.replace(f'"{default_policy_oid(INSTITUTION)}"', f'"{value}"')
    config.write_text(text, encoding="utf-8")
    out = docgen(root, "keys", "list")
    assert out.code == 1, out.text
    assert "docgen.toml" in out.err and "字段“certificate_policy_oid”" in out.err


# ---------------------------------------------------------------------------------------------
# openssl


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run(
        [OPENSSL, *args], capture_output=True, text=True, check=False, timeout=60
    )


@needs_openssl
@pytest.mark.parametrize("purpose_any", [True, False], ids=["purpose-any", "default-purpose"])
def test_openssl_cms_verify_accepts_a_signature_made_by_the_cli(
    pki: Path, purpose_any: bool
) -> None:
    (p7s,) = (pki / "output" / "2027").rglob("2027-ZR-P001-P002*.P001.p7s")
    letter = p7s.with_name(p7s.name.removesuffix(".P001.p7s"))
    args = [
        "cms", "-verify", "-binary", "-inform", "DER", "-content", str(letter), "-in", str(p7s),
        "-CAfile", str(ca_paths(pki / "keys").cert), "-attime", str(int(CHECKED_AT.timestamp())),
        "-out", "/dev/null",
    ]  # fmt: skip
    if purpose_any:
        args[-2:-2] = ["-purpose", "any"]
    result = _openssl(*args)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


@needs_openssl
def test_openssl_verify_crl_check_reports_the_revoked_certificate(pki: Path) -> None:
    paths = ca_paths(pki / "keys")

    def verify(cert: Path) -> subprocess.CompletedProcess[str]:
        return _openssl(
            "verify", "-crl_check", "-CAfile", str(paths.cert), "-CRLfile", str(paths.crl_pem),
            "-attime", str(int(CHECKED_AT.timestamp())), str(cert),
        )  # fmt: skip

    revoked = verify(revoked_cert(pki))
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr
    good = verify(good_cert(pki))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.strip().endswith(": OK")


# ---------------------------------------------------------------------------------------------
# pyhanko-certvalidator (pyHanko's validator, a docgen dependency through pyhanko), in its default
# (soft-fail) revocation mode: it checks revocation only where a certificate declares a source.


def _asn1(path: Path) -> Any:
    from asn1crypto import x509 as asn1_x509

    der = load(path).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


class _ServedCrls:
    """A CRL fetcher that serves fixed bytes for given URLs (no network, no files), and records
    which URLs a validator asked for: the ones it read from the certificate."""

    def __init__(self, served: dict[str, bytes]) -> None:
        from pyhanko_certvalidator.fetchers.api import CRLFetcher

        outer = self
        self.asked: list[str] = []
        self.by_cert: dict[bytes, list[Any]] = {}

        class Fetcher(CRLFetcher):
            async def fetch(self, cert: Any, *, use_deltas: Any = None) -> Iterable[Any]:
                from asn1crypto import crl
                from pyhanko_certvalidator.fetchers.common_utils import (
                    enumerate_delivery_point_urls,
                )
                from pyhanko_certvalidator.util import get_relevant_crl_dps, issuer_serial

                found = []
                for point in get_relevant_crl_dps(cert, use_deltas=bool(use_deltas)):
                    for url in enumerate_delivery_point_urls(point):
                        outer.asked.append(url)
                        if url in served:
                            found.append(crl.CertificateList.load(served[url]))
                outer.by_cert[issuer_serial(cert)] = found
                return found

            def fetched_crls(self) -> Iterable[Any]:
                return [c for crls in outer.by_cert.values() for c in crls]

            def fetched_crls_for_cert(self, cert: Any) -> Iterable[Any]:
                from pyhanko_certvalidator.util import issuer_serial

                return outer.by_cert[issuer_serial(cert)]

        self.fetcher = Fetcher()

    def fetchers(self) -> Any:
        from pyhanko_certvalidator.fetchers.api import CertificateFetcher, Fetchers, OCSPFetcher

        class NoOcsp(OCSPFetcher):
            async def fetch(self, cert: Any, authority: Any) -> Any:
                from pyhanko_certvalidator.errors import OCSPFetchError

                raise OCSPFetchError("no OCSP here")

            def fetched_responses(self) -> Iterable[Any]:
                return []

            def fetched_responses_for_cert(self, cert: Any) -> Iterable[Any]:
                return []

        class NoCerts(CertificateFetcher):
            async def fetch_cert_issuers(self, cert: Any) -> AsyncGenerator[Any, None]:
                for found in ():
                    yield found

            async def fetch_crl_issuers(self, certificate_list: Any) -> AsyncGenerator[Any, None]:
                for found in ():
                    yield found

            def fetched_certs(self) -> Iterable[Any]:
                return []

        return Fetchers(ocsp_fetcher=NoOcsp(), crl_fetcher=self.fetcher, cert_fetcher=NoCerts())


def _validate(pki: Path, cert: Path, **context: Any) -> Any:
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.policy_decl import PKIXValidationParams

    ca = _asn1(ca_paths(pki / "keys").cert)
    ctx = ValidationContext(trust_roots=[ca], moment=CHECKED_AT, **context)
    params = PKIXValidationParams(
        user_initial_policy_set=frozenset({default_policy_oid(INSTITUTION)}),
        initial_explicit_policy=True,
    )
    validator = CertificateValidator(_asn1(cert), validation_context=ctx, pkix_params=params)
    return asyncio.run(
        validator.async_validate_usage(
            {"digital_signature", "non_repudiation"},
            extended_key_usage={DOCUMENT_SIGNING.dotted_string},
        )
    )


def test_certvalidator_fetches_the_crl_from_the_distribution_point(pki: Path) -> None:
    from pyhanko_certvalidator.errors import RevokedError

    served = _ServedCrls({DEFAULT_CRL_URL: ca_paths(pki / "keys").crl_der.read_bytes()})
    with pytest.raises(RevokedError):
        _validate(pki, revoked_cert(pki), allow_fetching=True, fetchers=served.fetchers())
    assert served.asked == [DEFAULT_CRL_URL]
    served = _ServedCrls({DEFAULT_CRL_URL: ca_paths(pki / "keys").crl_der.read_bytes()})
    path = _validate(pki, good_cert(pki), allow_fetching=True, fetchers=served.fetchers())
    assert path.leaf.dump() == _asn1(good_cert(pki)).dump()
    assert served.asked == [DEFAULT_CRL_URL]


def test_certvalidator_with_the_crl_given(pki: Path) -> None:
    from pyhanko_certvalidator.errors import RevokedError

    crl = ca_paths(pki / "keys").crl_der.read_bytes()
    for mode in ("soft-fail", "hard-fail"):
        with pytest.raises(RevokedError):
            _validate(pki, revoked_cert(pki), crls=[crl], revocation_mode=mode)
        _validate(pki, good_cert(pki), crls=[crl], revocation_mode=mode)


def test_certvalidator_holds_the_certificate_to_the_policy(pki: Path) -> None:
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathValidationError
    from pyhanko_certvalidator.policy_decl import PKIXValidationParams

    ca = _asn1(ca_paths(pki / "keys").cert)
    crl = ca_paths(pki / "keys").crl_der.read_bytes()
    ctx = ValidationContext(trust_roots=[ca], moment=CHECKED_AT, crls=[crl])
    other = PKIXValidationParams(
        user_initial_policy_set=frozenset({default_policy_oid("另一个县人民检察院")}),
        initial_explicit_policy=True,
    )
    validator = CertificateValidator(
        _asn1(good_cert(pki)), validation_context=ctx, pkix_params=other
    )
    with pytest.raises(PathValidationError):
        asyncio.run(validator.async_validate_usage({"digital_signature"}))
