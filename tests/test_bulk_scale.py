"""The bulk paths that keep memory flat and per-letter costs low give the same results as the
plain ones: the streamed manifest, the slim year state, the directly encoded signer attributes,
and the per-process memory of verified checkpoints and CRL signatures."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asn1crypto.tsp
import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from signed_year import YEAR, build_workspace

from docgen.core.errors import VerificationError
from docgen.records.manifest import MANIFEST_NAME, manifest_data, write_manifest
from docgen.records.proofs import letter_proof
from docgen.records.state import build_year_state, read_year_state
from docgen.records.status import void_letter
from docgen.registry import open_registry, verify_proof_bundle
from docgen.signing.ca import load_ca_certificate
from docgen.signing.cades_sign import DetachedSigner
from docgen.signing.cades_verify import verify_detached
from docgen.signing.crl import crl_issued_by, load_crl
from docgen.signing.keyfiles import ca_paths
from docgen.signing.revocation_state import read_revocation_state
from docgen.signing.signer import Signer, load_signer
from docgen.signing.x509util import issued_by


def _signer(ws, person: str, passphrase, at: datetime) -> Signer:  # type: ignore[no-untyped-def]
    """:func:`load_signer` with the workspace registry's revocation state."""
    with open_registry(ws) as registry:
        registered = read_revocation_state(registry, load_ca_certificate(ws.keys_dir))
    return load_signer(ws.keys_dir, person, passphrase, now=at, registered=registered)


@pytest.fixture(scope="module")
def signed_ws(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ws = build_workspace(tmp_path_factory.mktemp("bulk") / "ws")
    with open_registry(ws) as registry:
        doc_id = next(iter(read_year_state(registry, YEAR).letters))
    void_letter(ws, doc_id, "测试作废", now=datetime(2027, 1, 7, tzinfo=UTC))
    return ws


def test_streamed_manifest_is_byte_identical_to_one_json_dump(signed_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with open_registry(signed_ws) as registry:  # signature records are read back from it
        state = read_year_state(registry, YEAR)
        empty = read_year_state(registry, YEAR + 1)
        statuses = {d["status"] for d in manifest_data(state, "某院")["documents"]}
        assert statuses == {"voided", "complete"}
        for year_state, folder in ((state, tmp_path / "a"), (empty, tmp_path / "b")):
            path = write_manifest(folder, year_state, "某院")
            expected = json.dumps(manifest_data(year_state, "某院"), ensure_ascii=False, indent=2)
            assert path == folder / MANIFEST_NAME
            assert path.read_bytes() == (expected + "\n").encode("utf-8")
            assert json.loads(path.read_text(encoding="utf-8"))["year"] == year_state.year
            assert [p.name for p in folder.iterdir()] == [MANIFEST_NAME]  # no temporary file


def test_slim_state_matches_the_state_built_from_parsed_entries(signed_ws) -> None:  # type: ignore[no-untyped-def]
    with open_registry(signed_ws) as registry:
        slim = read_year_state(registry, YEAR)
        full = build_year_state(registry.entries(), YEAR)
        assert list(slim.letters) == list(full.letters)
        for doc_id, letter in slim.letters.items():
            other = full.letters[doc_id]
            assert [e.index for e in letter.entries()] == [e.index for e in other.entries()]
            assert letter.record == other.record
            assert letter.party_ids() == {p["party"]: p["id"] for p in letter.record["parties"]}
            assert letter.voided == other.voided and letter.complete == other.complete
        assert slim.parties() == full.parties()
        assert sum(1 for s in slim.letters.values() if s.voided) == 1


def _reference_attributes(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """The signer identifier and signingCertificateV2 attribute as asn1crypto encodes them."""
    der = cert.public_bytes(serialization.Encoding.DER)
    loaded = asn1_x509.Certificate.load(der)
    issuer = asn1_x509.Name.load(cert.issuer.public_bytes())
    sid = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": issuer, "serial_number": loaded.serial_number}
            )
        }
    ).dump(force=True)
    names = asn1_x509.GeneralNames([asn1_x509.GeneralName({"directory_name": issuer})])
    certs = asn1crypto.tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "cert_hash": loaded.sha256,
                    "issuer_serial": {"issuer": names, "serial_number": loaded.serial_number},
                }
            ]
        }
    )
    attribute = cms.CMSAttribute({"type": "signing_certificate_v2", "values": [certs]})
    return bytes(sid), bytes(attribute.dump(force=True))


