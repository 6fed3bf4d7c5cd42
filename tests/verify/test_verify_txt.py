"""VERIFY.txt followed literally (bash, sha256sum, openssl only) on an extracted archive."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from docgen.verify.archive import build_archive
from tests.signed_year import YEAR, build_workspace, flip_byte

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("openssl", "sha256sum", "bash", "awk")),
    reason="需要 openssl、sha256sum、bash 和 awk 才能按 VERIFY.txt 手工核对",
)

PROMPT = "  $ "


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verifytxt") / "ws"
    ws = build_workspace(root)
    return build_archive(ws, YEAR).path


def _extract(archive: Path, target: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(target)
    return target


def _commands(verify_txt: str) -> list[str]:
    return [line[len(PROMPT) :] for line in verify_txt.splitlines() if line.startswith(PROMPT)]


def test_verify_sh_passes_on_an_extracted_archive(archive: Path, tmp_path: Path) -> None:
    folder = _extract(archive, tmp_path / "archive")
    result = subprocess.run(
        ["bash", "verify.sh"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "全部核对通过"
    assert sum(1 for line in lines if line.startswith("✓") and line.endswith(".p7s")) == 22
    assert not any(line.startswith("✗") for line in lines)


def test_every_command_in_verify_txt_succeeds(archive: Path, tmp_path: Path) -> None:
    folder = _extract(archive, tmp_path / "archive")
    text = (folder / "VERIFY.txt").read_text(encoding="utf-8")
    commands = _commands(text)
    cms = [c for c in commands if c.startswith("openssl cms -verify")]
    assert len(cms) == 22  # one per signature, in the appendix
    assert any(c.startswith("sha256sum -c") for c in commands)
    assert any(c.startswith("openssl crl") for c in commands)
    outputs = []
    for command in commands:
        result = subprocess.run(
            ["bash", "-c", command], cwd=folder, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout + result.stderr)
    joined = "\n".join(outputs)
    assert "verify OK" in joined
    assert "Signature Verified Successfully" in joined
    assert joined.count("Verification successful") == 22
    fingerprint_line = next(line for line in text.splitlines() if "指纹应为" in line)
    assert fingerprint_line.split("指纹应为 ")[1] in joined
    # What VERIFY.txt says each command prints is what openssl 3 prints (new-user report item 10).
    for line in text.splitlines():
        if "应显示“" in line:
            assert line.split("应显示“")[1].split("”")[0] in joined, line
    # Names in the subjects readable (-nameopt utf8), not escaped bytes like \E5\BA\86.
    assert "O=庆城县人民检察院" in joined.replace(" = ", "=")
    assert "\\E5" not in joined
    assert "快得多" not in text
    assert "应显示“CMS Verification successful”" in text


def test_verify_sh_fails_on_a_tampered_letter(archive: Path, tmp_path: Path) -> None:
    folder = _extract(archive, tmp_path / "archive")
    letter = sorted(folder.rglob("*.docx"))[0]
    flip_byte(letter)
    result = subprocess.run(
        ["bash", "verify.sh"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    assert "✗ 有文件与 SHA256SUMS 不一致" in result.stdout
    assert f"✗ {letter.relative_to(folder)}.P001.p7s:签名无效" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("有 ")


def test_docgen_verifies_the_extracted_folder_too(archive: Path, tmp_path: Path) -> None:
    from tests.helpers import run_docgen

    folder = _extract(archive, tmp_path / "archive")
    outcome = run_docgen("verify", str(folder))
    assert outcome.code == 0, outcome.text
    (folder / "extra.txt").write_text("planted")
    planted = run_docgen("verify", str(folder))
    assert planted.code == 1
    assert "归档中有清单以外的文件:extra.txt" in planted.out
