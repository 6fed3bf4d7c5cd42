"""The demo end to end, the CLI's front door, and the wheel installed in a fresh environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from docgen.core.glossary import LetterKind
from docgen.demo.run import run_demo
from tests.conftest import NOW
from tests.helpers import run_docgen


def test_demo_runs_every_stage(tmp_path: Path) -> None:
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
    assert result.artefacts["年度档案包"].is_file()
    passphrase = tmp_path / "demo" / "keys" / "demo-passphrase.txt"
    assert passphrase.stat().st_mode & 0o777 == 0o600
    secret = passphrase.read_text().strip()
    assert secret not in text
    reports = [p for label, p in result.artefacts.items() if "情况报告(报" in label]
    assert len(reports) == 5 and all(p.is_file() for p in reports)


def test_demo_refuses_an_existing_workspace(tmp_path: Path) -> None:
    run_demo(tmp_path / "demo", now=NOW, say=lambda _s: None)
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
    pip = env_dir / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", str(wheel)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(env_dir / "bin" / "docgen"), "demo", str(tmp_path / "demo")],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "廉洁从检承诺书 29 份" in done.stdout
    assert (tmp_path / "demo" / "templates" / "integrity_pledge.docx").is_file()
