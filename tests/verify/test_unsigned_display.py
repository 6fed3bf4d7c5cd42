"""A letter nobody has signed yet shows its signature steps as –, never as a ✓ over nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.helpers import run_docgen


def test_unsigned_and_half_signed_letters_read_honestly(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCGEN_NOW", "2027-01-06T10:00:00+00:00")
    letter = next((keyed_workspace / "output" / "2027").rglob("2027-ZR-P001-P002_*.docx"))
    unsigned = run_docgen("verify", "-w", str(keyed_workspace), str(letter))
    assert unsigned.code == 1  # not complete
    assert "– 3. 数字签名有效:尚无签名,无可核对" in unsigned.out, unsigned.out
    for number in (3, 4, 5, 6):
        assert f"✓ {number}." not in unsigned.out
    monkeypatch.setenv("DOCGEN_PASSPHRASE", PASSPHRASE)
    signed = run_docgen(
        "sign", "-w", str(keyed_workspace), "--as", "P001", "--doc", "2027-ZR-P001-P002"
    )
    assert signed.code == 0, signed.text
    half = run_docgen("verify", "-w", str(keyed_workspace), str(letter))
    assert "✓ 3. 数字签名有效:该签名为有效的 CAdES 签名,且针对本文件" in half.out, half.out
    assert "1 个签名均为" not in half.out
