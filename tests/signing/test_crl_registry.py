"""Revocation anchored in the registry, on the signing side: attacks on ``keys/ca/crl.pem``.

The review's attack: after ``keys revoke --person P002``, the older CRL (validly signed by the CA)
copied back into ``keys/ca/`` let ``docgen sign --as P002`` sign and register again. Every CRL
the CA issues is now a ``crl`` registry entry, and signing refuses a workspace CRL that is not
the newest registered one, one that has expired, and any certificate revoked in the registry,
whatever the file says. Each case runs the real CLI in a workspace with keys and letters.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import CliOutcome, run_docgen

from docgen.core.errors import ValidationError
from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.signing.ca import init_ca, load_ca_certificate, load_ca_key
from docgen.signing.crl import (
    build_crl,
    crl_from_record,
    crl_number,
    crl_record,
    load_crl,
    revoked_entry,
    write_crl,
)
from docgen.signing.keyfiles import ca_paths, person_paths
from docgen.signing.passphrase import Passphrase
from docgen.signing.revocation import revoke
from docgen.signing.revocation_state import (
    RevocationListError,
    read_revocation_state,
    revocation_state,
)
from docgen.signing.sign import sign_everyone
from docgen.signing.x509util import RevocationReason, serial_hex

CA_SECRET = "ca-口令-crl-registry-tests"
PERSON_SECRET = "person-口令-crl-registry-tests"
YEAR = "2027"
T0 = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def at(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace made through the CLI: CA, everyone's certificate, the year's letters."""
    root = tmp_path_factory.mktemp("crl-registry") / "ws"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DOCGEN_NOW", at(T0))
        env.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
        env.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
        for args in (
            ["init", str(root)],
            ["keys", "init-ca", "-w", str(root)],
            ["keys", "issue", "--all", "-w", str(root)],
            ["generate", "--year", YEAR, "-w", str(root)],
        ):
            outcome = run_docgen(*args)
            assert outcome.code == 0, (args, outcome.text)
    yield root


