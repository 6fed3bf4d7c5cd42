"""``docgen verify`` requiring a witness: each letter's checkpoint must be part of a checkpoint
the witness cosigned, or verify fails naming the witness — never ✓ by default.

Attacks: no cosignature by the required witness (another witness's, or another key under its
name); a forged cosignature (its time changed, the checkpoint body changed); a witness that
cosigned a fork of the log. Honest case: the year verifies with the witness required by
``--witness`` or by docgen.toml's ``[witness] require``.
"""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import CliOutcome, run_docgen

from docgen.core.workspace import Workspace, find_workspace
from docgen.registry import open_registry
from docgen.verify.derived import WITNESSES_NAME
from tests.signed_year import YEAR, copy_workspace, rewrite_zip

PASS = "见证方口令-2027"
NAME = "庆阳市人民检察院/见证"


@pytest.fixture(scope="module", autouse=True)
def env() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.setenv("DOCGEN_WITNESS_PASSPHRASE", PASS)
    mp.setenv("DOCGEN_NOW", "2027-01-07T10:00:00+00:00")
    yield
    mp.undo()


def _init(directory: Path, name: str = NAME) -> str:
    result = run_docgen("registry", "witness", "init", "--name", name, "--dir", str(directory))
    assert result.code == 0, result.text
    return (directory / "witness.vkey").read_text(encoding="utf-8").strip()


def _vkey(ws: Workspace) -> str:
    return (ws.keys_dir / "registry" / "registry.vkey").read_text(encoding="utf-8").strip()


def _cosign(directory: Path, ws: Workspace) -> CliOutcome:
    return run_docgen(
        "registry", "witness", "cosign", "--dir", str(directory),
        "--log", str(ws.root), "--log-key", _vkey(ws),
    )  # fmt: skip


