"""The fast path of signature verification decides exactly what the full parse decides.

``cades_verify._Verifier`` first walks a signature's DER once (``cades_fast.fast_parse``) and
reports it only when it has the common shape and passes the first seven checks; everything else —
other shapes, non-canonical DER, any failed check — runs the full asn1crypto checklist from the
start. These tests compare the two paths on good signatures, on every bit flip, on truncations, on
re-encoded and re-signed variants, and check that the fast path refuses what it must leave to the
full one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from hypothesis import given, settings
from hypothesis import strategies as st
from pki_support import (
    DATA,
    EARLY_REVOKED,
    LATE_REVOCATION,
    LATE_REVOKED,
    SHORT_LIVED,
    SIGNED_AT,
    VALID,
    VERIFY_AT,
    Pki,
    person_passphrase,
)

from docgen.signing import cades_fast, cades_sign, cades_verify
from docgen.signing.cades_sign import DetachedSigner
from docgen.signing.cades_verify import SignatureStatus, verify_detached
from docgen.signing.keyfiles import load_private_key, person_paths
from docgen.signing.x509util import SigningKey, fingerprint

pytest_plugins = ("pki_fixtures",)

CMS_DIR = Path(__file__).resolve().parents[1] / "data" / "cms"
SAMPLE_AT = datetime(2027, 1, 4, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def full_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(cades_verify, "FAST_PATH", False)
    yield


def _both(data: bytes, p7s: bytes, **options: object) -> SignatureStatus:
    """Verify with the fast path allowed and with the full parse alone; they must agree."""
    fast = verify_detached(data, p7s, **options)  # type: ignore[arg-type]
    cades_verify.FAST_PATH = False
    try:
        full = verify_detached(data, p7s, **options)  # type: ignore[arg-type]
    finally:
        cades_verify.FAST_PATH = True
    assert fast == full
    assert fast.describe() == full.describe()
    assert (fast.certificate is None) == (full.certificate is None)
    if fast.certificate is not None:
        assert fast.certificate == full.certificate
    return fast


def _options(p: Pki, **extra: object) -> dict[str, object]:
    options: dict[str, object] = {"ca_cert": p.ca_cert, "crl": p.crl, "at": VERIFY_AT}
    options.update(extra)
    return options


def _key(p: Pki, person_id: str) -> SigningKey:
    return load_private_key(person_paths(p.keys_dir, person_id).key, person_passphrase())


def _flip(blob: bytes, index: int, mask: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ mask]) + blob[index + 1 :]


def _resign(p7s: bytes, key: SigningKey, change: Callable[[list[cms.CMSAttribute]], None]) -> bytes:
    info = cms.ContentInfo.load(p7s)
    signer_info = info["content"]["signer_infos"][0]
    attrs = list(signer_info["signed_attrs"])
    change(attrs)
    new_attrs = cms.CMSAttributes(attrs)
    tbs = new_attrs.dump()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(tbs, ec.ECDSA(cades_sign.HASHES["sha256"]()))
    else:
        signature = key.sign(tbs, padding.PKCS1v15(), cades_sign.HASHES["sha256"]())
    signer_info["signed_attrs"] = new_attrs
    signer_info["signature"] = signature
    return bytes(info.dump(force=True))


# ---------------------------------------------------------------------------------------------
# the fast path is taken, and agrees


def test_fast_path_decides_our_signatures(issued_pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_parse(_self: object) -> str:
        raise AssertionError("the full parse ran")

    monkeypatch.setattr(cades_verify._Verifier, "structure", full_parse)
    status = verify_detached(DATA, issued_pki.signatures[VALID], **_options(issued_pki))  # type: ignore[arg-type]
    assert status.valid, status.failures
    assert status.signer_id == VALID


@pytest.mark.parametrize("person", [VALID, LATE_REVOKED, EARLY_REVOKED, SHORT_LIVED])
def test_same_result_for_every_signer_and_situation(issued_pki: Pki, person: str) -> None:
    p7s = issued_pki.signatures[person]
    right = fingerprint(issued_pki.certs[person])
    for extra in (
        {},
        {"crl": None},
        {"registry_time": SIGNED_AT},
        {"registry_time": SIGNED_AT + timedelta(minutes=11)},
        {"registry_time": LATE_REVOCATION + timedelta(hours=1)},
        {"expected_signer_fingerprint": right},
        {"expected_signer_fingerprint": "00" * 32},
        {"at": SIGNED_AT - timedelta(days=1)},
    ):
        _both(DATA, p7s, **_options(issued_pki, **extra))
    _both(DATA + b"!", p7s, **_options(issued_pki))
    _both(b"", p7s, **_options(issued_pki))


def test_same_result_for_foreign_signature_and_crl(issued_pki: Pki, foreign_pki: Pki) -> None:
    # Same institution and CA name, other keys: only the bytes tell them apart.
    status = _both(DATA, foreign_pki.signatures[VALID], **_options(issued_pki))
    assert not status.valid
    _both(DATA, issued_pki.signatures[VALID], **_options(issued_pki, crl=foreign_pki.crl))
    _both(DATA, issued_pki.signatures[VALID], **_options(foreign_pki))


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_same_result_for_every_digest(issued_pki: Pki, digest: str) -> None:
    p7s = DetachedSigner(
        _key(issued_pki, VALID), issued_pki.certs[VALID], digest_algorithm=digest
    ).sign(DATA, signing_time=SIGNED_AT)
    status = _both(DATA, p7s, **_options(issued_pki))
    assert status.valid, status.failures


def test_every_bit_flip_gives_the_same_result(issued_pki: Pki) -> None:
    p7s = issued_pki.signatures[VALID]
    options = _options(issued_pki, registry_time=SIGNED_AT)
    for index in range(len(p7s)):
        for mask in (0x01, 0x80):
            assert not _both(DATA, _flip(p7s, index, mask), **options).valid


@pytest.mark.parametrize("alg", ["ec", "rsa"])
def test_openssl_samples_give_the_same_result(alg: str) -> None:
    ca = x509.load_pem_x509_certificate((CMS_DIR / f"ca-{alg}.pem").read_bytes())
    other = x509.load_pem_x509_certificate(
        (CMS_DIR / f"ca-{'rsa' if alg == 'ec' else 'ec'}.pem").read_bytes()
    )
    p7s = (CMS_DIR / f"sample.docx.openssl-{alg}.p7s").read_bytes()
    sample = (CMS_DIR / "sample.docx").read_bytes()
    tampered = (CMS_DIR / "sample-tampered.docx").read_bytes()
    assert _both(sample, p7s, ca_cert=ca, crl=None, at=SAMPLE_AT).valid
    assert not _both(tampered, p7s, ca_cert=ca, crl=None, at=SAMPLE_AT).valid
    assert not _both(sample, p7s, ca_cert=other, crl=None, at=SAMPLE_AT).valid
    for index in range(0, len(p7s), 7):
        _both(sample, _flip(p7s, index, 0x01), ca_cert=ca, crl=None, at=SAMPLE_AT)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_truncated_or_extended_gives_the_same_result(data: st.DataObject) -> None:
    ca = x509.load_pem_x509_certificate((CMS_DIR / "ca-ec.pem").read_bytes())
    p7s = (CMS_DIR / "sample.docx.openssl-ec.p7s").read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(p7s) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=16))
    for blob in (p7s[:cut], p7s + extra):
        assert not _both(DATA, blob, ca_cert=ca, crl=None, at=SAMPLE_AT).valid


def test_truncations_of_our_signature_give_the_same_result(issued_pki: Pki) -> None:
    p7s = issued_pki.signatures[VALID]
    options = _options(issued_pki)
    for cut in range(0, len(p7s), 3):
        assert not _both(DATA, p7s[:cut], **options).valid
    for extra in (b"\x00", b"\x00\x00", b"\x30\x00", p7s):
        assert not _both(DATA, p7s + extra, **options).valid


# ---------------------------------------------------------------------------------------------
# shapes the fast path leaves to the full parse


def _re_header(p7s: bytes, header: bytes, trailer: bytes = b"") -> bytes:
    """The same ContentInfo with its outer SEQUENCE header replaced (BER forms)."""
    _, start, stop = cades_fast._tlv(p7s, 0, len(p7s))
    return header + p7s[start:stop] + trailer


def test_non_canonical_lengths_go_to_the_full_parse(issued_pki: Pki) -> None:
    p7s = issued_pki.signatures[VALID]
    _, start, stop = cades_fast._tlv(p7s, 0, len(p7s))
    size = stop - start
    long_form = b"\x30\x83" + size.to_bytes(3, "big")  # a leading zero length byte
    indefinite = b"\x30\x80"
    variants = [_re_header(p7s, long_form), _re_header(p7s, indefinite, b"\x00\x00")]
    for variant in variants:
        with pytest.raises(cades_fast.NotFast):
            cades_fast.fast_parse(variant)
        _both(DATA, variant, **_options(issued_pki))


@pytest.mark.parametrize(
    ("blob", "why"),
    [
        (b"\x30\x81\x05" + b"\x00" * 5, "long form for a short length"),
        (b"\x30\x82\x00\x85" + b"\x00" * 0x85, "leading zero in the length"),
        (b"\x30\x80\x00\x00", "indefinite length"),
        (b"\x3f\x01\x01\x00", "multi-byte tag"),
        (b"\x30\x85\x01\x00\x00\x00\x00", "five length bytes"),
        (b"\x30\x05\x00", "longer than the input"),
        (b"\x30", "no length"),
    ],
)
def test_tlv_refuses_non_canonical_der(blob: bytes, why: str) -> None:
    with pytest.raises(cades_fast.NotFast):
        cades_fast._tlv(blob, 0, len(blob))


def test_signer_certificate_not_first_goes_to_the_full_parse(issued_pki: Pki) -> None:
    p7s = DetachedSigner(
        _key(issued_pki, VALID), issued_pki.certs[VALID], chain=[issued_pki.ca_cert]
    ).sign(DATA, signing_time=SIGNED_AT)
    info = cms.ContentInfo.load(p7s)
    signed_data = info["content"]
    certs = [c.chosen.dump() for c in signed_data["certificates"]]
    signer_der = issued_pki.certs[VALID].public_bytes(serialization.Encoding.DER)
    assert signer_der in certs
    # Both orders: whichever DetachedSigner wrote, and the other one, encoded by hand.
    body = signed_data.contents
    cert_set = signed_data["certificates"].dump()
    swapped = cades_sign.der_tlv(0xA0, b"".join(reversed(certs)))
    assert len(swapped) == len(cert_set) and body.count(cert_set) == 1
    other = cades_sign.der_tlv(
        cades_sign.SEQUENCE,
        cades_sign.SIGNED_DATA_OID
        + cades_sign.der_tlv(
            0xA0, cades_sign.der_tlv(cades_sign.SEQUENCE, body.replace(cert_set, swapped))
        ),
    )
    for variant in (p7s, other):
        assert _both(DATA, variant, **_options(issued_pki)).valid


def test_resigned_variants_give_the_same_result(issued_pki: Pki) -> None:
    key = _key(issued_pki, VALID)
    p7s = issued_pki.signatures[VALID]
    cert_der = issued_pki.certs[VALID].public_bytes(serialization.Encoding.DER)

    def drop(name: str) -> Callable[[list[cms.CMSAttribute]], None]:
        def change(attrs: list[cms.CMSAttribute]) -> None:
            attrs[:] = [a for a in attrs if a["type"].native != name]

        return change

    def duplicate_digest(attrs: list[cms.CMSAttribute]) -> None:
        attrs.append(
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(DATA).digest()]})
        )

    def extra_attribute(attrs: list[cms.CMSAttribute]) -> None:
        attrs.append(
            cms.CMSAttribute({"type": "1.3.6.1.4.1.99999.1", "values": [core.UTF8String("x")]})
        )

    def sha512_certificate_hash(attrs: list[cms.CMSAttribute]) -> None:
        # The same certificate named by its SHA-512 hash: other bytes, still valid for the
        # full check; the fast path must leave it to the full one.
        for i, attr in enumerate(attrs):
            if attr["type"].native == "signing_certificate_v2":
                value = attr["values"][0]
                first = value["certs"][0]
                attrs[i] = cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [
                            {
                                "certs": [
                                    {
                                        "hash_algorithm": {"algorithm": "sha512"},
                                        "cert_hash": hashlib.sha512(cert_der).digest(),
                                        "issuer_serial": first["issuer_serial"].copy(),
                                    }
                                ]
                            }
                        ],
                    }
                )

    def generalized_time(attrs: list[cms.CMSAttribute]) -> None:
        for i, attr in enumerate(attrs):
            if attr["type"].native == "signing_time":
                attrs[i] = cms.CMSAttribute(
                    {"type": "signing_time", "values": [cms.Time({"generalized_time": SIGNED_AT})]}
                )

    def content_type_twice(attrs: list[cms.CMSAttribute]) -> None:
        attrs.append(cms.CMSAttribute({"type": "content_type", "values": ["data"]}))

    results = {}
    for name, change in [
        ("no signing time", drop("signing_time")),
        ("no content type", drop("content_type")),
        ("no message digest", drop("message_digest")),
        ("no signingCertificateV2", drop("signing_certificate_v2")),
        ("duplicate digest", duplicate_digest),
        ("extra attribute", extra_attribute),
        ("SHA-512 certificate hash", sha512_certificate_hash),
        ("content type twice", content_type_twice),
    ]:
        variant = _resign(p7s, key, change)
        with pytest.raises(cades_fast.NotFast):
            _fast_shape(variant, issued_pki.certs[VALID])
        results[name] = _both(DATA, variant, **_options(issued_pki)).valid
    assert results["SHA-512 certificate hash"] and results["extra attribute"]
    assert not results["duplicate digest"] and not results["no signingCertificateV2"]
    # A GeneralizedTime signingTime is read by the fast path as asn1crypto reads it.
    variant = _resign(p7s, key, generalized_time)
    _fast_shape(variant, issued_pki.certs[VALID])
    status = _both(DATA, variant, **_options(issued_pki))
    assert status.valid and status.signing_time == SIGNED_AT


def _fast_shape(p7s: bytes, cert: x509.Certificate) -> None:
    """Raise NotFast unless the fast path would take ``p7s`` (shape and certificate match)."""
    parsed = cades_fast.fast_parse(p7s)
    info = cades_fast.cert_info(parsed.first_certificate)
    if parsed.sid != info.issuer_and_serial:
        raise cades_fast.NotFast
    if parsed.signing_certificate_v2 != info.signing_certificate_v2:
        raise cades_fast.NotFast
    assert info.cert == cert


def test_generalized_time_after_2049_takes_the_fast_path(issued_pki: Pki) -> None:
    late = datetime(2051, 3, 4, 5, 6, 7, tzinfo=UTC)
    p7s = DetachedSigner(_key(issued_pki, VALID), issued_pki.certs[VALID]).sign(
        DATA, signing_time=late
    )
    assert cades_fast.fast_parse(p7s).signing_time == late
    status = _both(DATA, p7s, **_options(issued_pki, at=late))
    assert status.signing_time == late


def test_rebuilt_signing_certificate_attribute_equals_the_signers(issued_pki: Pki) -> None:
    for person in (VALID, SHORT_LIVED):
        cert = issued_pki.certs[person]
        info = cades_fast.cert_info(cert.public_bytes(serialization.Encoding.DER))
        signer = DetachedSigner(_key(issued_pki, person), cert)
        assert info.signing_certificate_v2 == signer._signing_certificate
        assert info.fingerprint == fingerprint(cert)
        assert info.person_id == person


def test_certificate_cache_is_keyed_by_exact_bytes(issued_pki: Pki, foreign_pki: Pki) -> None:
    ours = issued_pki.certs[VALID].public_bytes(serialization.Encoding.DER)
    theirs = foreign_pki.certs[VALID].public_bytes(serialization.Encoding.DER)
    a, b = cades_fast.cert_info(ours), cades_fast.cert_info(theirs)
    assert a.issuer_and_serial != b.issuer_and_serial or a.cert != b.cert
    assert a.fingerprint != b.fingerprint
    assert cades_fast.cert_info(ours) is a  # remembered
    with pytest.raises(cades_fast.NotFast):
        cades_fast.cert_info(ours + b"\x00")
    with pytest.raises(cades_fast.NotFast):
        cades_fast.cert_info(_flip(ours, 1, 0x80))


# ---------------------------------------------------------------------------------------------
# signingTime: the fast reading equals asn1crypto's, or defers to it


def _asn1_time(tag: int, text: bytes) -> datetime | None:
    try:
        value = cms.Time.load(bytes([tag, len(text)]) + text).native
    except ValueError:
        return None
    return value if isinstance(value, datetime) else None


def _fast_time(tag: int, text: bytes) -> datetime | None:
    try:
        return cades_fast._fast_time(tag, text)
    except cades_fast.NotFast:
        return None


@pytest.mark.parametrize(
    ("tag", "text"),
    [
        (0x17, b"270105103000Z"),
        (0x17, b"000229000000Z"),
        (0x17, b"490101000000Z"),
        (0x17, b"500101000000Z"),
        (0x17, b"991231235959Z"),
        (0x17, b"991231235960Z"),
        (0x17, b"990230000000Z"),
        (0x17, b"991301000000Z"),
        (0x17, b"991200000000Z"),
        (0x17, b"992412240000Z"),
        (0x17, b"2701051030Z"),
        (0x17, b"270105103000+0800"),
        (0x17, b"270105103000z"),
        (0x17, "２70105103000Z".encode()),
        (0x18, b"20270105103000Z"),
        (0x18, b"20510105103000Z"),
        (0x18, b"00000101000000Z"),
        (0x18, b"20270105103000.5Z"),
        (0x18, b"20270105103000"),
        (0x18, b"202701051030Z"),
        (0x04, b"270105103000Z"),
    ],
)
def test_fast_time_cases(tag: int, text: bytes) -> None:
    fast = _fast_time(tag, text)
    if fast is not None:
        assert fast == _asn1_time(tag, text)
        assert fast.tzinfo is not None and fast.utcoffset() == timedelta(0)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([0x17, 0x18]),
    st.text(alphabet="0123456789Z+-.", min_size=10, max_size=17),
)
def test_fast_time_agrees_with_asn1crypto(tag: int, text: str) -> None:
    raw = text.encode()
    fast = _fast_time(tag, raw)
    if fast is not None:
        assert fast == _asn1_time(tag, raw)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(9999, 12, 31)))
def test_fast_time_reads_what_the_signer_writes(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    encoded = cades_sign._signing_time(moment).dump()
    tag, text = encoded[0], encoded[2:]
    assert cades_fast._fast_time(tag, text) == moment == _asn1_time(tag, text)


# ---------------------------------------------------------------------------------------------
# registry times in proof bundles: read as strptime reads them


def _strptime_time(text: object) -> datetime | None:
    """The former reading: the pattern, then strptime."""
    import re

    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


@pytest.mark.parametrize(
    "text",
    [
        "2027-01-05T10:30:00Z",
        "2028-02-29T23:59:59Z",
        "2027-02-29T00:00:00Z",
        "2027-13-01T00:00:00Z",
        "2027-00-10T00:00:00Z",
        "2027-01-00T00:00:00Z",
        "2027-01-32T00:00:00Z",
        "2027-01-05T24:00:00Z",
        "2027-01-05T23:60:00Z",
        "2027-01-05T23:59:60Z",
        "2027-01-05T23:59:61Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2027-01-05T10:30:00",
        "2027-01-05 10:30:00Z",
        "２０２７-01-05T10:30:00Z",
        "٢٠٢٧-٠١-٠٥T10:30:00Z",
        "2027-01-05T10:30:00Z\n",
        "",
        None,
        20270105,
    ],
)
def test_registry_time_cases(text: object) -> None:
    from docgen.verify.checklist import _parse_time

    assert _parse_time(text) == _strptime_time(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789-TZ:", min_size=18, max_size=22))
def test_registry_time_agrees_with_strptime(text: str) -> None:
    from docgen.verify.checklist import _parse_time

    assert _parse_time(text) == _strptime_time(text)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_registry_time_reads_every_moment(moment: datetime) -> None:
    from docgen.verify.checklist import _parse_time

    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"
    assert _parse_time(text) == _strptime_time(text) == moment.replace(microsecond=0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# listing a directory of letters: the same letters as with a Path per letter


def _reference_letters_in_dir(directory: Path, shown: str) -> tuple[list[object], list[object]]:
    """The former ``letters_in_dir`` (a Path per letter, ``PurePosixPath`` for every name, the
    whole tree listed and every manifest parsed at once)."""
    import json
    import os
    import re
    from pathlib import PurePosixPath

    from docgen.verify.files import LetterOnDisk, read_blob
    from docgen.verify.folder import _listing
    from docgen.verify.model import MAX_MANIFEST_BYTES, CheckResult

    def safe(name: str) -> bool:
        if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
            return False
        if re.match(r"^[A-Za-z]:", name):
            return False
        parts = PurePosixPath(name).parts
        return all(part not in ("", ".", "..") for part in parts) and not name.endswith("/")

    def manifest_paths(data: object) -> list[str]:
        if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
            return []
        paths = []
        for doc in data["documents"]:
            path = doc.get("path") if isinstance(doc, dict) else None
            if isinstance(path, str) and safe(path):
                paths.append(path)
        return paths

    found: dict[str, Path] = {}
    checks: list[object] = []
    listings: dict[Path, list[str]] = {}
    for walked, _subdirs, files in os.walk(directory):
        listings[Path(walked)] = sorted(files)
    for folder, names in listings.items():
        present = set(names)
        for name in names:
            if name.endswith(".docx") and name + ".proof.json" in present:
                path = folder / name
                if path.is_file():
                    found[path.relative_to(directory).as_posix()] = path

    def read_json(path: Path) -> object | None:
        blob = read_blob(path, str(path), MAX_MANIFEST_BYTES, "清单文件")
        if blob.data is None:
            return None
        try:
            data: object = json.loads(blob.data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        return data

    for manifest in sorted(directory.rglob("manifest.json")):
        data = read_json(manifest)
        base = manifest.parent
        if data is None:
            checks.append(
                CheckResult(
                    "文书清单",
                    False,
                    "清单文件无法读取或不是有效的 JSON",
                    str(manifest.relative_to(directory)),
                )
            )
            continue
        for rel in manifest_paths(data):
            found.setdefault((base / rel).relative_to(directory).as_posix(), base / rel)
    signatures: dict[Path, dict[str, list[str]]] = {}
    for listed, entries in listings.items():
        by_letter: dict[str, list[str]] = {}
        for name in entries:
            if name.endswith(".p7s"):
                head, sep, _rest = name.rpartition(".docx.")
                if sep:
                    by_letter.setdefault(head + ".docx", []).append(name)
        signatures[listed] = by_letter
    letters: list[object] = []
    for rel, path in sorted(found.items()):
        beside = signatures.get(path.parent)
        siblings = (
            tuple(beside.get(path.name, ())) if beside is not None else _listing(path.parent)
        )
        letters.append(LetterOnDisk(str(path), f"{shown.rstrip('/')}/{rel}", siblings))
    return letters, checks


def _awkward_tree(root: Path) -> None:
    import json

    (root / "a" / "b").mkdir(parents=True)
    (root / "c").mkdir()
    for folder, stem in [(root, "top"), (root / "a", "one"), (root / "a" / "b", "two"),
                         (root / "c", "x.docx.y")]:  # fmt: skip
        (folder / f"{stem}.docx").write_bytes(b"docx")
        (folder / f"{stem}.docx.proof.json").write_bytes(b"{}")
        (folder / f"{stem}.docx.P001.p7s").write_bytes(b"sig")
        (folder / f"{stem}.docx.P 002.p7s").write_bytes(b"sig")
    (root / "a" / "lonely.docx").write_bytes(b"no proof")
    (root / "a" / "dir.docx").mkdir()  # a directory with a proof file beside it
    (root / "a" / "dir.docx.proof.json").write_bytes(b"{}")
    (root / "a" / "link.docx").symlink_to(root / "a" / "one.docx")
    (root / "a" / "link.docx.proof.json").write_bytes(b"{}")
    (root / "a" / "dangling.docx").symlink_to(root / "nowhere.docx")
    (root / "a" / "dangling.docx.proof.json").write_bytes(b"{}")
    listed = ["a/one.docx", "a/./one.docx", "a//b/two.docx", "a/lonely.docx", "missing/x.docx",
              ".", "a/../top.docx", "/etc/passwd", "c:/x.docx", "a/b/", "a\\b.docx",
              "d/new.docx", "top.docx"]  # fmt: skip
    (root / "manifest.json").write_text(
        json.dumps({"documents": [{"path": p} for p in listed] + [{"x": 1}, "y"]})
    )
    (root / "a" / "manifest.json").write_text(
        json.dumps({"documents": [{"path": "b/two.docx"}, {"path": "b/three.docx"}]})
    )
    (root / "c" / "manifest.json").write_text("not json")
    (root / "a" / "b" / "manifest.json").mkdir()


def test_letters_in_dir_lists_what_it_listed_before(tmp_path: Path) -> None:
    import os

    root = tmp_path / "year"
    root.mkdir()
    _awkward_tree(root)
    for shown in ("shown", "shown/", str(root)):
        for window in (1, 2, 3, 8192):
            assert _listed(root, shown, window) == _reference_letters_in_dir(root, shown)
    here = os.getcwd()
    try:
        os.chdir(root)
        assert _listed(Path("."), "x", 2) == _reference_letters_in_dir(Path("."), "x")
        os.chdir(root / "a")
        assert _listed(Path(".."), "x", 2) == _reference_letters_in_dir(Path(".."), "x")
    finally:
        os.chdir(here)


def _listed(directory: Path, shown: str, window: int) -> tuple[list[object], list[object]]:
    from docgen.verify.folder import letters_in_dir

    letters, checks = letters_in_dir(directory, shown, window=window)
    listed: list[object] = list(letters)
    assert len(letters) == len(listed) and list(letters) == listed  # listed again: the same
    return listed, list(checks)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab./\\:\x00C", max_size=12))
def test_safe_relative_agrees_with_pathlib(name: str) -> None:
    import re
    from pathlib import PurePosixPath

    from docgen.verify.files import safe_relative

    expected = (
        not (not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name)
        and not re.match(r"^[A-Za-z]:", name)
        and (
            all(part not in ("", ".", "..") for part in PurePosixPath(name).parts)
            and not name.endswith("/")
        )
    )
    assert safe_relative(name) == expected


def test_file_digest_is_remembered_only_for_the_same_object() -> None:
    first = bytes(range(256)) * 40
    second = bytearray(first)
    second[5] ^= 1
    other = bytes(second)
    for name in ("sha256", "sha384", "sha512"):
        for data in (first, other, first, first, other):
            assert cades_verify.file_digest(name, data) == hashlib.new(name, data).digest()
    assert cades_verify.file_digest("sha256", first) is cades_verify.file_digest("sha256", first)


@pytest.mark.parametrize(
    ("docx", "shown", "names"),
    [
        ("/y/承诺书/LJ-P1-P2_张三.docx", "年度/承诺书/LJ-P1-P2_张三.docx",
         ("LJ-P1-P2_张三.docx.P1.p7s", "LJ-P1-P2_张三.docx.P2.p7s")),
        ("letter.docx", "letter.docx", ()),
        ("/letter.docx", "shown elsewhere", ("other.txt", "letter.docx.P1.p7s")),
        ("a/", "a/", ("a",)),
        ("../b/c.docx", "x/c.docx", ("c.docx.P9.p7s",)),
    ],
)  # fmt: skip
def test_letter_on_disk_gives_back_what_it_was_given(
    docx: str, shown: str, names: tuple[str, ...]
) -> None:
    import pickle

    from docgen.verify.files import LetterOnDisk

    shared: dict[str, str] = {}
    letter = LetterOnDisk(docx, shown, names, shared)
    assert (letter.docx, letter.shown, letter.signature_names) == (docx, shown, names)
    assert letter == LetterOnDisk(docx, shown, names) == pickle.loads(pickle.dumps(letter))
    assert letter != LetterOnDisk(docx, shown + "x", names)


def test_letters_of_a_folder_share_their_folder_and_signer_parts(tmp_path: Path) -> None:
    from docgen.verify.folder import letters_in_dir

    folder = tmp_path / "责任书"
    folder.mkdir()
    for i in range(3):
        for suffix in ("", ".proof.json", ".P1.p7s"):
            (folder / f"2027-ZR-P1-P{i}_甲_乙.docx{suffix}").write_bytes(b"x")
    letters, _checks = letters_in_dir(tmp_path, "年度")
    assert [letter.shown for letter in letters] == [
        f"年度/责任书/2027-ZR-P1-P{i}_甲_乙.docx" for i in range(3)
    ]
    assert all(
        letter.signature_names == (letter.docx.rsplit("/", 1)[1] + ".P1.p7s",) for letter in letters
    )
    assert len({id(letter._folder) for letter in letters}) == 1
    assert len({id(letter._tails[0]) for letter in letters}) == 1
