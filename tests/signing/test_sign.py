"""sign: each party signs the letters waiting for them; refusals write nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from tests.conftest import PASSPHRASE
from tests.helpers import run_docgen


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".docgen.lock")
    }


def _manifest(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (root / "output" / "2027" / "manifest.json").read_text(encoding="utf-8")
    )
    return data


SIGNED_AT = datetime.fromisoformat("2027-01-06T10:00:00+00:00")


@pytest.fixture
def env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-06T10:00:00+00:00")


def test_sign_as_party_signs_every_waiting_letter(
    keyed_workspace: Path, env_passphrase: None
) -> None:
    out = run_docgen("sign", "--workspace", str(keyed_workspace), "--as", "P001", "--year", "2027")
    assert out.code == 0, out.err
    documents = _manifest(keyed_workspace)["documents"]
    assert isinstance(documents, list)
    mine = [d for d in documents if any(p["id"] == "P001" for p in d["parties"])]
    assert mine
    assert f"本次签署 {len(mine)} 份文书" in out.out
    for d in mine:
        assert [s["signer"] for s in d["signatures"]] == ["P001"]
        p7s = keyed_workspace / "output" / "2027" / d["signatures"][0]["path"]
        assert p7s.is_file()
    assert PASSPHRASE not in out.text

    again = run_docgen(
        "sign", "--workspace", str(keyed_workspace), "--as", "P001", "--year", "2027"
    )
    assert again.code == 0
    assert "无需重复签名" in again.out


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl 未安装,无法做互操作检查")
def test_openssl_accepts_our_signatures(keyed_workspace: Path, env_passphrase: None) -> None:
    assert (
        run_docgen("sign", "-w", str(keyed_workspace), "--as", "P002", "--year", "2027").code == 0
    )
    year_dir = keyed_workspace / "output" / "2027"
    ca = keyed_workspace / "keys" / "ca" / "ca.pem"
    signatures = list(year_dir.rglob("*.P002.p7s"))
    assert signatures
    for p7s in signatures:
        letter = Path(str(p7s).removesuffix(".P002.p7s"))
        done = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", str(letter),
             "-in", str(p7s), "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null",
             "-attime", str(int(SIGNED_AT.timestamp()))],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr


def test_refuses_non_party(keyed_workspace: Path, env_passphrase: None) -> None:
    documents = _manifest(keyed_workspace)["documents"]
    assert isinstance(documents, list)
    foreign = next(d for d in documents if all(p["id"] != "P001" for p in d["parties"]))
    before = _files(keyed_workspace)
    out = run_docgen(
        "sign", "-w", str(keyed_workspace), "--as", "P001", "--year", "2027",
        "--doc", foreign["doc_id"],
    )  # fmt: skip
    assert out.code == 1
    assert "不是文书" in out.err and foreign["doc_id"] in out.err
    assert _files(keyed_workspace) == before


def test_refuses_wrong_passphrase_and_writes_nothing(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_PASSPHRASE", "wrong-passphrase-123")
    monkeypatch.setenv("DOCGEN_NOW", SIGNED_AT.isoformat())
    before = _files(keyed_workspace)
    out = run_docgen("sign", "-w", str(keyed_workspace), "--as", "P001", "--year", "2027")
    assert out.code == 1
    assert "口令" in out.err
    assert "wrong-passphrase-123" not in out.text
    assert _files(keyed_workspace) == before


def test_refuses_a_letter_changed_since_generation(
    keyed_workspace: Path, env_passphrase: None
) -> None:
    documents = _manifest(keyed_workspace)["documents"]
    assert isinstance(documents, list)
    mine = next(d for d in documents if any(p["id"] == "P001" for p in d["parties"]))
    letter = keyed_workspace / "output" / "2027" / mine["path"]
    data = bytearray(letter.read_bytes())
    data[-10] ^= 0x01
    letter.write_bytes(bytes(data))
    before = _files(keyed_workspace)
    out = run_docgen("sign", "-w", str(keyed_workspace), "--as", "P001", "--year", "2027")
    assert out.code == 1
    assert "已被改动" in out.err and mine["path"].split("/")[-1] in out.err
    assert _files(keyed_workspace) == before


def test_refuses_revoked_certificate(
    keyed_workspace: Path, env_passphrase: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_CA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-06T09:00:00+00:00")
    out = run_docgen(
        "keys", "revoke", "-w", str(keyed_workspace), "--person", "P004", "--reason",
        "key_compromise",
    )  # fmt: skip
    assert out.code == 0, out.text
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-06T10:00:00+00:00")
    out = run_docgen("sign", "-w", str(keyed_workspace), "--as", "P004", "--year", "2027")
    assert out.code == 2
    assert "没有在用的证书" in out.err and "P004" in out.err


def test_status_lists_who_still_has_to_sign_and_void(
    keyed_workspace: Path, env_passphrase: None
) -> None:
    ws = find_workspace(keyed_workspace)
    out = run_docgen("status", "-w", str(keyed_workspace), "--year", "2027", "--json")
    assert out.code == 1  # nothing signed yet
    report = json.loads(out.out)
    assert report["not_generated"] == []
    assert all(len(letter["missing"]) == 2 for letter in report["letters"])
    doc_id = report["letters"][0]["doc_id"]

    out = run_docgen("void", "-w", str(keyed_workspace), doc_id, "--reason", "人员调离")
    assert out.code == 0, out.err
    assert "已作废" in out.out
    with open_registry(ws) as registry:
        voids = [e.record for e in registry.entries(type="void")]
    assert voids == [
        {"type": "void", "doc_id": doc_id, "reason": "人员调离", "replaced_by": None,
         "recorded_at": voids[0]["recorded_at"]}
    ]  # fmt: skip
    again = run_docgen("void", "-w", str(keyed_workspace), doc_id, "--reason", "人员调离")
    assert again.code == 1 and "已于此前作废" in again.err
    out = run_docgen("status", "-w", str(keyed_workspace), "--year", "2027", "--json")
    letters = {x["doc_id"]: x for x in json.loads(out.out)["letters"]}
    assert letters[doc_id]["voided"] is True
