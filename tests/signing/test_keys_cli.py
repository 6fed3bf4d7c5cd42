"""``docgen keys``: what a clerk sees, which files appear, and that passphrases never leak."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import CliOutcome, run_docgen

from docgen.cli import cli
from docgen.core.workspace import config_text
from docgen.signing.crl import load_crl
from docgen.signing.keyfiles import ca_paths, load_certificate, load_private_key, person_paths
from docgen.signing.x509util import common_name_of, fingerprint, serial_hex

CA_SECRET = "Ca-口令-for-cli-tests"
PERSON_SECRET = "Person-口令-for-cli-tests"
FIXED_NOW = "2027-01-04T09:00:00+00:00"
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
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "docgen.toml").write_text(config_text("庆城县人民检察院", 2027), encoding="utf-8")
    (root / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    monkeypatch.setenv("DOCGEN_NOW", FIXED_NOW)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    return root


def keys(root: Path, *args: str) -> CliOutcome:
    outcome = run_docgen("keys", *args, "--workspace", str(root))
    for secret in (CA_SECRET, PERSON_SECRET):
        assert secret not in outcome.text
    return outcome


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _assert_no_secret_in_files(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (CA_SECRET, PERSON_SECRET):
                assert secret.encode() not in data, path


@pytest.mark.parametrize(
    "args", [[], ["init-ca"], ["issue"], ["list"], ["revoke"], ["crl"], ["rotate"]]
)
def test_help(args: list[str]) -> None:
    outcome = run_docgen("keys", *args, "--help")
    assert outcome.code == 0
    assert "Usage:" in outcome.out
    assert any("\u4e00" <= ch <= "\u9fff" for ch in outcome.out)
    assert "--passphrase " not in outcome.out  # never a passphrase argument


def test_full_lifecycle(workspace: Path) -> None:
    out = keys(workspace, "init-ca")
    assert out.code == 0, out.text
    assert "已建立根证书" in out.out and "庆城县人民检察院电子签名根证书" in out.out
    ca = ca_paths(workspace / "keys")
    assert _mode(ca.key) == 0o600 and _mode(ca.directory) == 0o700
    assert ca.crl_pem.exists() and ca.crl_der.exists()

    out = keys(workspace, "issue", "--person", "P001")
    assert out.code == 0, out.text
    assert "P001  张明远  序列号" in out.out and "本次签发 1 张证书" in out.out
    person = person_paths(workspace / "keys", "P001")
    assert _mode(person.key) == 0o600 and _mode(person.directory) == 0o700
    cert = load_certificate(person.cert)
    assert cert.not_valid_before_utc.isoformat() == FIXED_NOW
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 730

    out = keys(workspace, "issue", "--all")
    assert out.code == 0, out.text
    assert "只适合演示" in out.err
    assert "本次签发 3 张证书" in out.out and "未重新签发 1 人" in out.out

    out = keys(workspace, "list", "--json")
    assert out.code == 0, out.text
    rows = json.loads(out.out)
    assert [r["person"] for r in rows] == ["P001", "P002", "P003", "P004"]
    assert {r["state"] for r in rows} == {"valid"}
    assert rows[3]["name"] == "阿依古丽·买买提"
    assert rows[0]["fingerprint"] == fingerprint(cert)

    out = keys(workspace, "revoke", "--person", "P002", "--reason", "调离或职务变动")
    assert out.code == 0, out.text
    assert "已吊销 P002" in out.out and "2027-01-04T09:00:00Z" in out.out
    revoked_dir = person_paths(workspace / "keys", "P002").revoked
    assert len(list(revoked_dir.glob("*.pem"))) == 1

    out = keys(workspace, "list")
    assert out.code == 0, out.text
    assert "P002  李卫东  无在用证书" in out.out
    assert "P001  张明远  有效" in out.out
    out = keys(workspace, "list", "--history")
    assert "P002  李卫东  已吊销" in out.out and "吊销于 2027-01-04T09:00:00Z" in out.out

    out = keys(workspace, "crl")
    assert out.code == 0, out.text
    assert "第 3 号" in out.out and "共 1 张" in out.out
    crl = load_crl(ca.crl_der, ca_cert=load_certificate(ca.cert))
    assert len(list(crl)) == 1

    old_serial = serial_hex(cert)
    out = keys(workspace, "rotate", "--person", "P001")
    assert out.code == 0, out.text
    assert f"旧证书 {old_serial}" in out.out
    assert (person.old / f"{old_serial}.pem").exists()
    assert load_certificate(person.cert) != cert

    _assert_no_secret_in_files(workspace)


def test_issue_needs_exactly_one_selector(workspace: Path) -> None:
    assert keys(workspace, "init-ca").code == 0
    assert keys(workspace, "issue").code == 2
    both = keys(workspace, "issue", "--all", "--person", "P001")
    assert both.code == 2
    assert "二选一" in both.text


def test_issue_before_init_ca_says_what_to_do(workspace: Path) -> None:
    out = keys(workspace, "issue", "--person", "P001")
    assert out.code == 2
    assert "docgen keys init-ca" in out.err
    assert not (workspace / "keys" / "people" / "P001").exists()


def test_wrong_ca_passphrase_writes_nothing(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert keys(workspace, "init-ca").code == 0
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", "not-the-right-one")
    out = keys(workspace, "issue", "--person", "P001")
    assert out.code == 1
    assert out.err.startswith("错误:") and "口令不正确" in out.err and "ca.key" in out.err
    assert "not-the-right-one" not in out.text
    assert not (workspace / "keys" / "people" / "P001").exists()


def test_issue_twice_points_to_rotate(workspace: Path) -> None:
    assert keys(workspace, "init-ca").code == 0
    assert keys(workspace, "issue", "--person", "P001").code == 0
    again = keys(workspace, "issue", "--person", "P001")
    assert again.code == 2 and "keys rotate --person P001" in again.err


def test_readable_ca_key_is_refused(workspace: Path) -> None:
    assert keys(workspace, "init-ca").code == 0
    ca_key = ca_paths(workspace / "keys").key
    os.chmod(ca_key, 0o644)
    out = keys(workspace, "crl")
    assert out.code == 1
    assert str(ca_key) in out.err and "chmod 600" in out.err


def test_passphrase_file_must_be_private(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCGEN_CA_PASSPHRASE")
    secret_file = tmp_path / "ca-pass.txt"
    secret_file.write_text(CA_SECRET + "\n", encoding="utf-8")
    os.chmod(secret_file, 0o644)
    out = keys(workspace, "init-ca", "--ca-passphrase-file", str(secret_file))
    assert out.code == 2 and "chmod 600" in out.err
    assert not ca_paths(workspace / "keys").cert.exists()
    os.chmod(secret_file, 0o600)
    out = keys(workspace, "init-ca", "--ca-passphrase-file", str(secret_file))
    assert out.code == 0, out.text
    # the file's passphrase really is the CA passphrase
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    assert keys(workspace, "crl").code == 0


def test_short_passphrase_is_refused(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", "short")
    out = keys(workspace, "init-ca")
    assert out.code == 2 and "太短" in out.err
    assert not (workspace / "keys" / "ca" / "ca.key").exists()


def test_unknown_reason_lists_choices(workspace: Path) -> None:
    out = keys(workspace, "revoke", "--person", "P001", "--reason", "随便")
    assert out.code == 2 and "key_compromise" in out.err


def test_prompted_passphrases_are_hidden(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCGEN_CA_PASSPHRASE")
    monkeypatch.delenv("DOCGEN_PASSPHRASE")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["keys", "init-ca", "--workspace", str(workspace)],
        input=f"{CA_SECRET}\n{CA_SECRET}\n",
    )
    assert result.exit_code == 0, result.output
    assert "根证书口令" in result.output
    assert CA_SECRET not in result.output
    result = runner.invoke(
        cli,
        ["keys", "issue", "--person", "P003", "--no-activation", "--workspace", str(workspace)],
        input=f"{CA_SECRET}\n{PERSON_SECRET}\n{PERSON_SECRET}\n",
    )
    assert result.exit_code == 0, result.output
    assert "P003 的新私钥口令" in result.output
    assert PERSON_SECRET not in result.output and CA_SECRET not in result.output
    key = person_paths(workspace / "keys", "P003").key
    from docgen.signing.passphrase import Passphrase

    assert load_private_key(key, Passphrase(PERSON_SECRET.encode(), "测试"))
    _assert_no_secret_in_files(workspace)


def test_as_a_separate_process(workspace: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    for args in (["init-ca", "--algorithm", "rsa3072"], ["issue", "--person", "P004"]):
        done = subprocess.run(
            [sys.executable, "-m", "docgen", "keys", *args, "--workspace", str(workspace)],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert CA_SECRET not in done.stdout + done.stderr
        assert PERSON_SECRET not in done.stdout + done.stderr
    cert = load_certificate(person_paths(workspace / "keys", "P004").cert)
    assert common_name_of(cert) == "阿依古丽·买买提"
    assert cert.public_key().key_size == 3072  # type: ignore[union-attr]


def test_issue_help_says_what_all_does_with_activation_codes() -> None:
    """New-user report item 6: --all gives each person an activation code of their own; one
    passphrase for everybody only from --passphrase-file / DOCGEN_PASSPHRASE (scripts)."""
    text = " ".join(run_docgen("keys", "issue", "--help").out.split())
    assert "仅限演示" not in text
    assert "各自的激活码" in text
    assert "--passphrase-file" in text and "DOCGEN_PASSPHRASE" in text


def test_init_ca_without_a_terminal_says_how_to_give_the_passphrase(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCGEN_CA_PASSPHRASE")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal, nothing piped in
    out = keys(workspace, "init-ca")
    assert out.code == 2, out.text
    assert "已取消" not in out.err
    assert out.err.splitlines()[-1].startswith("错误:") and "根证书口令" in out.err
    assert "DOCGEN_CA_PASSPHRASE" in out.err and "--ca-passphrase-file" in out.err
    assert not (workspace / "keys" / "ca" / "ca.key").exists()


def test_init_ca_prints_the_fingerprint_after_a_separator(workspace: Path) -> None:
    out = keys(workspace, "init-ca")
    assert out.code == 0, out.text
    expected = fingerprint(load_certificate(ca_paths(workspace / "keys").cert))
    assert f"指纹(SHA-256):{expected}" in out.out
