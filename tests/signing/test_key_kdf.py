"""Private keys under scrypt: what a new key file is (parsed here with asn1crypto, not with
docgen's own reader), that openssl and cryptography read it, that the old PBKDF2 files still
sign and ``keys passwd`` upgrades them without changing the key, that ``keys check`` names the
weak ones, and the registry key's own passphrase.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from docgen.core import pkcs8
from docgen.core.workspace import config_text, find_workspace
from docgen.registry import open_registry
from docgen.registry.note import parse_verifier_key
from docgen.signing.keyfiles import (
    KeyFileError,
    PassphraseError,
    ca_paths,
    encrypt_private_key,
    load_certificate,
    load_private_key,
    person_paths,
)
from docgen.signing.passphrase import Passphrase
from tests.conftest import PRODUCTION_KDF
from tests.helpers import CliOutcome, run_docgen

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl 命令不可用,跳过互操作检查")

SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"
PBKDF2_OID = "1.2.840.113549.1.5.12"
CA_SECRET = "根证书口令-Kd7#scrypt-ca"
PERSON_SECRET = "个人口令-Qw3$scrypt-old"
NEW_SECRET = "新口令-Zr8%scrypt-new"
REGISTRY_SECRET = "登记簿口令-Vb2&scrypt-reg"
ROSTER = """institution: "庆城县人民检察院"
people:
  - {id: P001, name: 张明远, title: 党组书记、检察长, role: 党组书记}
  - {id: P002, name: 李卫东, title: 党组成员、副检察长, role: 班子成员}
  - {id: P003, name: 马俊峰, title: 办公室主任, role: 部门负责人}
  - {id: P004, name: 阿依古丽·买买提, title: 科员, role: 工作人员}
departments:
  - {name: 办公室, head: P003, supervisor: P002, members: [P004]}
"""


@pytest.fixture
def production_kdf() -> Iterator[None]:
    """Keys written inside the test use docgen's real default, not the suite's light one."""
    with pkcs8.scrypt_cost(PRODUCTION_KDF):
        yield


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Four people, CA and keys issued, letters generated (keys at the suite's light cost)."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "docgen.toml").write_text(config_text("庆城县人民检察院", 2027), encoding="utf-8")
    (root / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-05T09:00:00+00:00")
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    monkeypatch.delenv("DOCGEN_NEW_PASSPHRASE", raising=False)
    monkeypatch.delenv("DOCGEN_REGISTRY_PASSPHRASE", raising=False)
    for args in (["keys", "init-ca"], ["keys", "issue", "--all"], ["generate"]):
        outcome = run(root, *args)
        assert outcome.code == 0, outcome.text
    return root


def run(root: Path, *args: str) -> CliOutcome:
    outcome = run_docgen(*args, "-w", str(root))
    for secret in (CA_SECRET, PERSON_SECRET, NEW_SECRET, REGISTRY_SECRET):
        assert secret not in outcome.text
    assert "Traceback" not in outcome.text
    return outcome


def pbes2_of(path: Path) -> tuple[str, list[object], str, bytes]:
    """(KDF OID, its parameters as plain values, encryption scheme, IV) of a PEM key file."""
    label, _headers, der = asn1_pem.unarmor(path.read_bytes())
    assert label == "ENCRYPTED PRIVATE KEY"
    info = asn1_keys.EncryptedPrivateKeyInfo.load(der)
    algorithm = info["encryption_algorithm"]
    assert algorithm["algorithm"].dotted == "1.2.840.113549.1.5.13"  # PBES2
    kdf = algorithm["parameters"]["key_derivation_func"]
    params = asn1_core.load(kdf["parameters"].dump())
    values = [params[i].native for i in range(len(params))]
    scheme = algorithm["parameters"]["encryption_scheme"]
    return kdf["algorithm"].dotted, values, scheme["algorithm"].native, scheme["parameters"].native


def spki(key_or_cert: object) -> bytes:
    public = key_or_cert.public_key()  # type: ignore[attr-defined]
    return bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def legacy_pem(key: object, secret: str) -> bytes:
    """A key file as docgen wrote it before scrypt (cryptography's BestAvailableEncryption)."""
    return bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(secret.encode()),
        )
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".docgen.lock"
    }


# --------------------------------------------------------------------------------------------
# what a new key file is