@pytest.fixture(scope="module")
def witnessed(signed_year: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The signed year, cosigned by the witness (the template the tests copy)."""
    base = tmp_path_factory.mktemp("witnessed")
    ws = copy_workspace(signed_year, base / "ws")
    vkey = _init(base / "witness")
    result = _cosign(base / "witness", ws)
    assert result.code == 0, result.text
    return ws.root, vkey


@pytest.fixture
def ws(witnessed: tuple[Path, str], tmp_path: Path) -> Workspace:
    return copy_workspace(witnessed[0], tmp_path / "ws")


def _verify(ws: Workspace, *extra: str) -> CliOutcome:
    return run_docgen("verify", "-w", str(ws.root), str(ws.year_dir(YEAR)), *extra)


def _stored(ws: Workspace) -> Path:
    (path,) = (ws.root / "cosigned").iterdir()
    return path


def test_honest_year_verifies_with_the_witness_required(
    ws: Workspace, witnessed: tuple[Path, str]
) -> None:
    result = _verify(ws, "--witness", witnessed[1])
    assert result.code == 0, result.text
    assert f"✓ 见证方“{NAME}”的副署" in result.out
    assert "都包含在见证方" in result.out


def test_config_requires_the_witness(ws: Workspace, witnessed: tuple[Path, str]) -> None:
    config = ws.root / "docgen.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[witness]\nrequire = ["{witnessed[1]}"]\n',
        encoding="utf-8",
    )
    assert _verify(ws).code == 0
    (ws.root / "cosigned").rename(ws.root / "elsewhere")  # the cosigned checkpoint is gone
    result = _verify(ws)
    assert result.code == 1
    assert f"✗ 见证方“{NAME}”的副署" in result.out and "没有见证方" in result.out


def test_another_witness_is_not_the_required_one(ws: Workspace, tmp_path: Path) -> None:
    other = _init(tmp_path / "other", "平凉市人民检察院/见证")
    result = _verify(ws, "--witness", other)
    assert result.code == 1
    assert "✗ 见证方“平凉市人民检察院/见证”的副署" in result.out
    assert "没有见证方“平凉市人民检察院/见证”" in result.out


def test_another_key_under_the_witness_name_is_no_cosignature(
    signed_year: Path, witnessed: tuple[Path, str], tmp_path: Path
) -> None:
    ws = copy_workspace(signed_year, tmp_path / "ws")
    assert _cosign(tmp_path / "impostor", ws).code == 2  # no key there yet
    _init(tmp_path / "impostor")  # same name, its own key
    assert _cosign(tmp_path / "impostor", ws).code == 0
    result = _verify(ws, "--witness", witnessed[1])
    assert result.code == 1 and f"✗ 见证方“{NAME}”的副署" in result.out
    assert "没有见证方" in result.out


def _rewrite_cosignature(path: Path, change: int) -> None:
    text = path.read_text(encoding="utf-8")
    head, _, line = text.rpartition(f"— {NAME} ")
    raw = bytearray(base64.b64decode(line.strip()))
    raw[change] ^= 1
    path.write_text(head + f"— {NAME} {base64.b64encode(bytes(raw)).decode()}\n", "utf-8")


@pytest.mark.parametrize("where", [11, 40], ids=["time", "signature"])
def test_forged_cosignature_fails(ws: Workspace, witnessed: tuple[Path, str], where: int) -> None:
    _rewrite_cosignature(_stored(ws), where)
    result = _verify(ws, "--witness", witnessed[1])
    assert result.code == 1
    assert f"✗ 见证方“{NAME}”的副署" in result.out and "副署无效" in result.out


def test_changed_checkpoint_body_fails(ws: Workspace, witnessed: tuple[Path, str]) -> None:
    path = _stored(ws)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()  # another root hash
    path.write_text("\n".join(lines), encoding="utf-8")
    result = _verify(ws, "--witness", witnessed[1])
    assert result.code == 1 and f"✗ 见证方“{NAME}”的副署" in result.out
    assert "签名无效" in result.out


def test_witness_that_cosigned_a_fork_does_not_cover_the_letters(
    signed_year: Path, tmp_path: Path
) -> None:
    """The operator shows the witness a fork (one more entry, another one than the letters'
    log got): the letters' checkpoints are not part of what the witness cosigned."""
    ws = copy_workspace(signed_year, tmp_path / "ws")
    shutil.copytree(ws.root, tmp_path / "fork", symlinks=True)
    fork = find_workspace(tmp_path / "fork")
    at = datetime(2027, 1, 7, 9, tzinfo=UTC)
    for target, what in ((ws, "真实"), (fork, "伪造")):
        with open_registry(target, database_url="") as reg:
            reg.append([{"type": "activity", "activity_id": what, "note": what}], now=at)
    vkey = _init(tmp_path / "witness")
    assert _cosign(tmp_path / "witness", fork).code == 0
    shutil.copytree(fork.root / "cosigned", ws.root / "cosigned")
    result = _verify(ws, "--witness", vkey)
    assert result.code == 1, result.text
    assert f"✗ 见证方“{NAME}”的副署" in result.out and "发现分叉" in result.out
    # the honest log, cosigned, verifies
    shutil.rmtree(ws.root / "cosigned")
    shutil.rmtree(tmp_path / "witness")
    vkey = _init(tmp_path / "witness")
    assert _cosign(tmp_path / "witness", ws).code == 0
    assert _verify(ws, "--witness", vkey).code == 0


# --- the archive carries the cosignatures ----------------------------------------------------


def _archive(ws: Workspace, target: Path, *extra: str) -> CliOutcome:
    return run_docgen(
        "archive", "-w", str(ws.root), "--year", str(YEAR), "--output", str(target), *extra
    )


def test_archive_carries_the_witness_and_verifies_offline(
    ws: Workspace, witnessed: tuple[Path, str], tmp_path: Path
) -> None:
    target = tmp_path / "archive.zip"
    made = _archive(ws, target, "--witness", witnessed[1])
    assert made.code == 0, made.text
    with zipfile.ZipFile(target) as archive:
        carried = json.loads(archive.read(WITNESSES_NAME))
        sums = archive.read("SHA256SUMS").decode()
        explained = archive.read("VERIFY.txt").decode()
    assert f"{WITNESSES_NAME}     见证方的副署" in explained and "--witness" in explained
    assert carried["witnesses"][0]["witness"] == witnessed[1]
    assert f"  {WITNESSES_NAME}\n" in sums
    checked = run_docgen("verify", str(target), "--witness", witnessed[1])  # no workspace
    assert checked.code == 0, checked.text
    assert f"✓ 见证方“{NAME}”的副署" in checked.out and "文件清单完整" in checked.out
    # an archive made without the witness cannot claim it
    plain = tmp_path / "plain.zip"
    assert _archive(ws, plain).code == 0
    missing = run_docgen("verify", str(plain), "--witness", witnessed[1])
    assert missing.code == 1 and f"归档中没有 {WITNESSES_NAME}" in missing.out
    assert run_docgen("verify", str(plain)).code == 0  # nothing required, nothing changes
    with zipfile.ZipFile(plain) as archive:
        assert WITNESSES_NAME not in archive.read("VERIFY.txt").decode()
    # a forged cosignature inside the archive
    forged = tmp_path / "forged.zip"
    item = carried["witnesses"][0]
    item["cosigned_checkpoint"] = item["cosigned_checkpoint"].replace(
        item["cosigned_checkpoint"].split("\n")[2], base64.b64encode(bytes(32)).decode()
    )
    rewrite_zip(target, forged, {WITNESSES_NAME: json.dumps(carried).encode()})
    bad = run_docgen("verify", str(forged), "--witness", witnessed[1])
    assert bad.code == 1 and f"✗ 见证方“{NAME}”的副署" in bad.out


def test_archive_is_refused_when_the_witness_has_not_cosigned_it(
    ws: Workspace, witnessed: tuple[Path, str], tmp_path: Path
) -> None:
    with open_registry(ws, database_url="") as reg:  # the log grew after the cosignature
        reg.append(
            [{"type": "activity", "activity_id": "A1", "note": "会议"}],
            now=datetime(2027, 1, 7, 9, tzinfo=UTC),
        )
    target = tmp_path / "archive.zip"
    result = _archive(ws, target, "--witness", witnessed[1])
    assert result.code == 1 and "早于归档的检查点" in result.err
    assert not target.exists()


def test_one_member_name_for_the_builder_and_the_registry() -> None:
    from docgen.registry.witness_archive import MEMBER_NAME

    assert MEMBER_NAME == WITNESSES_NAME