@pytest.fixture
def ws(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    clock(monkeypatch, T0 + timedelta(hours=1))
    return root


def clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setenv("DOCGEN_NOW", at(moment))


def docgen(root: Path, *args: str) -> CliOutcome:
    outcome = run_docgen(*args, "-w", str(root))
    assert "Traceback" not in outcome.text
    assert CA_SECRET not in outcome.text and PERSON_SECRET not in outcome.text
    return outcome


def sign(root: Path, person: str) -> CliOutcome:
    return docgen(root, "sign", "--as", person, "--year", YEAR)


def crl_files(root: Path) -> tuple[Path, Path]:
    paths = ca_paths(root / "keys")
    return paths.crl_pem, paths.crl_der


def snapshot_crl(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in crl_files(root)}


def restore(files: dict[Path, bytes]) -> None:
    for path, data in files.items():
        path.write_bytes(data)
        if path.name == "key.pem":
            os.chmod(path, 0o600)


def person_files(root: Path, person: str) -> dict[Path, bytes]:
    paths = person_paths(root / "keys", person)
    return {paths.cert: paths.cert.read_bytes(), paths.key: paths.key.read_bytes()}


def registry_size(root: Path) -> int:
    with open_registry(find_workspace(root)) as registry:
        return registry.size()


def records(root: Path, kind: str) -> list[dict[str, Any]]:
    with open_registry(find_workspace(root)) as registry:
        return [e.record for e in registry.entries(type=kind)]


def signatures_of(root: Path, person: str) -> list[Path]:
    """Signature files of ``person``, and any temporary file a signing run could leave."""
    output = root / "output"
    return sorted([*output.rglob(f"*.{person}.p7s"), *output.rglob("*.tmp")])


def forge_crl(
    root: Path, *, number: int, moment: datetime, revoked: tuple[int, ...] = ()
) -> x509.CertificateRevocationList:
    """A CRL really signed with the CA key (the attacker has the CA passphrase, or an old file)."""
    keys_dir = root / "keys"
    ca_cert = load_ca_certificate(keys_dir)
    ca_key = load_ca_key(keys_dir, Passphrase(CA_SECRET.encode(), "测试"), ca_cert)
    entries = [revoked_entry(s, moment, RevocationReason.KEY_COMPROMISE) for s in revoked]
    crl = build_crl(ca_cert, ca_key, entries=entries, number=number, now=moment, days=180)
    write_crl(ca_paths(keys_dir), crl)
    return crl


def assert_refused_and_nothing_written(
    root: Path, person: str, outcome: CliOutcome, size: int, *phrases: str
) -> None:
    assert outcome.code == 1, outcome.text
    assert "\n" not in outcome.err.strip(), outcome.err  # one line
    for phrase in phrases:
        assert phrase in outcome.err, (phrase, outcome.err)
    assert registry_size(root) == size
    assert signatures_of(root, person) == []


# ---------------------------------------------------------------------------------------------
# (f) the honest path, and what the registry holds


def test_honest_path_registers_every_crl_and_signs(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_cert = load_ca_certificate(ws / "keys")
    (first,) = records(ws, "crl")
    on_file = load_crl(crl_files(ws)[0], ca_cert=ca_cert)
    assert first["number"] == 1 and first["revoked"] == []
    assert first["recorded_at"] == "2027-01-05T09:00:00Z"
    assert crl_from_record(first, ca_cert=ca_cert) == on_file
    assert base64.b64decode(first["der"]) == on_file.public_bytes(serialization.Encoding.DER)
    out = sign(ws, "P002")
    assert out.code == 0, out.text
    assert signatures_of(ws, "P002")
    clock(monkeypatch, T0 + timedelta(hours=2))
    assert docgen(ws, "keys", "crl").code == 0
    out = sign(ws, "P001")
    assert out.code == 0, out.text
    assert [r["number"] for r in records(ws, "crl")] == [1, 2]


# ---------------------------------------------------------------------------------------------
# (a) the review's attack: the older CRL copied back after a revocation


def test_stale_crl_put_back_after_a_revocation_is_refused(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_crl = snapshot_crl(ws)
    stolen = person_files(ws, "P002")  # the attacker kept P002's certificate and key
    out = docgen(ws, "keys", "revoke", "--person", "P002", "--reason", "key_compromise")
    assert out.code == 0, out.text
    restore(old_crl)
    restore(stolen)
    clock(monkeypatch, T0 + timedelta(hours=2))
    size = registry_size(ws)
    out = sign(ws, "P002")
    assert_refused_and_nothing_written(
        ws, "P002", out, size, "吊销列表已过时", "第 1 号", "第 2 号", "crl.pem", "docgen keys crl"
    )
    # Nobody else signs on the stale file either.
    out = sign(ws, "P001")
    assert_refused_and_nothing_written(ws, "P001", out, size, "吊销列表已过时")


# ---------------------------------------------------------------------------------------------
# (b) CRLs signed with the CA key that do not match the registry


@pytest.mark.parametrize(
    ("number", "phrases"),
    [
        (1, ("吊销列表已过时", "第 1 号", "第 2 号")),
        (2, ("与登记簿中的第 2 号内容不一致",)),
        (3, ("第 3 号", "没有记入登记簿")),
    ],
    ids=["number-going-backwards", "same-number-other-bytes", "unregistered-newer"],
)
def test_crl_not_matching_the_registry_is_refused(
    ws: Path, monkeypatch: pytest.MonkeyPatch, number: int, phrases: tuple[str, ...]
) -> None:
    assert docgen(ws, "keys", "crl").code == 0  # number 2 registered
    clock(monkeypatch, T0 + timedelta(hours=2))
    forge_crl(ws, number=number, moment=T0 + timedelta(hours=2))
    size = registry_size(ws)
    out = sign(ws, "P001")
    assert_refused_and_nothing_written(ws, "P001", out, size, *phrases, "crl.pem", "keys crl")


# ---------------------------------------------------------------------------------------------
# (c) an expired CRL


def test_expired_crl_is_refused_until_reissued(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock(monkeypatch, T0 + timedelta(days=181))
    size = registry_size(ws)
    out = sign(ws, "P001")
    assert_refused_and_nothing_written(
        ws, "P001", out, size, "吊销列表已于 2027-07-04T09:00:00Z 过期", "crl.pem",
        "请运行 docgen keys crl 重新签发",
    )  # fmt: skip
    out = docgen(ws, "keys", "crl")
    assert out.code == 0, out.text
    out = sign(ws, "P001")
    assert out.code == 0, out.text
    assert signatures_of(ws, "P001")


def test_bulk_signing_checks_the_crl_before_any_worker(ws: Path) -> None:
    workspace = find_workspace(ws)
    forge_crl(ws, number=1, moment=T0 + timedelta(minutes=30))  # same number, other bytes
    size = registry_size(ws)
    with pytest.raises(RevocationListError, match="内容不一致"):
        sign_everyone(
            workspace,
            lambda _pid: Passphrase(PERSON_SECRET.encode(), "测试"),
            year=int(YEAR),
            now=T0 + timedelta(hours=1),
            jobs=1,
        )
    assert registry_size(ws) == size
    assert list((ws / "output").rglob("*.p7s")) == []


# ---------------------------------------------------------------------------------------------
# (d) revoked in the registry, whatever the file says


def test_certificate_revoked_in_the_registry_with_the_crl_file_deleted(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stolen = person_files(ws, "P002")
    assert docgen(ws, "keys", "revoke", "--person", "P002", "--reason", "key_compromise").code == 0
    restore(stolen)
    for path in crl_files(ws):
        path.unlink()
    clock(monkeypatch, T0 + timedelta(hours=2))
    size = registry_size(ws)
    out = sign(ws, "P002")
    assert_refused_and_nothing_written(ws, "P002", out, size, "证书吊销列表不存在", "keys crl")


def test_certificate_revoked_in_the_registry_but_not_in_the_registered_crl(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone with the CA key and the registry registers a newer CRL that leaves P002 out: the
    ``revocation`` entry still stands."""
    stolen = person_files(ws, "P002")
    assert docgen(ws, "keys", "revoke", "--person", "P002", "--reason", "key_compromise").code == 0
    restore(stolen)
    moment = T0 + timedelta(hours=2)
    crl = forge_crl(ws, number=3, moment=moment)  # lists nobody
    workspace = find_workspace(ws)
    with open_registry(workspace) as registry:
        registry.append([crl_record(crl, load_ca_certificate(ws / "keys"))], now=moment)
    clock(monkeypatch, moment)
    size = registry_size(ws)
    out = sign(ws, "P002")
    assert_refused_and_nothing_written(
        ws, "P002", out, size, "已于 2027-01-05T10:00:00Z 吊销", "私钥泄露", "吊销记录"
    )
    assert sign(ws, "P001").code == 0  # the file itself is the newest registered: no false alarm


def test_a_revocation_entry_alone_revokes(ws: Path) -> None:
    ca_cert = load_ca_certificate(ws / "keys")
    (first,) = records(ws, "crl")
    serial = int("abc123", 16)
    revocation = {
        "type": "revocation", "person": "P009", "cert_fingerprint": "00" * 32,
        "serial": "abc123", "reason": "affiliation_changed", "revoked_at": "2027-01-06T00:00:00Z",
    }  # fmt: skip
    state = revocation_state([(0, first), (1, revocation)], ca_cert)
    found = state.revocation(serial)
    assert found is not None and found.reason is RevocationReason.AFFILIATION_CHANGED
    assert state.recorded == frozenset({serial})
    assert state.revocation(serial + 1) is None
    # the state as it was before the revocation entry
    earlier = revocation_state([(0, first), (1, revocation)], ca_cert, before=1)
    assert earlier.revocation(serial) is None


# ---------------------------------------------------------------------------------------------
# (e) re-issuing after a stale file was put back


def test_keys_crl_after_a_stale_file_keeps_the_revocation_and_counts_on(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_crl = snapshot_crl(ws)
    revoked_serial = serial_hex(
        x509.load_pem_x509_certificate(person_paths(ws / "keys", "P002").cert.read_bytes())
    )
    assert docgen(ws, "keys", "revoke", "--person", "P002", "--reason", "key_compromise").code == 0
    restore(old_crl)  # number 1, lists nobody
    clock(monkeypatch, T0 + timedelta(hours=3))
    out = docgen(ws, "keys", "crl")
    assert out.code == 0, out.text
    assert "第 3 号" in out.out
    ca_cert = load_ca_certificate(ws / "keys")
    crl = load_crl(crl_files(ws)[0], ca_cert=ca_cert)
    assert crl_number(crl) == 3
    (entry,) = list(crl)
    assert format(entry.serial_number, "x") == revoked_serial
    assert entry.revocation_date_utc == T0 + timedelta(hours=1)  # the original date is kept
    newest = records(ws, "crl")[-1]
    assert newest["number"] == 3 and crl_from_record(newest, ca_cert=ca_cert) == crl
    assert [r["serial"] for r in newest["revoked"]] == [revoked_serial]
    assert sign(ws, "P001").code == 0


# ---------------------------------------------------------------------------------------------
# revoke and its CRL in one transaction; catching up after an interruption


def test_revoke_registers_the_revocation_and_its_crl_together(ws: Path) -> None:
    before = registry_size(ws)
    assert docgen(ws, "keys", "revoke", "--person", "P002", "--reason", "superseded").code == 0
    with open_registry(find_workspace(ws)) as registry:
        new = [e.record for e in registry.entries() if e.index >= before]
    assert [r["type"] for r in new] == ["revocation", "crl"]
    assert new[1]["number"] == 2
    assert [r["serial"] for r in new[1]["revoked"]] == [new[0]["serial"]]
    assert new[0]["recorded_at"] == new[1]["recorded_at"]


def test_interrupted_revoke_is_refused_at_signing_and_caught_up_later(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a ``keys revoke`` killed between its files and its registry append leaves."""
    workspace = find_workspace(ws)
    with open_registry(workspace) as registry:
        state = read_revocation_state(registry, load_ca_certificate(ws / "keys"))
    revoke(
        ws / "keys",
        "P002",
        reason=RevocationReason.KEY_COMPROMISE,
        ca_passphrase=Passphrase(CA_SECRET.encode(), "测试"),
        now=T0 + timedelta(hours=1),
        registered=state,
    )
    clock(monkeypatch, T0 + timedelta(hours=2))
    size = registry_size(ws)
    out = sign(ws, "P001")
    assert_refused_and_nothing_written(ws, "P001", out, size, "第 2 号", "没有记入登记簿")
    out = docgen(ws, "keys", "rotate", "--person", "P003")
    assert out.code == 0, out.text
    assert "补记此前中断、未记入登记簿的证书吊销 1 条" in out.err
    assert "补记此前未记入登记簿的吊销列表第 2 号" in out.err
    assert [r["number"] for r in records(ws, "crl")] == [1, 2]
    assert sign(ws, "P001").code == 0


def test_init_ca_catches_up_a_workspace_made_before_crls_were_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    clock(monkeypatch, T0)
    assert run_docgen("init", str(root)).code == 0
    # the CA made as docgen did before: files only, no registry entry
    init_ca(
        root / "keys", institution="庆城县人民检察院",
        passphrase=Passphrase(CA_SECRET.encode(), "测试"), now=T0,
    )  # fmt: skip
    out = docgen(root, "keys", "init-ca")
    assert out.code == 0, out.text
    assert "补记此前未记入登记簿的吊销列表第 1 号" in out.out
    assert "根证书已经存在,未改动" in out.out
    assert [r["number"] for r in records(root, "crl")] == [1]
    again = docgen(root, "keys", "init-ca")
    assert again.code == 2
    assert "根证书已经存在,不会覆盖" in again.err
    assert [r["number"] for r in records(root, "crl")] == [1]


def test_init_ca_does_not_catch_up_a_stale_file(ws: Path) -> None:
    old_crl = snapshot_crl(ws)
    assert docgen(ws, "keys", "crl").code == 0
    restore(old_crl)
    out = docgen(ws, "keys", "init-ca")
    assert out.code == 1
    assert "吊销列表已过时" in out.err
    assert [r["number"] for r in records(ws, "crl")] == [1, 2]


# ---------------------------------------------------------------------------------------------
# the record format


def test_crl_record_refuses_any_mismatch(ws: Path) -> None:
    ca_cert = load_ca_certificate(ws / "keys")
    (good,) = records(ws, "crl")
    assert crl_from_record(good) == crl_from_record(good, ca_cert=ca_cert)
    der = bytearray(base64.b64decode(good["der"]))
    der[-5] ^= 0x01
    changes: dict[str, Any] = {
        "number": 2,
        "sha256": "0" * 64,
        "this_update": "2027-01-05T09:00:01Z",
        "next_update": "2028-01-05T09:00:00Z",
        "revoked": [{"serial": "1", "revoked_at": "2027-01-05T09:00:00Z", "reason": "unspecified"}],
        "der": base64.b64encode(bytes(der)).decode(),
    }
    for name, value in changes.items():
        with pytest.raises(ValidationError, match="登记簿中的吊销列表记录"):
            crl_from_record({**good, name: value}, ca_cert=ca_cert)
    with pytest.raises(ValidationError, match="issuer_fingerprint"):
        crl_from_record({**good, "issuer_fingerprint": "ab" * 32}, ca_cert=ca_cert)


def test_the_state_checks_the_newest_crl_in_full_and_the_older_ones_by_digest(ws: Path) -> None:
    assert docgen(ws, "keys", "crl").code == 0
    ca_cert = load_ca_certificate(ws / "keys")
    older, newest = records(ws, "crl")
    state = revocation_state([(0, older), (1, newest)], ca_cert)
    assert [c.number for c in state.crls] == [1, 2] and state.highest_number == 2
    assert state.newest is not None and state.newest.crl() == crl_from_record(newest)
    listed = {"serial": "7", "revoked_at": "2027-01-05T09:00:00Z", "reason": "unspecified"}
    with pytest.raises(ValidationError, match=r"第 1 条.*字段“revoked”"):
        revocation_state([(0, older), (1, {**newest, "revoked": [listed]})], ca_cert)
    with pytest.raises(ValidationError, match=r"第 0 条.*SHA-256 不符"):
        revocation_state([(0, {**older, "der": newest["der"]}), (1, newest)], ca_cert)
    # an older record's serials count: they can only make signing refuse more
    state = revocation_state([(0, {**older, "revoked": [listed]}), (1, newest)], ca_cert)
    assert state.revocation(7) is not None