def _self_signed_rsa(serial: int) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "某某县人民检察院" * 4),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "党风廉政建设登记簿" * 3),
            x509.NameAttribute(NameOID.COMMON_NAME, "阿依古丽·买买提 𠮷野家 A&B<C>"),
        ]
    )
    start = datetime(2027, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def test_signer_attributes_equal_asn1crypto_encoding(signed_ws) -> None:  # type: ignore[no-untyped-def]
    ca = load_ca_certificate(signed_ws.keys_dir)
    with open_registry(signed_ws) as registry:
        person = read_year_state(registry, YEAR).parties()[0]
    from signed_year import PERSON_PASSPHRASE

    signer = _signer(signed_ws, person, PERSON_PASSPHRASE, datetime(2027, 1, 6, tzinfo=UTC))
    cases: list[tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, x509.Certificate]] = [
        (signer.key, signer.cert),
        *(_self_signed_rsa(serial) for serial in (1, 0x80, 2**159 - 1)),
    ]
    for key, cert in cases:
        fast = DetachedSigner(key, cert)
        sid, attribute = _reference_attributes(cert)
        assert fast._sid == sid
        assert fast._signing_certificate == attribute
        assert len(attribute) > 0x80 or cert is signer.cert  # long-form lengths are exercised
    p7s = DetachedSigner(signer.key, signer.cert).sign(
        b"letter", signing_time=datetime(2027, 1, 6, tzinfo=UTC)
    )
    status = verify_detached(
        b"letter", p7s, ca_cert=ca, crl=None, at=datetime(2027, 1, 6, tzinfo=UTC)
    )
    assert status.valid, status.failures


def test_a_remembered_checkpoint_does_not_let_a_forged_one_through(signed_ws) -> None:  # type: ignore[no-untyped-def]
    with open_registry(signed_ws) as registry:
        letter = next(iter(read_year_state(registry, YEAR).letters.values()))
        bundle = letter_proof(registry, letter)["entries"][0]
        key = registry.verifier_key
    assert verify_proof_bundle(bundle, key).index == bundle["index"]
    assert verify_proof_bundle(bundle, key).index == bundle["index"]  # now from memory
    forged = dict(bundle, checkpoint=bundle["checkpoint"].replace("\n", "\n\n", 1))
    with pytest.raises(VerificationError):
        verify_proof_bundle(forged, key)
    resized = dict(bundle, tree_size=bundle["tree_size"] + 1)
    with pytest.raises(VerificationError):
        verify_proof_bundle(resized, key)


def test_crl_signature_memory_is_per_ca(signed_ws) -> None:  # type: ignore[no-untyped-def]
    ca = load_ca_certificate(signed_ws.keys_dir)
    crl = load_crl(ca_paths(signed_ws.keys_dir).crl_pem)
    _key, stranger = _self_signed_rsa(7)
    assert crl_issued_by(crl, ca)
    assert crl_issued_by(crl, ca)
    assert not crl_issued_by(crl, stranger)
    assert issued_by(stranger, ca) is not None
    assert issued_by(stranger, ca) is not None


def _signature_naming(signer: Signer, general_names: bytes) -> bytes:
    """A signature whose signingCertificateV2 names the issuer with ``general_names``."""
    from docgen.signing import cades_sign

    der = signer.cert.public_bytes(serialization.Encoding.DER)
    serial = asn1_x509.Certificate.load(der).serial_number
    from asn1crypto import core

    issuer_serial = cades_sign.der_tlv(0x30, general_names + core.Integer(serial).dump())
    ess = cades_sign.der_tlv(
        0x30, cades_sign.der_tlv(0x04, hashlib.sha256(der).digest()) + issuer_serial
    )
    value = cades_sign.der_tlv(0x30, cades_sign.der_tlv(0x30, ess))
    fast = DetachedSigner(signer.key, signer.cert)
    fast._signing_certificate = cades_sign.der_tlv(
        0x30, cades_sign.SIGNING_CERTIFICATE_V2_OID + cades_sign.der_tlv(0x31, value)
    )
    return fast.sign(b"letter", signing_time=datetime(2027, 1, 6, tzinfo=UTC))


