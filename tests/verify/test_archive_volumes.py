"""``docgen archive`` of a large year: volumes of at most VOLUME_LETTERS letters, in the order of
their paths, each a self-contained archive that ``docgen verify`` checks alone; built by workers
with the same bytes; all or nothing; an earlier archive's extra volumes removed."""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from docgen.core.errors import ProblemsError
from docgen.records.status import void_letter
from docgen.verify.archive import build_archive, default_archive_path, volume_paths, zip_bytes
from tests.helpers import run_docgen
from tests.signed_year import (
    LETTERS,
    SIGNED_AT,
    YEAR,
    copy_workspace,
    flip_byte,
    letters_of,
    rewrite_zip,
    zip_member,
)


def _letters_in(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(n for n in zf.namelist() if n.endswith(".docx"))


def test_a_year_is_packed_in_volumes_each_verifiable_alone(
    signed_year: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    result = build_archive(ws, YEAR, volume_letters=4, jobs=1)  # 11 letters: 4 + 4 + 3
    target = default_archive_path(ws, YEAR)
    names = [v.path.name for v in result.volumes]
    assert names == [f"archive-{YEAR}-part0{i}-of03.zip" for i in (1, 2, 3)]
    assert not target.exists()
    assert [v.letters for v in result.volumes] == [4, 4, 3] and result.total == LETTERS

    on_disk = [p.relative_to(ws.year_dir(YEAR)).as_posix() for p in letters_of(ws)]
    held = [name for volume in result.volumes for name in _letters_in(volume.path)]
    assert held == sorted(on_disk)  # every letter once, in path order across the volumes
    for number, volume in enumerate(result.volumes, start=1):
        manifest = json.loads(zip_member(volume.path, "manifest.json"))
        assert manifest["volume"] == {
            "number": number, "of": 3, "letters_in_year": LETTERS, "letters_per_volume": 4,
        }  # fmt: skip
        text = zip_member(volume.path, "VERIFY.txt").decode("utf-8")
        assert f"分 3 卷归档,本卷为第 {number} 卷({volume.path.name})" in text
        assert f"docgen verify {volume.path.name}" in text
        assert f"unzip {volume.path.name} -d {volume.path.stem}" in text
        checked = run_docgen("verify", "-w", str(ws.root), str(volume.path))
        # every letter of the volume verifies, and the volume holds its whole share of the year;
        # that the year is whole one volume cannot prove: "?", which fails the run
        lines = checked.out.splitlines()
        assert checked.code == 1, checked.text
        assert lines[-1].startswith(f"共 {volume.letters} 份:验证通过 {volume.letters} 份")
        assert lines[-1].endswith("1 项无法证明(标为“?”)")
        assert any(
            line.strip().startswith(f"✓ 文书齐全:[{volume.path}:log/entries.jsonl]")
            for line in lines
        )
        assert any(line.strip().startswith("? 分卷齐全:") for line in lines)
    together = run_docgen("verify", "-w", str(ws.root), *(str(v.path) for v in result.volumes))
    assert together.code == 0, together.text


def test_workers_give_the_same_volumes(signed_year: Path, tmp_path: Path) -> None:
    one = copy_workspace(signed_year, tmp_path / "one")
    two = copy_workspace(signed_year, tmp_path / "two")
    first = build_archive(one, YEAR, volume_letters=3, jobs=1)
    second = build_archive(two, YEAR, volume_letters=3, jobs=2)
    assert [v.path.read_bytes() for v in first.volumes] == [
        v.path.read_bytes() for v in second.volumes
    ]
    assert [v.sha256 for v in first.volumes] == [v.sha256 for v in second.volumes]


def test_a_new_archive_removes_the_volumes_it_replaces(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    target = default_archive_path(ws, YEAR)
    build_archive(ws, YEAR, volume_letters=3, jobs=1)
    assert sorted(p.name for p in target.parent.glob("archive-*.zip")) == [
        p.name for p in volume_paths(target, 4)
    ]
    build_archive(ws, YEAR, volume_letters=6, jobs=1)
    assert sorted(p.name for p in target.parent.glob("archive-*.zip")) == [
        f"archive-{YEAR}-part01-of02.zip", f"archive-{YEAR}-part02-of02.zip",
    ]  # fmt: skip
    build_archive(ws, YEAR)
    assert sorted(p.name for p in target.parent.glob("archive-*.zip")) == [f"archive-{YEAR}.zip"]
    unrelated = target.parent / f"archive-{YEAR}-part01-of02-备份.zip"
    unrelated.write_bytes(b"kept")
    build_archive(ws, YEAR, volume_letters=6, jobs=1)
    assert unrelated.read_bytes() == b"kept" and not target.exists()


def test_one_failing_letter_writes_no_volume(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    flip_byte(letters_of(ws)[-1])  # in the last volume
    outcome = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR))
    assert outcome.code == 1 and "1 份文书未通过验证,拒绝归档" in outcome.err
    with pytest.raises(ProblemsError):
        build_archive(ws, YEAR, volume_letters=4, jobs=2)
    leftovers = [p.name for p in ws.year_dir(YEAR).iterdir() if p.name.startswith((".", "arch"))]
    assert [n for n in leftovers if "archive" in n] == []


def test_a_volume_whose_number_was_changed_fails(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    result = build_archive(ws, YEAR, volume_letters=4, jobs=1)
    volume = result.volumes[1]
    manifest = json.loads(zip_member(volume.path, "manifest.json"))
    manifest["volume"]["of"] = 2
    forged = tmp_path / "forged.zip"
    data = (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
    rewrite_zip(volume.path, forged, {"manifest.json": data})
    checked = run_docgen("verify", "-w", str(ws.root), str(forged))
    assert checked.code == 1
    assert "与按已验证内容重新生成的不同" in checked.out


def test_the_cli_lists_the_volumes(
    signed_year: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    monkeypatch.setattr("docgen.verify.archive.VOLUME_LETTERS", 5)
    outcome = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR))
    assert outcome.code == 0, outcome.text
    assert f"文书 {LETTERS} 份:已签齐 {LETTERS} 份" in outcome.out
    assert "分 3 卷归档" in outcome.out
    for path in volume_paths(default_archive_path(ws, YEAR), 3):
        assert str(path) in outcome.out


def test_a_volume_written_to_its_file_has_the_bytes_of_zip_bytes(
    signed_year: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    for size in (None, 4):  # one zip, then three volumes (which replace it)
        result = build_archive(ws, YEAR, volume_letters=size, jobs=1)
        for volume in result.volumes:
            with zipfile.ZipFile(volume.path) as zf:
                members = {name: zf.read(name) for name in zf.namelist()}
            assert volume.path.read_bytes() == zip_bytes(members, YEAR)
            assert len(members) == volume.members


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_letter(signed_year: Path, tmp_path: Path, jobs: int) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    seen: list[tuple[str, int]] = []
    steps: list[int] = []

    @contextlib.contextmanager
    def recording(total: int, label: str) -> Iterator[Callable[[int], None]]:
        seen.append((label, total))
        yield steps.append

    build_archive(ws, YEAR, volume_letters=4, jobs=jobs, progress=recording)
    assert seen == [("核验并打包归档", LETTERS)]
    assert sum(steps) == LETTERS and sorted(steps) == [3, 4, 4]


def test_the_cli_takes_jobs(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    outcome = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR), "--jobs", "1")
    assert outcome.code == 0, outcome.text
    bad = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR), "--jobs", "0")
    assert bad.code == 2 and "--jobs" in bad.err


def _verify(ws: Path, *paths: Path) -> tuple[int, list[str]]:
    outcome = run_docgen("verify", "-w", str(ws), *map(str, paths))
    return outcome.code, [line.strip() for line in outcome.out.splitlines()]


def test_verifying_all_volumes_together_checks_none_is_missing(
    signed_year: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    first, second, third = (v.path for v in build_archive(ws, YEAR, volume_letters=4).volumes)
    label = "庆城县人民检察院 2027 年度归档"

    code, lines = _verify(ws.root, first, second, third)
    assert code == 0
    assert f"✓ 分卷齐全:{label}全部 3 卷齐全,共 {LETTERS} 份文书" in lines
    assert lines[-1] == f"共 {LETTERS} 份:验证通过 {LETTERS} 份,失败 0 份,签名不全 0 份"

    code, lines = _verify(ws.root, first, third)
    assert code == 1
    assert f"✗ 分卷齐全:{label}共 3 卷:缺少:第 2 卷" in lines
    assert lines[-1].endswith("另有 1 项整体检查未通过")

    copy = tmp_path / "copy-of-part01.zip"
    copy.write_bytes(first.read_bytes())
    code, lines = _verify(ws.root, first, second, third, copy)
    assert code == 1 and f"✗ 分卷齐全:{label}共 3 卷:重复的卷:第 1 卷" in lines

    code, lines = _verify(ws.root, second)
    assert code == 1  # one volume cannot prove its year whole: not ✓, and the run fails
    assert any(
        line.startswith("? 分卷齐全:") and "共 3 卷,本次只核对了第 2 卷" in line for line in lines
    )


def test_volumes_of_two_archive_runs_do_not_make_a_year(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    old = build_archive(ws, YEAR, volume_letters=4).volumes[0].path
    kept = tmp_path / old.name
    kept.write_bytes(old.read_bytes())
    void_letter(ws, letters_of(ws)[-1].name.split("_")[0], "人员调离", now=SIGNED_AT)
    new = [v.path for v in build_archive(ws, YEAR, volume_letters=4).volumes]
    code, lines = _verify(ws.root, kept, new[1], new[2])
    assert code == 1
    assert any(line.startswith("✗ 分卷齐全:") and "缺少:第 1 卷" in line for line in lines)
    assert any(line.startswith("? 分卷齐全:") and "本次只核对了第 1 卷" in line for line in lines)
