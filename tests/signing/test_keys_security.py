"""Private keys and passphrases: safe file modes checked on every use, secrets never shown, and
key rotation that keeps earlier signatures valid.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from docgen.cli import cli
from docgen.core.workspace import find_workspace
from docgen.records.state import read_year_state
from docgen.registry import open_registry
from docgen.signing.keyfiles import load_certificate
from docgen.signing.x509util import fingerprint, serial_hex
from tests.conftest import NOW, PASSPHRASE
from tests.helpers import CliOutcome, run_docgen

YEAR = 2027
PERSON_SECRET = "个人口令-Zq7#xV3!m9-秘密"
CA_SECRET = "根证书口令-Hw2$kP8@r4-机密"
WRONG_SECRET = "错误口令-Lb5%nT1^w6-不对"
NEW_SECRET = "新口令-Pm4&yR7*c2-更换"
REGISTRY_SECRET = "登记簿口令-Gt6(jU9)e3-密钥"
SECRETS = (PERSON_SECRET, CA_SECRET, WRONG_SECRET, NEW_SECRET, REGISTRY_SECRET)


def _modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
        for p in sorted([root, *root.rglob("*")])
    }


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".docgen.lock"
    }


# --------------------------------------------------------------------------------------------
# file modes


def test_keys_are_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    """Modes are set explicitly, not left to the umask: run the whole key setup with umask 000."""
    root = tmp_path / "ws"
    env = dict(os.environ)
    env.update(
        DOCGEN_NOW=NOW.isoformat(), DOCGEN_PASSPHRASE=PERSON_SECRET, DOCGEN_CA_PASSPHRASE=CA_SECRET
    )
    env.pop("DOCGEN_DATABASE_URL", None)
    for args in (
        ["init", str(root)],
        ["keys", "init-ca", "-w", str(root)],
        ["keys", "issue", "-w", str(root), "--all"],
        ["generate", "-w", str(root)],
        ["keys", "rotate", "-w", str(root), "--person", "P002"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "docgen", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            preexec_fn=lambda: os.umask(0),
        )
        assert done.returncode == 0, done.stdout + done.stderr
    keys = root / "keys"
    modes = _modes(keys)
    private = {rel for rel in modes if rel.endswith(("ca.key", "key.pem", "registry.key"))}
    directories = {rel for rel in modes if (keys / rel).is_dir()}
    assert {"ca/ca.key", "registry/registry.key", "people/P001/key.pem"} <= private
    assert {".", "ca", "people", "people/P001", "people/P002/old", "registry"} <= directories
    for rel in private:
        assert modes[rel] == 0o600, rel
    for rel in directories:
        assert modes[rel] == 0o700, rel
    for rel, mode in modes.items():
        if rel not in private and rel not in directories:
            assert mode == 0o644, rel  # certificates, CRL, verifier key: public, not writable
    for key_file in private - {"registry/registry.key"}:
        assert b"ENCRYPTED PRIVATE KEY" in (keys / key_file).read_bytes()


@pytest.fixture
def env_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", PASSPHRASE)


def _refused(root: Path, args: list[str], *phrases: str) -> CliOutcome:
    before = _snapshot(root)
    outcome = run_docgen(*args, "-w", str(root))
    assert outcome.code == 1, outcome.text
    assert "Traceback" not in outcome.text
    for phrase in phrases:
        assert phrase in outcome.err, outcome.err
    assert _snapshot(root) == before
    return outcome


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_readable_person_key_is_refused_when_signing(
    keyed_workspace: Path, env_secrets: None, mode: int
) -> None:
    key = keyed_workspace / "keys" / "people" / "P002" / "key.pem"
    os.chmod(key, mode)
    outcome = _refused(
        keyed_workspace,
        ["sign", "--as", "P002"],
        "私钥文件权限为",
        "拒绝使用",
        f"chmod 600 '{key}'",
    )
    assert str(key) in outcome.err
    os.chmod(key, 0o600)
    assert run_docgen("sign", "--as", "P002", "-w", str(keyed_workspace)).code == 0


def test_open_key_directory_is_refused(keyed_workspace: Path, env_secrets: None) -> None:
    directory = keyed_workspace / "keys" / "people" / "P003"
    os.chmod(directory, 0o755)
    _refused(keyed_workspace, ["sign", "--as", "P003"], "drwx------", f"chmod 700 '{directory}'")


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "rotate", "--person", "P001"],
        ["keys", "revoke", "--person", "P001", "--reason", "superseded"],
        ["keys", "crl"],
    ],
    ids=["rotate", "revoke", "crl"],
)
def test_readable_ca_key_is_refused_by_every_ca_command(
    keyed_workspace: Path, env_secrets: None, args: list[str]
) -> None:
    ca_key = keyed_workspace / "keys" / "ca" / "ca.key"
    os.chmod(ca_key, 0o644)
    _refused(keyed_workspace, args, "私钥文件权限为", str(ca_key))


@pytest.mark.parametrize(
    "args",
    [["generate"], ["sign", "--as", "P002"], ["registry", "checkpoint"], ["registry", "audit"]],
    ids=["generate", "sign", "checkpoint", "audit"],
)
def test_readable_registry_key_is_refused(
    keyed_workspace: Path, env_secrets: None, args: list[str]
) -> None:
    registry_key = keyed_workspace / "keys" / "registry" / "registry.key"
    os.chmod(registry_key, 0o604)
    _refused(keyed_workspace, args, "登记簿签名私钥的权限过宽", f"chmod 600 {registry_key}")


def test_readable_passphrase_file_is_refused(keyed_workspace: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "pass.txt"
    secret_file.write_text(PASSPHRASE + "\n", encoding="utf-8")
    os.chmod(secret_file, 0o644)
    outcome = run_docgen(
        "sign", "--as", "P002", "--passphrase-file", str(secret_file), "-w", str(keyed_workspace)
    )
    assert outcome.code == 2
    assert "口令文件的权限过宽" in outcome.err and f"chmod 600 {secret_file}" in outcome.err
    assert PASSPHRASE not in outcome.text


# --------------------------------------------------------------------------------------------
# passphrases never on the command line, never shown


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


def test_no_command_takes_a_secret_as_an_argument() -> None:
    """Options about passphrases name a file; a passphrase itself has no place in argv."""
    seen = 0
    for path, command in _commands(cli):
        for param in command.params:
            names = " ".join([*param.opts, *param.secondary_opts, param.name or ""]).lower()
            if any(word in names for word in ("passphrase", "password", "secret", "口令")):
                seen += 1
                assert all(opt.endswith("-file") for opt in param.opts), (path, param.opts)
                assert isinstance(param.type, click.Path), (path, param.opts)
    assert seen >= 6
    outcome = run_docgen("sign", "--as", "P001", "--passphrase", "x")
    assert outcome.code == 2 and "没有选项 --passphrase" in outcome.err


def _unzipped(data: bytes) -> bytes:
    """Every member of a zip (archives, .docx), so a secret inside one is found too."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return b"\n".join(_unzipped(zf.read(name)) for name in zf.namelist())
    except zipfile.BadZipFile:
        return data