def test_signing_certificate_issuer_is_still_checked(signed_ws) -> None:  # type: ignore[no-untyped-def]
    from signed_year import PERSON_PASSPHRASE

    from docgen.signing import cades_sign

    ca = load_ca_certificate(signed_ws.keys_dir)
    with open_registry(signed_ws) as registry:
        person = read_year_state(registry, YEAR).parties()[0]
    at = datetime(2027, 1, 6, tzinfo=UTC)
    signer = _signer(signed_ws, person, PERSON_PASSPHRASE, at)
    issuer = signer.cert.issuer.public_bytes()
    other = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "别的根证书")]).public_bytes()
    dns = cades_sign.der_tlv(0x82, b"example.org")  # dNSName [2] IMPLICIT IA5String
    cases = {
        "right name": (cades_sign.der_tlv(0xA4, issuer), True),
        "right name after another name": (dns + cades_sign.der_tlv(0xA4, issuer), True),
        "another CA's name": (cades_sign.der_tlv(0xA4, other), False),
        "only a DNS name": (dns, False),
    }
    for label, (names, ok) in cases.items():
        p7s = _signature_naming(signer, cades_sign.der_tlv(0x30, names))
        status = verify_detached(b"letter", p7s, ca_cert=ca, crl=None, at=at)
        assert status.valid is ok, (label, status.failures)
        if not ok:
            assert any("签发者和序列号" in f for f in status.failures), status.failures


def _reference_sign(signer: DetachedSigner, data: bytes, signing_time: datetime) -> bytes:
    """The SignedData as asn1crypto builds it from the same values (the earlier implementation)."""
    from asn1crypto import algos, core

    from docgen.signing import cades_sign

    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(data).digest()]}),
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cades_sign._signing_time(signing_time)]}
            ),
            cms.CMSAttribute.load(signer._signing_certificate),
        ]
    )
    to_be_signed = signed_attrs.dump()
    key = signer._key
    assert isinstance(key, rsa.RSAPrivateKey)
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = key.sign(to_be_signed, padding.PKCS1v15(), hashes.SHA256())
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier.load(signer._sid),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm(
                {"algorithm": "rsassa_pkcs1v15", "parameters": core.Null()}
            ),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [
                cms.CertificateChoices({"certificate": asn1_x509.Certificate.load(der)})
                for der in signer._certificates
            ],
            "signer_infos": [signer_info],
        }
    )
    info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return bytes(info.dump(force=True))


def test_signed_data_equals_asn1crypto_encoding(signed_ws) -> None:  # type: ignore[no-untyped-def]
    from signed_year import PERSON_PASSPHRASE

    data = b"letter bytes " * 1000  # long enough for multi-byte lengths everywhere
    for when in (datetime(2027, 1, 6, 9, 30, 15, tzinfo=UTC), datetime(2051, 1, 1, tzinfo=UTC)):
        key, cert = _self_signed_rsa(0x1234)
        _other_key, other = _self_signed_rsa(5)
        for chain in ((), (other,)):
            signer = DetachedSigner(key, cert, chain=chain)
            assert signer.sign(data, signing_time=when) == _reference_sign(signer, data, when)
    at = datetime(2027, 1, 6, tzinfo=UTC)
    with open_registry(signed_ws) as registry:
        person = read_year_state(registry, YEAR).parties()[0]
    ec_signer = _signer(signed_ws, person, PERSON_PASSPHRASE, at)
    p7s = DetachedSigner(ec_signer.key, ec_signer.cert).sign(data, signing_time=at)
    assert cms.ContentInfo.load(p7s).dump(force=True) == p7s  # canonical DER
    ca = load_ca_certificate(signed_ws.keys_dir)
    assert verify_detached(data, p7s, ca_cert=ca, crl=None, at=at).valid


def test_verify_cli_jobs_gives_the_same_report(signed_ws) -> None:  # type: ignore[no-untyped-def]
    from helpers import run_docgen

    folder = str(signed_ws.year_dir(YEAR))
    one = run_docgen("verify", "-w", str(signed_ws.root), folder, "--jobs", "1", "--json")
    two = run_docgen("verify", "-w", str(signed_ws.root), folder, "--jobs", "2", "--json")
    assert one.code == two.code == 0, one.text
    assert json.loads(one.out) == json.loads(two.out)
    assert len(json.loads(one.out)["letters"]) > 1
    bad = run_docgen("verify", "-w", str(signed_ws.root), folder, "--jobs", "0")
    assert bad.code != 0 and "--jobs" in bad.text
