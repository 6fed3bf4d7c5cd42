"""A year's completeness, proved from the log: a letter removed from an archive or a year folder,
with every unsigned file rewritten to agree, is found and named — by ``docgen verify`` (with the
archive's anchors or pinned ones) and by the archive's own verify.sh — and so is a log that was
altered, cut or shortened. Honest archives and folders still pass.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from docgen.verify.archive import build_archive
from docgen.verify.archive_read import read_zip
from docgen.verify.derived import Volume
from tests.helpers import run_docgen
from tests.signed_year import LETTERS, YEAR, copy_workspace, letters_of
from tests.verify.forgery import (
    drop_from_manifest,
    extract,
    log_lines,
    rederive,
    run_script,
    with_log,
    without_letter,
)

needs_shell = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("bash", "openssl", "awk", "sha256sum")),
    reason="verify.sh 需要 bash、openssl、awk 和 sha256sum",
)


@pytest.fixture(scope="module")
def archived(signed_year: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(workspace, its archive) of the small signed year, built once for the module."""
    ws = copy_workspace(signed_year, tmp_path_factory.mktemp("complete") / "ws")
    return ws.root, build_archive(ws, YEAR).path


def _victim(root: Path) -> tuple[str, str]:
    """(id, path inside the year) of the letter the attacker removes: one in the middle."""
    from docgen.core.workspace import find_workspace

    ws = find_workspace(root)
    letter = letters_of(ws)[5]
    return letter.name.split("_")[0], letter.relative_to(ws.year_dir(YEAR)).as_posix()


