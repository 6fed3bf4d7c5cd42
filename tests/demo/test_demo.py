"""The demo end to end, the CLI's front door, and the wheel installed in a fresh environment."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from docgen.core.glossary import LetterKind
from docgen.demo.run import run_demo
from docgen.roster.load import load_roster
from docgen.signing.ca import load_ca_certificate, load_ca_key
from docgen.signing.keyfiles import PassphraseError, load_private_key, person_paths
from docgen.signing.passphrase import Passphrase
from tests.conftest import NOW
from tests.helpers import run_docgen


def test_demo_runs_every_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without LibreOffice (PATH emptied) the demo completes, and says once that no PDF was made
    and how to install it (the demo with PDFs: tests/demo/test_demo_pdf.py)."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    said: list[str] = []
    result = run_demo(tmp_path / "demo", now=NOW, say=said.append)
    assert result.letters == {
        LetterKind.RESPONSIBILITY: 15,
        LetterKind.PUBLIC_COMMITMENT: 15,
        LetterKind.INTEGRITY_PLEDGE: 29,
    }
    assert result.certificates == 45
    assert result.signatures == 118
    assert result.verified == 59
    text = "\n".join(said)
    assert "党风廉政建设责任书 15 份,公开承诺书 15 份,廉洁从检承诺书 29 份" in text
    assert "审计通过" in text
    assert "验证通过 59 份,失败 0 份" in text
    assert result.pdfs == 0 and result.pdf_signatures == 0
    missing = [line for line in said if "PDF" in line]
    assert missing == [
        "   提示:未找到 LibreOffice,本次演示没有生成和签署文书的 PDF 副本。"
        "安装:apt install libreoffice-writer-nogui fonts-noto-cjk;装好后运行 "
        f"docgen pdf --year {NOW.year},再由各人 docgen sign --as 工号 签署 PDF"
    ]
    assert result.artefacts["年度档案包"].is_file()
    assert result.artefacts["演示口令(权限 600)"] == tmp_path / "demo" / "演示口令.txt"
    assert "演示口令.txt(权限 600,口令不在屏幕上显示)" in text
    reports = [p for label, p in result.artefacts.items() if "情况报告(报" in label]
    assert len(reports) == 5 and all(p.is_file() for p in reports)
    _check_demo_secrets(tmp_path / "demo", said)


def _demo_secrets(root: Path) -> dict[str, str]:
    """id → passphrase, from the demo's passphrase file (its CA row as "CA")."""
    rows = [
        line.split("\t")
        for line in (root / "演示口令.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert all(len(row) == 3 for row in rows), rows
    return {row[0]: row[2] for row in rows}


def _check_demo_secrets(root: Path, said: list[str]) -> None:
    """Every demo key has its own passphrase, all in one private file, shown nowhere."""
    secret_file = root / "演示口令.txt"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secrets = _demo_secrets(root)
    roster = load_roster(root / "roster.yaml")
    assert set(secrets) == {"CA"} | {p.id for p in roster.people}
    assert len(set(secrets.values())) == len(secrets) == 46  # the CA and 45 people, all different
    assert all(len(secret) >= 20 for secret in secrets.values())
    assert not (root / "keys" / "demo-passphrase.txt").exists()

    # each key opens with its own passphrase, and not with a neighbour's
    keys_dir = root / "keys"
    load_ca_key(keys_dir, Passphrase(secrets["CA"].encode(), "测试"), load_ca_certificate(keys_dir))
    for pid, other in (("P001", "P002"), ("P045", "P001")):
        path = person_paths(keys_dir, pid).key
        assert load_private_key(path, Passphrase(secrets[pid].encode(), "测试"))
        with pytest.raises(PassphraseError):
            load_private_key(path, Passphrase(secrets[other].encode(), "测试"))

    # no passphrase is shown, nor written anywhere but the passphrase file (zips opened too)
    text = "\n".join(said)
    files = {p: _unzipped(p.read_bytes()) for p in root.rglob("*") if p.is_file()}
    for secret in secrets.values():
        assert secret not in text
        assert [p for p, data in files.items() if secret.encode() in data] == [secret_file]


def _unzipped(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return b"\n".join(_unzipped(zf.read(name)) for name in zf.namelist())
    except zipfile.BadZipFile:
        return data


def test_demo_refuses_an_existing_workspace(tmp_path: Path) -> None:
    run_demo(tmp_path / "demo", now=NOW, say=lambda _s: None, pdf=False)
    out = run_docgen("demo", str(tmp_path / "demo"))
    assert out.code == 2
    assert "已经是 docgen 工作目录" in out.err


def test_help_is_chinese_and_lists_commands() -> None:
    out = run_docgen("--help")
    assert out.code == 0
    for command in ("demo", "init", "generate", "sign", "status", "verify", "archive", "keys"):
        assert command in out.out
    assert "党风廉政建设" in out.out


def test_init_creates_a_workspace_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = run_docgen("init", str(tmp_path / "ws"))
    assert out.code == 0, out.err
    for name in ("docgen.toml", "roster.yaml", "templates/responsibility.docx", "keys", "output"):
        assert (tmp_path / "ws" / name).exists()
    assert (tmp_path / "ws" / "keys").stat().st_mode & 0o777 == 0o700
    assert run_docgen("roster", "check", "-w", str(tmp_path / "ws")).code == 0
    again = run_docgen("init", str(tmp_path / "ws"))
    assert again.code == 2


@pytest.mark.slow
def test_wheel_installs_and_runs_the_demo(tmp_path: Path) -> None:
    """A non-editable install must find the packaged templates."""
    root = Path(__file__).resolve().parents[2]
    if shutil.which("git") is None:
        pytest.skip("需要 git 来复制干净的源码树")
    source = tmp_path / "src"
    shutil.copytree(
        root, source, ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "build", "dist")
    )
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(dist.glob("docgen-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    # The dependencies come from this test environment (installed from pyproject.toml, so a
    # missing declaration fails there); the wheel itself is installed alone, and docgen is
    # imported from it: the test environment's editable finder is not on this path.
    site = next(env_dir.glob("lib/python*/site-packages"))
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    pip = env_dir / "bin" / "pip"
    subprocess.run(
        [str(pip), "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(env_dir / "bin" / "docgen"), "demo", str(tmp_path / "demo")],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "廉洁从检承诺书 29 份" in done.stdout
    assert (tmp_path / "demo" / "templates" / "integrity_pledge.docx").is_file()
