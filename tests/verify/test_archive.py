"""``docgen archive``: deterministic, verified, refuses what it must, and safe to read back."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from docgen.core.errors import VerificationError
from docgen.records.status import void_letter
from docgen.verify.archive import build_archive, default_archive_path
from docgen.verify.archive_read import read_zip
from docgen.verify.model import ZipLimits
from tests.helpers import run_docgen
from tests.signed_year import (
    LETTERS,
    SIGNED_AT,
    YEAR,
    build_workspace,
    copy_workspace,
    flip_byte,
    letters_of,
    zip_member,
)


@pytest.fixture(scope="module")
def half_signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the 党组书记 (P001) has signed."""
    root = tmp_path_factory.mktemp("half") / "ws"
    build_workspace(root, sign="P001")
    return root


def test_archive_twice_gives_identical_bytes(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    first = build_archive(ws, YEAR, output=tmp_path / "a.zip")
    second = build_archive(ws, YEAR, output=tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(YEAR, 12, 31, 0, 0, 0)}
    modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
    assert modes["verify.sh"] == 0o755 and modes["ca.pem"] == 0o644


def test_archive_command_writes_default_path_and_verifies(
    signed_year: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    outcome = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR))
    assert outcome.code == 0, outcome.text
    target = default_archive_path(ws, YEAR)
    assert target.is_file() and str(target) in outcome.out
    assert f"文书 {LETTERS} 份:已签齐 {LETTERS} 份" in outcome.out

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no workspace: the archive's own anchors are used
    checked = run_docgen("verify", str(target))
    assert checked.code == 0, checked.text
    assert checked.out.splitlines()[-1] == (
        f"共 {LETTERS} 份:验证通过 {LETTERS} 份,失败 0 份,签名不全 0 份"
    )


def test_archive_contents(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    result = build_archive(ws, YEAR)
    with zipfile.ZipFile(result.path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    for name in ("ca.pem", "crl.pem", "registry.vkey", "checkpoint.txt", "manifest.json",
                 "SHA256SUMS", "VERIFY.txt", "verify.sh", "索引.txt", "registry-pub.pem"):
        assert name in members
    assert members["ca.pem"] == (ws.keys_dir / "ca" / "ca.pem").read_bytes()
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "docgen-archive-v1" and manifest["year"] == YEAR
    assert set(manifest["files"]) == set(members) - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(members[name]).hexdigest() == digest
    assert len([n for n in members if n.endswith(".docx")]) == LETTERS
    assert len([n for n in members if n.endswith(".p7s")]) == 2 * LETTERS
    for doc in manifest["documents"]:
        proof = json.loads(members[doc["proof"]])
        assert all(e["checkpoint"] == members["checkpoint.txt"].decode() for e in proof["entries"])
    index = members["索引.txt"].decode("utf-8")
    assert "张明远(党组书记、检察长,P001)" in index
    assert SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ") in index


def test_incomplete_year_is_refused(half_signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(half_signed, tmp_path / "ws")
    outcome = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR))
    assert outcome.code == 1
    assert "未签齐,拒绝归档" in outcome.err
    assert "--partial" in outcome.err
    assert "尚缺 李卫东(P002) 的签名" in outcome.err
    assert not default_archive_path(ws, YEAR).exists()


def test_partial_archive_lists_what_is_missing(half_signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(half_signed, tmp_path / "ws")
    outcome = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR), "--partial")
    assert outcome.code == 0, outcome.text
    assert "这是不完整归档(--partial)" in outcome.out
    assert "尚缺:李卫东(P002)" in outcome.out
    target = default_archive_path(ws, YEAR)
    index = zip_member(target, "索引.txt").decode("utf-8")
    assert "未签齐的文书(本归档为不完整归档):" in index
    assert "尚缺:李卫东(P002)" in index
    assert json.loads(zip_member(target, "manifest.json"))["partial"] is True
    checked = run_docgen("verify", "-w", str(ws.root), str(target))
    assert checked.code == 1  # an incomplete year never verifies as a whole
    assert "签名不全" in checked.out.splitlines()[-1]
    assert "失败 0 份" in checked.out.splitlines()[-1]


def test_letter_that_fails_is_never_archived(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    letter = letters_of(ws)[4]
    flip_byte(letter)
    outcome = run_docgen("archive", "-w", str(ws.root), "--year", str(YEAR), "--partial")
    assert outcome.code == 1
    assert "1 份文书未通过验证,拒绝归档" in outcome.err
    assert letter.name in outcome.err and "第 1 步“文件哈希与登记一致”未通过" in outcome.err
    assert not default_archive_path(ws, YEAR).exists()


def test_voided_letter_is_archived_and_marked(signed_year: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    doc_id = letters_of(ws)[0].name.split("_")[0]
    void_letter(ws, doc_id, "人员调离", now=SIGNED_AT)
    result = build_archive(ws, YEAR)
    index = zip_member(result.path, "索引.txt").decode("utf-8")
    assert f"{doc_id} 《党风廉政建设责任书》【已作废】" in index
    assert "作废:人员调离" in index
    checked = run_docgen("verify", "-w", str(ws.root), str(result.path))
    assert checked.code == 0, checked.text
    assert checked.out.splitlines()[-1].endswith(",已作废 1 份")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"../evil.txt": b"x"}, "成员路径不安全:“../evil.txt”"),
        ({"/etc/cron.d/evil": b"x"}, "成员路径不安全:“/etc/cron.d/evil”"),
        ({"a/../../evil": b"x"}, "成员路径不安全"),
        ({"C:/evil": b"x"}, "成员路径不安全"),
        ({"bomb.txt": bytes(4 << 20)}, "压缩比"),
    ],
)
def test_unsafe_archives_are_refused(
    tmp_path: Path, members: dict[str, bytes], message: str
) -> None:
    path = tmp_path / "evil.zip"
    path.write_bytes(_zip(members))
    outcome = run_docgen("verify", str(path))
    assert outcome.code == 1
    assert message in outcome.out
    assert "拒绝处理该压缩包" in outcome.out
    assert not (tmp_path.parent / "evil.txt").exists()


def test_too_many_members_and_too_large_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    path.write_bytes(_zip({f"f{i}.txt": bytes(1000) for i in range(20)}))
    assert path.stat().st_size < 5000
    with pytest.raises(VerificationError, match="成员过多"):
        read_zip(path, ZipLimits(max_members=10))
    with pytest.raises(VerificationError, match="总大小超过上限"):
        read_zip(path, ZipLimits(max_total_bytes=5000))
    with pytest.raises(VerificationError, match="超过上限 500"):
        read_zip(path, ZipLimits(max_member_bytes=500))


def test_not_a_zip_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "archive-2027.zip"
    path.write_bytes(b"PK\x03\x04 truncated")
    outcome = run_docgen("verify", str(path))
    assert outcome.code == 1
    assert "不是有效的 zip 文件" in outcome.out
    assert "Traceback" not in outcome.text