def test_secrets_never_appear_in_output_files_or_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole year with --verbose, success and error paths alike; then grep everything."""
    root = tmp_path / "ws"
    ws_args = ["-w", str(root)]
    outputs: list[CliOutcome] = []

    def run(*args: str, code: int | None = 0) -> CliOutcome:
        outcome = run_docgen("--verbose", *args)
        outputs.append(outcome)
        if code is not None:
            assert outcome.code == code, (args, outcome.text)
        return outcome

    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    run("init", str(root))
    run("keys", "init-ca", *ws_args)
    run("keys", "issue", "--all", *ws_args)
    run("generate", *ws_args)
    ws = find_workspace(root)
    with open_registry(ws) as registry:
        people = sorted(
            {
                pid
                for s in read_year_state(registry, YEAR).active()
                for pid in s.party_ids().values()
            }
        )

    # error paths, each with --verbose (which prints a traceback)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", WRONG_SECRET)
    wrong = run("sign", "--as", people[0], *ws_args, code=1)
    assert "口令不正确(来自环境变量 DOCGEN_PASSPHRASE)" in wrong.err
    assert "Traceback" in wrong.err  # --verbose really showed the traceback
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", WRONG_SECRET)
    run("keys", "rotate", "--person", people[0], *ws_args, code=1)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", CA_SECRET)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(PERSON_SECRET + "\n", encoding="utf-8")
    os.chmod(secret_file, 0o644)
    run("sign", "--as", people[0], "--passphrase-file", str(secret_file), *ws_args, code=2)
    os.chmod(secret_file, 0o600)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", "short")
    run("keys", "rotate", "--person", people[1], *ws_args, code=2)
    key = root / "keys" / "people" / people[0] / "key.pem"
    os.chmod(key, 0o644)
    run("sign", "--as", people[0], "--passphrase-file", str(secret_file), *ws_args, code=1)
    os.chmod(key, 0o600)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    run("sign", "--as", people[0], "--doc", "2027-XX-NONE", *ws_args, code=1)

    # the year, signed and archived
    for pid in people:
        run("sign", "--as", pid, "--passphrase-file", str(secret_file), *ws_args)
    run("keys", "rotate", "--person", people[1], *ws_args)
    run("keys", "revoke", "--person", people[1], "--reason", "superseded", *ws_args)
    run("keys", "list", "--history", "--json", *ws_args)
    run("status", "--json", *ws_args)
    run("verify", "--json", *ws_args, str(ws.year_dir(YEAR)))
    run("verify", "--online", *ws_args, str(ws.year_dir(YEAR)))
    run("archive", *ws_args)
    run(
        "activity",
        "add",
        "--kind",
        "党组专题会议",
        "--date",
        "2027-01-04",
        "--actor",
        "P001",
        "--note",
        "研究部署",
        *ws_args,
    )
    run("report", "--date", "2027-01-05", *ws_args)
    run("registry", "audit", *ws_args)

    # the key files' protection: check, new passphrases (errors too), the registry key encrypted
    run("keys", "check", *ws_args)
    monkeypatch.setenv("DOCGEN_NEW_PASSPHRASE", NEW_SECRET)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", WRONG_SECRET)
    run("keys", "passwd", "--person", people[2], *ws_args, code=1)
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PERSON_SECRET)
    run("keys", "passwd", "--person", people[2], *ws_args)
    run("keys", "passwd", "--ca", *ws_args)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", NEW_SECRET)
    monkeypatch.setenv("DOCGEN_NEW_PASSPHRASE", REGISTRY_SECRET)
    run("keys", "passwd", "--registry", *ws_args)
    run("registry", "audit", *ws_args, code=2)
    monkeypatch.setenv("DOCGEN_REGISTRY_PASSPHRASE", WRONG_SECRET)
    run("registry", "audit", *ws_args, code=1)
    monkeypatch.setenv("DOCGEN_REGISTRY_PASSPHRASE", REGISTRY_SECRET)
    run("keys", "crl", *ws_args)
    run("keys", "check", *ws_args)

    shown = "\n".join(o.out + o.err for o in outputs)
    files = {
        str(p.relative_to(root)): _unzipped(p.read_bytes()) for p in root.rglob("*") if p.is_file()
    }
    assert len(files) > 50
    for secret in SECRETS:
        assert secret not in shown
        for encoded in (secret.encode("utf-8"), secret.encode("utf-16-le")):
            leaking = [rel for rel, data in files.items() if encoded in data]
            assert leaking == [], (secret, leaking)


def test_passphrase_is_not_visible_in_the_process_list(keyed_workspace: Path) -> None:
    """While ``sign`` runs, its command line (what ``ps`` shows) carries no secret."""
    env = dict(os.environ)
    env.update(DOCGEN_NOW=NOW.isoformat(), DOCGEN_PASSPHRASE=PASSPHRASE)
    proc = subprocess.Popen(
        [sys.executable, "-m", "docgen", "sign", "--as", "P001", "-w", str(keyed_workspace)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    seen = cmdline.read_bytes() if cmdline.exists() else b""
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert PASSPHRASE.encode() not in seen + out + err


# --------------------------------------------------------------------------------------------
# rotation


def test_rotation_issues_a_new_certificate_and_old_signatures_stay_valid(
    keyed_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(keyed_workspace)
    ws = find_workspace(keyed_workspace)
    monkeypatch.setenv("DOCGEN_NOW", NOW.isoformat())
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", PASSPHRASE)
    with open_registry(ws) as registry:
        mine = [
            s.doc_id
            for s in read_year_state(registry, YEAR).active()
            if "P002" in s.party_ids().values()
        ]
    assert len(mine) >= 3
    first = run_docgen("sign", "--as", "P002", "--doc", mine[0], "-w", root)
    assert first.code == 0, first.text
    old_cert = load_certificate(ws.keys_dir / "people" / "P002" / "cert.pem")

    new_secret = tmp_path / "new.txt"
    new_secret.write_text("新口令-after-rotation-2027\n", encoding="utf-8")
    os.chmod(new_secret, 0o600)
    rotated = run_docgen(
        "keys", "rotate", "--person", "P002", "--passphrase-file", str(new_secret), "-w", root
    )
    assert rotated.code == 0, rotated.text
    new_cert = load_certificate(ws.keys_dir / "people" / "P002" / "cert.pem")
    assert new_cert.serial_number != old_cert.serial_number
    assert new_cert.public_key() != old_cert.public_key()
    kept = ws.keys_dir / "people" / "P002" / "old" / f"{serial_hex(old_cert)}.pem"
    assert load_certificate(kept) == old_cert
    assert f"旧证书 {serial_hex(old_cert)} 已移至" in rotated.out

    # The old passphrase no longer opens anything: the old key is gone.
    stale = run_docgen("sign", "--as", "P002", "-w", root)
    assert stale.code == 1 and "口令不正确" in stale.err
    rest = run_docgen("sign", "--as", "P002", "--passphrase-file", str(new_secret), "-w", root)
    assert rest.code == 0, rest.text
    with open_registry(ws) as registry:
        state = read_year_state(registry, YEAR)
        counterparts = sorted(
            {pid for d in mine for pid in state.letters[d].party_ids().values()} - {"P002"}
        )
        certs = [e.record for e in registry.entries(type="certificate")]
    for pid in counterparts:
        assert run_docgen("sign", "--as", pid, "-w", root).code == 0
    assert certs[-1]["person"] == "P002"
    assert certs[-1]["cert_fingerprint"] == fingerprint(new_cert)

    with open_registry(ws) as registry:
        state = read_year_state(registry, YEAR)
    used = {state.letters[d].signatures["P002"].record["cert_fingerprint"] for d in mine}
    assert used == {fingerprint(old_cert), fingerprint(new_cert)}
    paths = [str(ws.year_dir(YEAR) / state.letters[d].record["path"]) for d in mine]
    verified = run_docgen("verify", "--json", "-w", root, *paths)
    assert verified.code == 0, verified.out[-2000:]
    letters = json.loads(verified.out)["letters"]
    assert [x["status"] for x in letters] == ["verified"] * len(mine)