def _pinned(root: Path) -> list[str]:
    keys = root / "keys"
    return [
        "--ca", str(keys / "ca" / "ca.pem"),
        "--crl", str(keys / "ca" / "crl.pem"),
        "--verifier-key", str(keys / "registry" / "registry.vkey"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# (a) a letter removed from an archive, manifest.json, SHA256SUMS, VERIFY.txt … rewritten


def test_a_letter_removed_from_an_archive_is_named(
    archived: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, archive = archived
    doc_id, path = _victim(root)
    forged = tmp_path / "archive-2027.zip"
    forged.write_bytes(without_letter(archive, path))
    monkeypatch.chdir(tmp_path)  # no workspace: the archive's own anchors
    for extra in ([], _pinned(root)):
        outcome = run_docgen("verify", *extra, str(forged))
        assert outcome.code == 1, outcome.text
        lines = outcome.out.splitlines()
        # every letter left verifies, every rewritten file agrees with the letters left …
        assert lines[-1].startswith(f"共 {LETTERS - 1} 份:验证通过 {LETTERS - 1} 份,失败 0 份")
        assert any("✓ SHA256SUMS 与归档内容一致" in line for line in lines)
        assert any("✓ manifest.json 与归档内容一致" in line for line in lines)
        # … but the log the checkpoint signs registers one letter more, which is named
        missing = [line for line in lines if "✗ 文书齐全" in line]
        assert len(missing) == 1, outcome.out
        assert f"缺少文书 {doc_id}:{path}(登记簿第" in missing[0]
        assert lines[-1].endswith("另有 1 项整体检查未通过")


@needs_shell
def test_verify_sh_names_a_letter_removed_from_an_archive(
    archived: tuple[Path, Path], tmp_path: Path
) -> None:
    root, archive = archived
    doc_id, path = _victim(root)
    folder = extract(without_letter(archive, path), tmp_path / "forged")
    result = run_script(folder)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "✓ 所有文件与 SHA256SUMS 一致" in lines  # the rewritten sums agree …
    assert "✓ 检查点签名有效" in lines
    assert any(line.startswith("✓ 登记簿条目 ") for line in lines)
    # … the log does not
    assert f"✗ 缺少文书 {doc_id}:{path}(登记簿第" in result.stdout
    assert lines[-1].startswith("有 ") and lines[-1].endswith(" 项核对未通过")


@needs_shell
def test_verify_sh_passes_the_honest_archive(archived: tuple[Path, Path], tmp_path: Path) -> None:
    _root, archive = archived
    folder = extract(archive.read_bytes(), tmp_path / "honest")
    result = run_script(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "全部核对通过"
    assert f"✓ 登记簿中 {YEAR} 年度的 {LETTERS} 份文书齐全" in lines
    assert any(line.startswith("✓ 登记簿条目 ") and "根哈希与检查点一致" in line for line in lines)
    assert not [line for line in lines if line.startswith("✗")]


def test_the_honest_archive_proves_its_year_complete(
    archived: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, archive = archived
    monkeypatch.chdir(tmp_path)
    for extra in ([], _pinned(root)):
        outcome = run_docgen("verify", *extra, str(archive))
        assert outcome.code == 0, outcome.text
        assert f"登记簿中 {YEAR} 年度登记的 {LETTERS} 份文书都在" in outcome.out
        assert "✓ 登记簿条目:" in outcome.out and "根哈希与签名检查点一致" in outcome.out


# ---------------------------------------------------------------------------------------------
# (c) the archive's log altered, cut or shortened


@pytest.mark.parametrize("how", ["altered", "dropped", "swapped", "added"])
def test_an_edited_log_is_a_root_mismatch(
    archived: tuple[Path, Path], tmp_path: Path, how: str
) -> None:
    root, archive = archived
    doc_id, path = _victim(root)
    lines = log_lines(archive)
    mine = [i for i, line in enumerate(lines) if doc_id.encode() in line]
    if how == "altered":  # the letter's document entry made to name another path
        first = mine[0]
        moved = path.encode().replace(b".docx", b"x.docx")
        lines[first] = lines[first].replace(path.encode(), moved)
    elif how == "dropped":  # the letter's entries taken out, with the letter
        lines = [line for i, line in enumerate(lines) if i not in mine]
    elif how == "swapped":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        lines.append(lines[-1])
    forged = tmp_path / "archive-2027.zip"
    if how == "dropped":
        members = {k: v for k, v in read_zip(archive).items() if not k.startswith(path)}
        members["log/entries.jsonl"] = b"".join(line + b"\n" for line in lines)
        data = rederive(members)
    else:
        data = with_log(archive, lines)
    forged.write_bytes(data)
    outcome = run_docgen("verify", *_pinned(root), str(forged))
    assert outcome.code == 1, outcome.text
    assert "✗ 登记簿条目:" in outcome.out
    assert "与签名检查点不符" in outcome.out or "签名检查点记录的是" in outcome.out
    assert "✓ 文书齐全" not in outcome.out
    if shutil.which("openssl") and shutil.which("bash"):
        result = run_script(extract(data, tmp_path / "forged"))
        assert result.returncode == 1
        assert "✗ log/entries.jsonl " in result.stdout


# ---------------------------------------------------------------------------------------------
# (b) a letter removed from output/<year>/, manifest.json edited by hand


def test_a_letter_removed_from_the_year_folder_is_named(
    signed_year: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    doc_id, path = _victim(ws.root)
    year_dir = ws.year_dir(YEAR)
    for file in year_dir.glob(f"{path}*"):
        file.unlink()
    drop_from_manifest(ws, doc_id)

    outcome = run_docgen("verify", "-w", str(ws.root), str(year_dir))
    assert outcome.code == 1, outcome.text
    lines = outcome.out.splitlines()
    assert lines[-1].startswith(f"共 {LETTERS - 1} 份:验证通过 {LETTERS - 1} 份")
    assert any("✓ 登记簿条目:" in line for line in lines)
    missing = [line for line in lines if "✗ 文书齐全" in line]
    assert len(missing) == 1
    assert f"缺少文书 {doc_id}:{year_dir}/{path}(登记簿第" in missing[0]

    # a folder inside the year is checked against the letters registered under it
    kind = path.split("/")[0]
    part = run_docgen("verify", "-w", str(ws.root), str(year_dir / kind))
    assert part.code == 1 and f"缺少文书 {doc_id}" in part.out

    status = run_docgen("status", "-w", str(ws.root), "--year", str(YEAR))
    assert status.code == 1, status.text
    assert "全部文书已由双方签署完毕" not in status.out
    assert "缺少文件的文书 1 份" in status.out
    assert f"{doc_id}:缺少 {path}、{path}.proof.json" in status.out
    data = json.loads(run_docgen("status", "-w", str(ws.root), "--json").out)
    assert data["files_missing"] == 1
    (lost,) = [x for x in data["letters"] if x["missing_files"]]
    assert lost["doc_id"] == doc_id and lost["missing_files"][0] == path

    # copied out of the workspace, the folder cannot be proved complete: said, never ✓
    elsewhere = tmp_path / "copy"
    shutil.copytree(year_dir, elsewhere / str(YEAR))
    monkeypatch.chdir(tmp_path)
    offline = run_docgen("verify", *_pinned(ws.root), str(elsewhere / str(YEAR)))
    assert offline.code == 1
    assert "? 文书齐全" in offline.out and "无法证明" in offline.out
    assert "✓ 文书齐全" not in offline.out
    assert offline.out.splitlines()[-1].endswith("1 项无法证明(标为“?”)")


def test_the_honest_year_folder_is_complete(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    outcome = run_docgen("verify", "-w", str(ws.root), str(ws.year_dir(YEAR)))
    assert outcome.code == 0, outcome.text
    assert f"✓ 文书齐全:[{ws.year_dir(YEAR)}] 登记簿中 {YEAR} 年度登记的 {LETTERS} 份文书都在" in (
        outcome.out
    )
    status = run_docgen("status", "-w", str(ws.root), "--year", str(YEAR))
    assert status.code == 0 and "全部文书已由双方签署完毕" in status.out
    assert "缺少文件" not in status.out


def test_a_lost_signature_file_is_reported_by_status(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    doc_id, path = _victim(ws.root)
    (ws.year_dir(YEAR) / f"{path}.P001.p7s").unlink()
    status = run_docgen("status", "-w", str(ws.root))
    assert status.code == 1
    assert f"{doc_id}:缺少 {path}.P001.p7s" in status.out
    assert "全部文书已由双方签署完毕" not in status.out


# ---------------------------------------------------------------------------------------------
# volumes: each proves its own share of the year; one alone cannot prove the year


def test_a_letter_removed_from_a_volume_is_named(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    volumes = [v.path for v in build_archive(ws, YEAR, volume_letters=4, jobs=1).volumes]
    held = sorted(n for n in read_zip(volumes[1]) if n.endswith(".docx"))
    victim = held[1]
    forged = tmp_path / volumes[1].name
    forged.write_bytes(without_letter(volumes[1], victim))
    together = run_docgen(
        "verify", "-w", str(ws.root), str(volumes[0]), str(forged), str(volumes[2])
    )
    assert together.code == 1, together.text
    assert f"缺少文书 {victim.split('/')[-1].split('_')[0]}:{victim}(登记簿第" in together.out
    assert "登记簿中 2027 年度第 1 卷登记的 4 份文书都在" in together.out
    assert "登记簿中 2027 年度第 3 卷登记的 3 份文书都在" in together.out
    if shutil.which("openssl") and shutil.which("bash"):
        result = run_script(extract(forged.read_bytes(), tmp_path / "forged"))
        assert result.returncode == 1 and "✗ 缺少文书 " in result.stdout
        honest = run_script(extract(volumes[2].read_bytes(), tmp_path / "honest"))
        assert honest.returncode == 0, honest.stdout + honest.stderr
        lines = honest.stdout.splitlines()
        assert "✓ 本卷(第 3 卷,共 3 卷)应有的 3 份文书齐全" in lines
        assert lines[-1] == "本卷全部核对通过(全年共 3 卷,须逐卷核对,缺一不可)"


def test_an_archive_passed_off_as_a_volume_cannot_hide_a_letter(
    archived: tuple[Path, Path], tmp_path: Path
) -> None:
    """The last letter (by path) dropped and the archive declared "volume 1 of 2, 10 letters a
    volume": its share is complete, but one volume never proves its year (?, exit 1)."""
    root, archive = archived
    last = sorted(n for n in read_zip(archive) if n.endswith(".docx"))[-1]
    forged = tmp_path / "archive-2027.zip"
    forged.write_bytes(without_letter(archive, last, volume=Volume(1, 2, LETTERS, LETTERS - 1)))
    outcome = run_docgen("verify", *_pinned(root), str(forged))
    assert outcome.code == 1, outcome.text
    assert "? 分卷齐全:" in outcome.out and "全年是否齐全无法由一卷证明" in outcome.out
    assert "✓ 分卷齐全" not in outcome.out
    as_json = json.loads(run_docgen("verify", "--json", *_pinned(root), str(forged)).out)
    assert {"name": "分卷齐全", "state": "unknown"}.items() <= next(
        c for c in as_json["checks"] if c["name"] == "分卷齐全"
    ).items()
