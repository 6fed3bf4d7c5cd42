"""Differential fuzzing: the verifier's fast DER path and the full asn1crypto parse agree.

``cades_verify`` first walks a signature's DER by hand (``cades_fast``) and reports checks 1–7
itself only when the signature has the common shape and passes them; anything else runs the full
checklist. The two must never disagree: a signature the fast path passes that the full parse
would fail is the worst kind of bug (a check that passes where it should fail). Here hypothesis
mutates real signatures — ours (ECDSA P-256 and RSA-3072, from the test PKI) and OpenSSL's
(``tests/data/cms``) — and every mutant is verified with ``FAST_PATH`` on and off; the verdicts
(valid or not, the names of the failed checks) and the whole reports must be the same, and
neither may raise.

Four families of mutants (built by ``der_mutants``):

* ``bytes`` — byte replacements, insertions, deletions, truncations, appended bytes;
* ``tree`` — the DER as a tree: a value's bytes, tag or length form (long, indefinite) changed,
  children dropped, duplicated, swapped, inserted, wrapped or unwrapped, anywhere (the signer's
  certificate and the signed attributes most often);
* ``cms`` — certificates swapped, added, reordered, dropped; OIDs changed; algorithm parameters,
  versions, the signer identifier, the encapsulated content, CRLs, unsigned attributes, signers
  and digest algorithms;
* ``attributes`` — signingTime re-encoded (UTCTime, GeneralizedTime, odd fields, other types);
  signed attributes dropped, duplicated, reordered, added, given a second value; their OIDs
  changed; the ESS signingCertificateV2 written otherwise.

Byte damage only ever reaches the full parse. The other mutants are then made consistent again
as an attacker holding a key would: the signer identifier and the signingCertificateV2
attribute rebuilt for the first certificate, the messageDigest recomputed and the signed
attributes signed again (with our signer's key, or the foreign CA's signer's key when that
certificate was swapped in; in OpenSSL's signatures our signer's certificate is swapped in first,
as OpenSSL's key is gone). Each test counts the changed mutants the fast path decided and fails
when there are too few, so the fuzzer cannot quietly test the fallback alone.

CI runs a fixed, derandomised budget (well under a minute). The long run is the ``slow``
test at the end, skipped unless ``DOCGEN_DIFFERENTIAL_EXAMPLES`` gives its examples per family
and template (random seeds; ``DOCGEN_DIFFERENTIAL_SEED`` fixes one)::

    DOCGEN_DIFFERENTIAL_EXAMPLES=5000 .venv/bin/python -m pytest -q -s -p no:cacheprovider \\
        tests/signing/test_cades_differential.py -k long
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st
from pki_support import (
    DATA,
    ISSUED_AT,
    SHORT_LIVED,
    SIGNED_AT,
    VALID,
    VERIFY_AT,
    Pki,
    person_passphrase,
)

from docgen.signing import cades_verify
from docgen.signing.cades_verify import SignatureStatus, verify_detached
from docgen.signing.keyfiles import load_private_key, person_paths
from docgen.signing.x509util import SigningKey
from tests.helpers import run_docgen
from tests.signed_year import YEAR, copy_workspace
from tests.signing.der_mutants import (
    ATTRIBUTE_OPS,
    BYTE_OPS,
    CMS_OPS,
    FIXES,
    SIGNING_TIME,
    TREE_EDITS,
    Material,
    Node,
    attribute,
    attribute_op,
    byte_op,
    cms_op,
    first_certificate,
    fix_up,
    parse,
    tree_edit,
    without_signature_value,
)

pytest_plugins = ("pki_fixtures",)

CMS_DIR = Path(__file__).resolve().parents[1] / "data" / "cms"
OPENSSL_SIGNED_AT = datetime(2026, 11, 24, 22, 12, 48, tzinfo=ISSUED_AT.tzinfo)
LONG_EXAMPLES = int(os.environ.get("DOCGEN_DIFFERENTIAL_EXAMPLES", "0") or 0)
LONG_SEED = os.environ.get("DOCGEN_DIFFERENTIAL_SEED")

FAMILIES = ("bytes", "tree", "cms", "attributes")
EDITS = {"tree": TREE_EDITS, "cms": CMS_OPS, "attributes": ATTRIBUTE_OPS}
# Examples per family and template in CI: 16 runs, well under a minute in all.
CI_EXAMPLES = {"bytes": 100, "tree": 250, "cms": 250, "attributes": 250}


# ---------------------------------------------------------------------------------------------
# what mutants start from


@dataclass
class Template:
    """A real signature, the file it signs, how to verify it, and what an attacker has."""

    name: str
    p7s: bytes
    material: Material
    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList | None
    at: datetime
    signed_at: datetime
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def data(self) -> bytes:
        return self.material.data


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


_KEYS: dict[Path, SigningKey] = {}


def _key(p: Pki, person_id: str) -> SigningKey:
    path = person_paths(p.keys_dir, person_id).key
    if path not in _KEYS:
        _KEYS[path] = load_private_key(path, person_passphrase())
    return _KEYS[path]


def _pem(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((CMS_DIR / name).read_bytes())


def make_template(kind: str, p: Pki, foreign: Pki) -> Template:
    """Our signature (P001) or OpenSSL's of the same algorithm; the keys are our P001's and the
    foreign CA's P001's, the certificates to swap in ours, the foreign one and OpenSSL's."""
    keys = [_key(p, VALID), _key(foreign, VALID)]
    pool = [_der(p.certs[VALID]), _der(p.ca_cert), _der(p.certs[SHORT_LIVED])]
    pool += [_der(foreign.certs[VALID]), _der(_pem("signer-ec.pem")), _der(_pem("signer-rsa.pem"))]
    if kind == "ours":
        material = Material(DATA, pool, keys)
        return Template(
            f"ours-{p.algorithm.value}", p.signatures[VALID], material, p.ca_cert, p.crl,
            VERIFY_AT, SIGNED_AT,
        )  # fmt: skip
    alg = "ec" if p.algorithm.value.startswith("ecdsa") else "rsa"
    material = Material((CMS_DIR / "sample.docx").read_bytes(), pool, keys)
    return Template(
        f"openssl-{alg}", (CMS_DIR / f"sample.docx.openssl-{alg}.p7s").read_bytes(), material,
        _pem(f"ca-{alg}.pem"), None, ISSUED_AT, OPENSSL_SIGNED_AT,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the oracle


def _run(fast: bool, data: bytes, blob: bytes, options: dict[str, Any]) -> SignatureStatus | str:
    cades_verify.FAST_PATH = fast
    try:
        return verify_detached(data, blob, **options)
    except Exception as exc:  # the verifier must never raise on a bad signature
        return f"raised {type(exc).__name__}: {exc}"
    finally:
        cades_verify.FAST_PATH = True


def _verdict(status: SignatureStatus | str) -> tuple[object, ...]:
    if isinstance(status, str):
        return (status,)
    return (status.valid, tuple(c.name for c in status.checks if not c.ok))


def judge(
    t: Template, data: bytes, blob: bytes, extra: dict[str, Any], decided: list[bool]
) -> None:
    """Both paths on one mutant: the same verdict, the same report, no exception."""
    options: dict[str, Any] = {"ca_cert": t.ca_cert, "crl": t.crl, "at": t.at, **extra}
    decided.clear()
    fast = _run(True, data, blob, options)
    took_fast = bool(decided) and decided[-1]
    full = _run(False, data, blob, options)
    t.counts["examples"] += 1
    t.counts["decided by the fast path"] += took_fast
    changed = without_signature_value(blob) != without_signature_value(t.p7s)
    t.counts["changed and decided by the fast path"] += took_fast and changed
    t.counts["valid"] += isinstance(fast, SignatureStatus) and fast.valid
    assert _verdict(fast) == _verdict(full), f"verdicts differ (fast path decided: {took_fast})"
    assert not isinstance(fast, str) and not isinstance(full, str), fast
    assert fast.describe() == full.describe()
    assert fast == full
    assert (fast.certificate is None) == (full.certificate is None)
    if fast.certificate is not None:
        assert fast.certificate == full.certificate


def _extra_options(t: Template) -> st.SearchStrategy[dict[str, Any]]:
    wrong_signer = {"expected_signer_fingerprint": "0" * 64}
    return st.sampled_from([{}, {"registry_time": t.signed_at}, {"crl": None}, wrong_signer])


def _mutant(family: str, t: Template, draw: Callable[..., Any], data: bytes) -> bytes:
    """One mutant of ``family``, drawn with ``draw`` (hypothesis shows every draw on failure)."""
    if family == "bytes":
        blob = t.p7s
        for op in draw(st.lists(BYTE_OPS, min_size=1, max_size=4), label="byte edits"):
            blob = byte_op(blob, op)
        return blob
    root = parse(t.p7s)
    first = first_certificate(root)
    # OpenSSL's signer key is gone: put our signer's certificate in its place, so that the
    # signed attributes in OpenSSL's layout can be signed again.
    if (
        first is not None
        and t.material.key_for(first.encode()) is None
        and draw(st.booleans(), label="our signer in OpenSSL's signature")
    ):
        cms_op(root, t.material, ("certs", [0]))
    edits = draw(st.lists(EDITS[family], min_size=1, max_size=3), label=f"{family} edits")
    for edit in edits:
        if family == "tree":
            tree_edit(root, edit)
        elif family == "cms":
            cms_op(root, t.material, edit)
        else:
            attribute_op(root, edit)
    fix_up(root, t.material, data, draw(FIXES, label="made consistent again"))
    return root.encode()


def run_family(
    family: str, t: Template, monkeypatch: pytest.MonkeyPatch, config: settings
) -> Counter[str]:
    """Fuzz one family on one template; the counts of examples, fast decisions and valid ones."""
    decided: list[bool] = []
    original = cades_verify._Verifier._fast

    def recording(self: cades_verify._Verifier) -> bool:
        result = original(self)
        decided.append(result)
        return result

    monkeypatch.setattr(cades_verify._Verifier, "_fast", recording)
    t.counts.clear()

    @config
    @given(st.data())
    def fuzz(drawn: st.DataObject) -> None:
        data = t.data + b"!" if drawn.draw(st.booleans(), label="another file") else t.data
        blob = _mutant(family, t, drawn.draw, data)
        note(f"{t.name}: p7s={blob.hex()}")
        judge(t, data, blob, drawn.draw(_extra_options(t), label="options"), decided)

    fuzz()
    print(f"\n{family:8} {t.name:18} {dict(t.counts)}")
    return Counter(t.counts)


def _ci_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------------------------------------
# the tests


@pytest.fixture(params=["ours", "openssl"])
def template(request: pytest.FixtureRequest, issued_pki: Pki, foreign_pki: Pki) -> Template:
    return make_template(request.param, issued_pki, foreign_pki)


def test_templates_reach_the_fast_path_when_made_consistent(template: Template) -> None:
    """The fuzzer's own machinery: unchanged, and re-signed with our key after swapping our
    certificate in, a template is decided by the fast path and valid for checks 1–7."""
    assert parse(template.p7s).encode() == template.p7s
    root = parse(template.p7s)
    cms_op(root, template.material, ("certs", [0]))
    fix_up(root, template.material, template.data, frozenset({"sid", "ess", "digest", "sign"}))
    decided: list[bool] = []
    original = cades_verify._Verifier._fast
    for blob in (template.p7s, root.encode()):
        verifier = cades_verify._Verifier(
            template.data, blob, ca_cert=template.ca_cert, crl=template.crl, at=template.at,
            expected_signer_fingerprint=None, registry_time=None,
            tolerance=cades_verify.DEFAULT_TOLERANCE,
        )  # fmt: skip
        decided.append(original(verifier))
        status = verifier.run()
        first_seven = [c.name for c in status.checks[:7]]
        assert "证书链" not in first_seven
        assert all(c.ok for c in status.checks[:7]), status.failures
    assert decided == [True, True]


@pytest.mark.parametrize("family", FAMILIES)
def test_fast_and_full_path_agree(
    family: str, template: Template, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = run_family(family, template, monkeypatch, _ci_settings(CI_EXAMPLES[family]))
    assert counts["examples"] > 0
    if family != "bytes":  # byte damage is never consistent again; the others must reach it
        assert counts["changed and decided by the fast path"] >= counts["examples"] // 100, counts


# ---------------------------------------------------------------------------------------------
# what the fuzzer found: a signingTime attribute without exactly one value crashed the fast path
# (``(moment,) = …`` raised ValueError instead of NotFast), so `docgen verify` died with a
# traceback on such a .p7s — no key needed, OpenSSL's signature with its SET emptied will do.


def _signing_time_values(p7s: bytes, count: int) -> bytes:
    root = parse(p7s)
    when = attribute(root, SIGNING_TIME)
    assert when is not None and when.children is not None
    value = when.children[1].children[0].encode()  # type: ignore[index]
    when.children[1] = Node(0x31, value * count)
    return root.encode()


@pytest.mark.parametrize("count", [0, 2])
def test_signing_time_without_one_value_is_a_failed_check(template: Template, count: int) -> None:
    blob = _signing_time_values(template.p7s, count)
    decided: list[bool] = []
    judge(template, template.data, blob, {}, decided)
    status = verify_detached(
        template.data, blob, ca_cert=template.ca_cert, crl=template.crl, at=template.at
    )
    assert not status.valid
    assert status.failures == ("签名文件结构:签名属性 signingTime 应恰有一个值",)


def test_verify_reports_a_signing_time_without_value_instead_of_crashing(
    signed_year: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    target = sorted(ws.year_dir(YEAR).rglob("*.docx.P001.p7s"))[0]
    target.write_bytes(_signing_time_values(target.read_bytes(), 0))
    outcome = run_docgen("verify", "-w", str(ws.root), str(ws.year_dir(YEAR)))
    assert outcome.code == 1, outcome.text[-800:]
    assert "Traceback" not in outcome.text
    assert f"{target.name}:签名文件结构:签名属性 signingTime 应恰有一个值" in outcome.out
    assert outcome.out.splitlines()[-1] == "共 11 份:验证通过 10 份,失败 1 份,签名不全 0 份"


@pytest.mark.slow
@pytest.mark.skipif(not LONG_EXAMPLES, reason="长跑:设置 DOCGEN_DIFFERENTIAL_EXAMPLES 才运行")
@pytest.mark.parametrize("family", FAMILIES)
def test_long_differential_run(
    family: str, template: Template, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings(
        max_examples=LONG_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    if LONG_SEED is not None:
        config = _seeded(config, int(LONG_SEED))
    counts = run_family(family, template, monkeypatch, config)
    assert counts["examples"] > 0


def _seeded(config: settings, value: int) -> Callable[[Any], Any]:
    def apply(test: Any) -> Any:
        return seed(value)(config(test))

    return apply