def test_the_default_is_scrypt_n_2_17_r_8_p_1() -> None:
    assert pkcs8.SCRYPT_DEFAULT is PRODUCTION_KDF
    assert (PRODUCTION_KDF.n, PRODUCTION_KDF.r, PRODUCTION_KDF.p) == (2**17, 8, 1)
    assert PRODUCTION_KDF.memory_bytes == 128 * 2**20


def test_new_ca_and_person_keys_are_scrypt_with_the_default_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, production_kdf: None
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "docgen.toml").write_text(config_text("庆城县人民检察院", 2027), encoding="utf-8")
    (root / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-05T09:00:00+00:00")
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    assert run(root, "keys", "init-ca").code == 0
    assert run(root, "keys", "issue", "--person", "P001").code == 0
    keys_dir = root / "keys"
    files = [ca_paths(keys_dir).key, person_paths(keys_dir, "P001").key]
    salts = []
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        oid, (salt, n, r, p, *rest), scheme, iv = pbes2_of(path)
        assert (oid, n, r, p, rest) == (SCRYPT_OID, 2**17, 8, 1, [])
        assert scheme == "aes256_cbc" and len(iv) == 16 and len(salt) == 16
        salts.append(salt)
    assert salts[0] != salts[1]
    # cryptography's own PKCS#8 reader opens it too, and it is the certificate's key
    key = serialization.load_pem_private_key(files[1].read_bytes(), PERSON_SECRET.encode())
    assert spki(key) == spki(load_certificate(person_paths(keys_dir, "P001").cert))


def test_a_wrong_passphrase_gives_the_chinese_message(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(workspace)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", "不对的口令-wrong-123")
    outcome = run(workspace, "sign", "--as", "P001")
    assert outcome.code == 1
    assert "口令不正确(来自环境变量 DOCGEN_PASSPHRASE),无法打开私钥" in outcome.err
    assert snapshot(workspace) == before


def test_a_key_file_asking_for_gigabytes_is_refused_before_decrypting(tmp_path: Path) -> None:
    """A forged N (2^30: 128 GiB) must not make docgen try: refused at once, in Chinese."""
    scheme = asn1_algos.EncryptionAlgorithm(
        {
            "algorithm": "pbes2",
            "parameters": {
                "key_derivation_func": {
                    "algorithm": SCRYPT_OID,
                    "parameters": pkcs8.ScryptParams(
                        {
                            "salt": b"\x01" * 16,
                            "cost_parameter": 2**30,
                            "block_size": 8,
                            "parallelization_parameter": 1,
                        }
                    ),
                },
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": b"\x02" * 16},
            },
        }
    )
    forged_der = asn1_keys.EncryptedPrivateKeyInfo(
        {"encryption_algorithm": scheme, "encrypted_data": b"\x03" * 144}
    ).dump()
    path = tmp_path / "key.pem"
    path.write_bytes(asn1_pem.armor("ENCRYPTED PRIVATE KEY", forged_der))
    os.chmod(path, 0o600)
    os.chmod(tmp_path, 0o700)
    assert pkcs8.inspect_pem(path.read_bytes()).scrypt == pkcs8.ScryptCost(2**30, 8, 1)
    started = time.monotonic()
    with pytest.raises(KeyFileError) as caught:
        load_private_key(path, Passphrase(b"whatever-secret", "测试"))
    assert time.monotonic() - started < 2
    assert "解密代价过大" in str(caught.value) and "N=2^30" in str(caught.value)


# --------------------------------------------------------------------------------------------
# openssl


def _openssl_pubkey(path: Path, secret: str) -> subprocess.CompletedProcess[bytes]:
    """``openssl pkey -pubout`` with the passphrase on a pipe (``-passin fd:N``), not in argv."""
    assert OPENSSL is not None
    read_end, write_end = os.pipe()
    os.write(write_end, secret.encode() + b"\n")
    os.close(write_end)
    try:
        return subprocess.run(
            [OPENSSL, "pkey", "-in", str(path), "-passin", f"fd:{read_end}", "-pubout"],
            pass_fds=(read_end,),
            capture_output=True,
            check=False,
            timeout=60,
        )
    finally:
        os.close(read_end)


@needs_openssl
def test_openssl_reads_our_scrypt_key_file(tmp_path: Path) -> None:
    """The structure openssl reads, at the largest scrypt cost OpenSSL 3.0 decrypts (its own
    default, N = 2^14: its PKCS#8 decoder caps scrypt at 32 MiB)."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "key.pem"
    with pkcs8.scrypt_cost(pkcs8.ScryptCost(n=2**14, r=8, p=1)):
        path.write_bytes(encrypt_private_key(key, Passphrase(PERSON_SECRET.encode(), "测试")))
    done = _openssl_pubkey(path, PERSON_SECRET)
    assert done.returncode == 0, done.stderr
    assert done.stdout == spki(key)
    assert _openssl_pubkey(path, "wrong-passphrase").returncode != 0


@needs_openssl
def test_openssl_on_a_default_cost_key_reads_it_or_names_its_memory_cap(
    tmp_path: Path, production_kdf: None
) -> None:
    """OpenSSL 3.0–3.4 refuse N = 2^17, r = 8 for its memory (SCRYPT_MAX_MEM, 32 MiB), not for
    the format; a version without that cap must give the same public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "key.pem"
    path.write_bytes(encrypt_private_key(key, Passphrase(PERSON_SECRET.encode(), "测试")))
    done = _openssl_pubkey(path, PERSON_SECRET)
    if done.returncode == 0:
        assert done.stdout == spki(key)
    else:
        assert b"memory limit exceeded" in done.stderr, done.stderr


@needs_openssl
def test_docgen_reads_a_key_openssl_encrypted_with_scrypt(tmp_path: Path) -> None:
    assert OPENSSL is not None
    key = ec.generate_private_key(ec.SECP256R1())
    plain = tmp_path / "plain.pem"
    plain.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    target = tmp_path / "keys" / "key.pem"
    target.parent.mkdir(mode=0o700)
    env = {**os.environ, "DOCGEN_TEST_OPENSSL_PASS": PERSON_SECRET}
    done = subprocess.run(
        [OPENSSL, "pkcs8", "-topk8", "-scrypt", "-in", str(plain), "-out", str(target),
         "-passout", "env:DOCGEN_TEST_OPENSSL_PASS"],
        env=env, capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    os.chmod(target, 0o600)
    assert pkcs8.inspect_pem(target.read_bytes()).scrypt == pkcs8.ScryptCost(2**14, 8, 1)
    opened = load_private_key(target, Passphrase(PERSON_SECRET.encode(), "测试"))
    assert spki(opened) == spki(key)
    with pytest.raises(PassphraseError):
        load_private_key(target, Passphrase(b"wrong-passphrase", "测试"))


# --------------------------------------------------------------------------------------------
# old PBKDF2 keys: still sign, named by keys check, upgraded by keys passwd


def _make_legacy(root: Path, person_id: str) -> bytes:
    """Re-encrypt the person's key as docgen wrote keys before (PBKDF2, 2,048 iterations)."""
    path = person_paths(root / "keys", person_id).key
    key = load_private_key(path, Passphrase(PERSON_SECRET.encode(), "测试"))
    path.write_bytes(legacy_pem(key, PERSON_SECRET))
    oid, (_salt, iterations, *_rest), scheme, _iv = pbes2_of(path)
    assert (oid, iterations, scheme) == (PBKDF2_OID, 2048, "aes256_cbc")
    return spki(key)


def test_an_old_pbkdf2_key_still_signs_and_keys_passwd_upgrades_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, production_kdf: None
) -> None:
    public = _make_legacy(workspace, "P001")
    assert run(workspace, "sign", "--as", "P001").code == 0

    check = run(workspace, "keys", "check")
    assert check.code == 1
    assert "✗ P001 张明远:PBKDF2(2048 次迭代),低于现行标准" in check.out
    assert "docgen keys passwd --person P001" in check.out

    paths = person_paths(workspace / "keys", "P001")
    before = snapshot(workspace)
    with open_registry(find_workspace(workspace)) as registry:
        size = registry.size()
    monkeypatch.setenv("DOCGEN_NEW_PASSPHRASE", NEW_SECRET)
    done = run(workspace, "keys", "passwd", "--person", "P001")
    assert done.code == 0, done.text
    assert "PBKDF2(2048 次迭代) → scrypt(N=2^17,r=8,p=1)" in done.out

    # Re-read from disk: scrypt with the stated parameters, 0600, the same key and nothing else.
    oid, (_salt, n, r, p), scheme, _iv = pbes2_of(paths.key)
    assert (oid, n, r, p, scheme) == (SCRYPT_OID, 2**17, 8, 1, "aes256_cbc")
    assert stat.S_IMODE(paths.key.stat().st_mode) == 0o600
    upgraded = load_private_key(paths.key, Passphrase(NEW_SECRET.encode(), "测试"))
    assert spki(upgraded) == public == spki(load_certificate(paths.cert))
    after = snapshot(workspace)
    changed = {rel for rel in before.keys() | after.keys() if before.get(rel) != after.get(rel)}
    assert changed == {"keys/people/P001/key.pem"}
    with open_registry(find_workspace(workspace)) as registry:
        assert registry.size() == size

    # the old passphrase opens nothing any more; the new one signs
    others = run(workspace, "sign", "--as", "P002")  # P002 keeps the old passphrase: signs
    assert others.code == 0, others.text
    with pytest.raises(PassphraseError):
        load_private_key(paths.key, Passphrase(PERSON_SECRET.encode(), "测试"))
    monkeypatch.setenv("DOCGEN_PASSPHRASE", NEW_SECRET)
    assert run(workspace, "keys", "check").code == 1  # P002–P004 still at the suite's light cost


def test_keys_passwd_for_the_ca(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca_key = ca_paths(workspace / "keys").key
    key = load_private_key(ca_key, Passphrase(CA_SECRET.encode(), "测试"))
    ca_key.write_bytes(legacy_pem(key, CA_SECRET))
    check = run(workspace, "keys", "check")
    assert check.code == 1 and "✗ 根证书私钥:PBKDF2(2048 次迭代)" in check.out
    assert "docgen keys passwd --ca" in check.out

    monkeypatch.setenv("DOCGEN_NEW_PASSPHRASE", NEW_SECRET)
    done = run(workspace, "keys", "passwd", "--ca")
    assert done.code == 0, done.text
    assert pkcs8.inspect_pem(ca_key.read_bytes()).is_current()
    assert run(workspace, "keys", "check").code == 0
    assert run(workspace, "keys", "crl").code == 1  # the old CA passphrase no longer opens it
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", NEW_SECRET)
    assert run(workspace, "keys", "crl").code == 0
    assert spki(load_private_key(ca_key, Passphrase(NEW_SECRET.encode(), "测试"))) == spki(key)


def test_keys_rotate_for_a_compromised_key_writes_the_new_key_with_scrypt(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, production_kdf: None
) -> None:
    """A key someone else may know gets a new key and certificate (rotate), not a new
    passphrase; the new key file has the current KDF even where the old one was PBKDF2."""
    old_public = _make_legacy(workspace, "P002")
    monkeypatch.setenv("DOCGEN_PASSPHRASE", NEW_SECRET)
    done = run(workspace, "keys", "rotate", "--person", "P002")
    assert done.code == 0, done.text
    path = person_paths(workspace / "keys", "P002").key
    oid, (_salt, n, r, p), _scheme, _iv = pbes2_of(path)
    assert (oid, n, r, p) == (SCRYPT_OID, 2**17, 8, 1)
    assert spki(load_private_key(path, Passphrase(NEW_SECRET.encode(), "测试"))) != old_public


@pytest.mark.parametrize(
    ("args", "env", "code", "phrase"),
    [
        (["--person", "P001"], {"DOCGEN_PASSPHRASE": "错误口令-wrong-1"}, 1, "口令不正确"),
        (["--person", "P001"], {"DOCGEN_NEW_PASSPHRASE": "短"}, 2, "太短"),
        (["--person", "P009"], {}, 2, "没有私钥"),
        ([], {}, 2, "--person"),
        (["--ca", "--person", "P001"], {}, 2, "之一"),
        (["--ca"], {"DOCGEN_CA_PASSPHRASE": "错误口令-wrong-1"}, 1, "口令不正确"),
    ],
    ids=["wrong-old", "short-new", "no-such-key", "nothing-named", "two-named", "wrong-ca"],
)
def test_keys_passwd_refusals_change_nothing(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    code: int,
    phrase: str,
) -> None:
    monkeypatch.setenv("DOCGEN_NEW_PASSPHRASE", NEW_SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = snapshot(workspace)
    outcome = run(workspace, "keys", "passwd", *args)
    assert outcome.code == code, outcome.text
    assert phrase in outcome.err
    assert snapshot(workspace) == before


def test_keys_passwd_asks_old_and_new_at_the_prompt(workspace: Path) -> None:
    """Without environment or files: the current passphrase, then the new one twice."""
    from click.testing import CliRunner

    from docgen.cli import cli

    env = {"DOCGEN_PASSPHRASE": None, "DOCGEN_NEW_PASSPHRASE": None}
    result = CliRunner().invoke(
        cli,
        ["keys", "passwd", "--person", "P002", "-w", str(workspace)],
        input=f"{PERSON_SECRET}\n{NEW_SECRET}\n{NEW_SECRET}\n",
        env=env,  # type: ignore[arg-type]
    )
    assert result.exit_code == 0, result.output
    assert "P002 现在的私钥口令" in result.output and "P002 的新私钥口令" in result.output
    assert PERSON_SECRET not in result.output and NEW_SECRET not in result.output
    path = person_paths(workspace / "keys", "P002").key
    assert load_private_key(path, Passphrase(NEW_SECRET.encode(), "测试"))


# --------------------------------------------------------------------------------------------
# the registry key


def test_an_unencrypted_registry_key_works_and_keys_check_says_how_to_encrypt_it(
    workspace: Path,
) -> None:
    key = workspace / "keys" / "registry" / "registry.key"
    assert b"-----BEGIN PRIVATE KEY-----" in key.read_bytes()
    assert run(workspace, "registry", "checkpoint").code == 0
    check = run(workspace, "keys", "check")
    assert check.code == 0, check.text  # personal and CA keys are current: a warning only
    assert "⚠ 登记簿签名私钥:未加密" in check.out
    assert "docgen keys passwd --registry" in check.err


def test_keys_passwd_encrypts_the_registry_key(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, production_kdf: None
) -> None:
    key_dir = workspace / "keys" / "registry"
    vkey = (key_dir / "registry.vkey").read_bytes()
    checkpoint = run(workspace, "registry", "checkpoint").out
    monkeypatch.setenv("DOCGEN_NEW_PASSPHRASE", REGISTRY_SECRET)
    done = run(workspace, "keys", "passwd", "--registry")
    assert done.code == 0, done.text
    assert "未加密 → scrypt(N=2^17,r=8,p=1)" in done.out
    oid, (_salt, n, r, p), _scheme, _iv = pbes2_of(key_dir / "registry.key")
    assert (oid, n, r, p) == (SCRYPT_OID, 2**17, 8, 1)
    assert stat.S_IMODE((key_dir / "registry.key").stat().st_mode) == 0o600
    assert (key_dir / "registry.vkey").read_bytes() == vkey

    missing = run(workspace, "registry", "checkpoint")
    assert missing.code == 2
    assert "登记簿签名私钥已加密" in missing.err and "DOCGEN_REGISTRY_PASSPHRASE" in missing.err
    monkeypatch.setenv("DOCGEN_REGISTRY_PASSPHRASE", "错误的登记簿口令-x1")
    wrong = run(workspace, "registry", "checkpoint")
    assert wrong.code == 1 and "登记簿签名私钥的口令不正确" in wrong.err

    monkeypatch.setenv("DOCGEN_REGISTRY_PASSPHRASE", REGISTRY_SECRET)
    assert run(workspace, "registry", "checkpoint").out == checkpoint  # same key, same checkpoint
    assert run(workspace, "sign", "--as", "P001").code == 0  # appends and signs a checkpoint
    with open_registry(find_workspace(workspace)) as registry:
        assert registry.audit().ok
        assert registry.verifier_key == parse_verifier_key(vkey.decode().strip()).encode()
    check = run(workspace, "keys", "check")
    assert "✓ 登记簿签名私钥:scrypt(N=2^17,r=8,p=1)" in check.out


def test_a_registry_key_made_with_the_passphrase_set_is_encrypted_from_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "docgen.toml").write_text(config_text("庆城县人民检察院", 2027), encoding="utf-8")
    (root / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-05T09:00:00+00:00")
    monkeypatch.setenv("DOCGEN_REGISTRY_PASSPHRASE", REGISTRY_SECRET)
    assert run(root, "registry", "checkpoint").code == 0
    protection = pkcs8.inspect_pem((root / "keys" / "registry" / "registry.key").read_bytes())
    assert protection.kind is pkcs8.KdfKind.SCRYPT and protection.is_current()
    monkeypatch.delenv("DOCGEN_REGISTRY_PASSPHRASE")
    assert run(root, "registry", "checkpoint").code == 2
