"""Activation codes and each person's own PIN (#19), through the real CLI.

The attacks: a wrong, malformed or reused code; a weak PIN; signing with the code instead of
activating (whoever holds the code is not yet the person); the code (what the clerk saw) still
opening the key after activation. And the honest case: issue → sheet → activate → sign.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.signing.activation import (
    MARKER_NAME,
    ActivationError,
    WeakPinError,
    check_pin,
    is_pending,
    normalize_code,
)
from docgen.signing.keyfiles import PassphraseError, load_private_key, person_paths
from docgen.signing.passphrase import Passphrase
from tests.helpers import CliOutcome, run_docgen
from tests.signing.keys_workspace import CA_SECRET, build_unissued, copy_of, env, sheet_codes

NOW = "2027-01-06T09:00:00+00:00"
PIN = "Zq7-mountain-41"


@pytest.fixture(scope="module")
def unissued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("activation") / "base"
    build_unissued(root)
    return root


def docgen(root: Path, *args: str, **environ: str | None) -> CliOutcome:
    values: dict[str, str | None] = {
        "DOCGEN_NOW": NOW,
        "DOCGEN_CA_PASSPHRASE": CA_SECRET,
        "DOCGEN_PASSPHRASE": None,
        "DOCGEN_NEW_PASSPHRASE": None,
        "DOCGEN_ACTIVATION_CODE": None,
    }
    values.update(environ)
    with env(**values):
        return run_docgen(*args, "-w", str(root))


@pytest.fixture
def issued(unissued: Path, tmp_path: Path) -> tuple[Path, dict[str, str], CliOutcome]:
    """P001 and P002 issued with activation codes (the default: no personal passphrase given)."""
    root = copy_of(unissued, tmp_path / "ws")
    sheets = tmp_path / "激活单.docx"
    out = docgen(root, "keys", "issue", "--person", "P001", "--person", "P002", "--sheets",
                 str(sheets))  # fmt: skip
    assert out.code == 0, out.text
    return root, sheet_codes(sheets), out


def _snapshot(root: Path) -> dict[str, bytes]:
    keys = root / "keys"
    return {str(p): p.read_bytes() for p in sorted(keys.rglob("*")) if p.is_file()}


def _registry_size(root: Path) -> int:
    with open_registry(find_workspace(root)) as registry:
        return registry.size()


def test_issue_without_a_passphrase_gives_each_person_a_sheet_and_a_pending_key(
    issued: tuple[Path, dict[str, str], CliOutcome], tmp_path: Path
) -> None:
    root, codes, out = issued
    assert set(codes) == {"P001", "P002"}
    assert codes["P001"] != codes["P002"]
    for code in codes.values():
        assert len(normalize_code(code)) == 20
        assert code not in out.text  # the code is on the sheet only, never on the terminal
    sheets = tmp_path / "激活单.docx"
    assert stat.S_IMODE(sheets.stat().st_mode) == 0o600
    ws = find_workspace(root)
    assert is_pending(ws, "P001") and is_pending(ws, "P002")
    assert not is_pending(ws, "P003")
    assert "待本人激活" in out.out
    listed = docgen(root, "keys", "list")
    assert listed.code == 0, listed.text
    lines = {line.split()[0]: line for line in listed.out.splitlines() if line.startswith("P")}
    assert "待本人激活" in lines["P001"] and "待本人激活" not in lines.get("P003", "")


def test_a_pending_key_cannot_sign_even_with_the_code(
    issued: tuple[Path, dict[str, str], CliOutcome],
) -> None:
    """Whoever holds the sheet (the clerk) is not the person: the code signs nothing."""
    root, codes, _ = issued
    before = _registry_size(root)
    out = docgen(root, "sign", "--as", "P001", "--yes", DOCGEN_PASSPHRASE=codes["P001"])
    assert out.code == 1
    assert "尚未激活" in out.err
    assert "docgen keys activate --person P001" in out.err
    assert _registry_size(root) == before
    assert not list(find_workspace(root).year_dir(2027).rglob("*.p7s"))


def test_a_wrong_code_is_refused_and_changes_nothing(
    issued: tuple[Path, dict[str, str], CliOutcome],
) -> None:
    root, codes, _ = issued
    before, size = _snapshot(root), _registry_size(root)
    out = docgen(root, "keys", "activate", "--person", "P001",
                 DOCGEN_ACTIVATION_CODE=codes["P002"], DOCGEN_NEW_PASSPHRASE=PIN)  # fmt: skip
    assert out.code == 1
    assert "激活码不正确" in out.err
    assert PIN not in out.text and codes["P002"] not in out.text
    malformed = docgen(root, "keys", "activate", "--person", "P001",
                       DOCGEN_ACTIVATION_CODE="1234-5678", DOCGEN_NEW_PASSPHRASE=PIN)  # fmt: skip
    assert malformed.code == 1
    assert "激活码格式不对" in malformed.err
    assert _snapshot(root) == before and _registry_size(root) == size
    assert is_pending(find_workspace(root), "P001")


def test_a_weak_pin_is_refused_and_changes_nothing(
    issued: tuple[Path, dict[str, str], CliOutcome],
) -> None:
    root, codes, _ = issued
    before = _snapshot(root)
    for weak in ("12345", "123456", "654321", "111111", "abcabc", "p001xyz9", "password"):
        out = docgen(root, "keys", "activate", "--person", "P001",
                     DOCGEN_ACTIVATION_CODE=codes["P001"], DOCGEN_NEW_PASSPHRASE=weak)  # fmt: skip
        assert out.code == 1, weak
        assert "PIN" in out.err
        assert weak not in out.text.replace("如 111111、123456、654321", "")  # never echoed
    assert _snapshot(root) == before
    assert is_pending(find_workspace(root), "P001")


def test_activation_sets_the_pin_kills_the_code_and_is_registered(
    issued: tuple[Path, dict[str, str], CliOutcome],
) -> None:
    root, codes, _ = issued
    ws = find_workspace(root)
    code = codes["P001"].lower().replace("-", " ")  # typed loosely: still the code
    out = docgen(root, "keys", "activate", "--person", "P001",
                 DOCGEN_ACTIVATION_CODE=code, DOCGEN_NEW_PASSPHRASE=PIN)  # fmt: skip
    assert out.code == 0, out.text
    assert "已激活" in out.out
    key = person_paths(ws.keys_dir, "P001").key
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not (key.parent / MARKER_NAME).exists()
    assert not is_pending(ws, "P001")
    # What the clerk saw (the code) no longer opens the key; the person's PIN does.
    with pytest.raises(PassphraseError):
        load_private_key(key, Passphrase(normalize_code(codes["P001"]).encode(), "激活码"))
    load_private_key(key, Passphrase(PIN.encode(), "测试"))
    # The code works once.
    again = docgen(root, "keys", "activate", "--person", "P001",
                   DOCGEN_ACTIVATION_CODE=codes["P001"], DOCGEN_NEW_PASSPHRASE=PIN)  # fmt: skip
    assert again.code == 1
    assert "没有等待激活的密钥" in again.err
    with open_registry(ws) as registry:
        entries = [e for e in registry.entries(type="key_activated")]
        assert registry.audit().ok
    assert len(entries) == 1
    record = entries[0].record
    assert record["person"] == "P001"
    assert PIN not in entries[0].data.decode() and normalize_code(codes["P001"]) not in json.dumps(
        record
    )
    # And the person signs with their PIN.
    signed = docgen(root, "sign", "--as", "P001", "--yes", DOCGEN_PASSPHRASE=PIN)
    assert signed.code == 0, signed.text
    assert "已记入登记簿" in signed.out


def test_scripts_keep_the_passphrase_way(unissued: Path, tmp_path: Path) -> None:
    """A passphrase from the environment (scripts, tests) issues as before: no code, no sheet."""
    root = copy_of(unissued, tmp_path / "ws")
    out = docgen(root, "keys", "issue", "--person", "P003", DOCGEN_PASSPHRASE="script-secret-123")
    assert out.code == 0, out.text
    assert not is_pending(find_workspace(root), "P003")
    assert not (root / "keys" / "activation").exists()
    both = docgen(root, "keys", "issue", "--person", "P004", "--activation",
                  DOCGEN_PASSPHRASE="script-secret-123")  # fmt: skip
    assert both.code == 2


def test_activate_asks_without_echo_and_twice_for_the_pin(
    issued: tuple[Path, dict[str, str], CliOutcome],
) -> None:
    """Typed at the prompts (a pipe here): the code once, the PIN twice; a mismatch is refused."""
    import subprocess
    import sys

    root, codes, _ = issued

    def typed(text: str) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in __import__("os").environ.items() if not k.startswith("DOCGEN_")}
        environ["DOCGEN_NOW"] = NOW
        return subprocess.run(
            [sys.executable, "-m", "docgen", "keys", "activate", "--person", "P002", "-w",
             str(root)],
            input=text, capture_output=True, text=True, env=environ, timeout=120, check=False,
        )  # fmt: skip

    mismatch = typed(f"{codes['P002']}\n{PIN}\n{PIN}x\n")
    assert mismatch.returncode == 2, mismatch.stderr
    assert "不一致" in mismatch.stderr
    assert is_pending(find_workspace(root), "P002")
    done = typed(f"{codes['P002']}\n{PIN}\n{PIN}\n")
    assert done.returncode == 0, done.stderr
    assert PIN not in done.stdout + done.stderr
    assert codes["P002"] not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("pin", "ok"),
    [
        ("123456", False), ("654321", False), ("000000", False), ("121212", False),
        ("abcdef", False), ("qwerty", False), ("5201314", False), ("P001-x9z", False),
        ("12345", False), ("7x!k2m", True), ("山高水长2027", True), ("913572", True),
    ],
)  # fmt: skip
def test_check_pin(pin: str, ok: bool) -> None:
    secret = Passphrase(pin.encode(), "测试")
    if ok:
        check_pin(secret, person_id="P001")
    else:
        with pytest.raises(WeakPinError):
            check_pin(secret, person_id="P001")


def test_codes_are_typed_forgivingly_but_checked_strictly() -> None:
    assert normalize_code("abcd-efgh-jkmn-pqrs-tvwx") == "ABCDEFGHJKMNPQRSTVWX"
    assert normalize_code("oooo iiii llll 0000 1111") == "00001111111100001111"
    for bad in ("", "ABCD", "ABCD-EFGH-JKMN-PQRS-TVWU", "ABCD-EFGH-JKMN-PQRS-TVWXY"):
        with pytest.raises(ActivationError):
            normalize_code(bad)


def test_a_pending_key_replaced_by_rotate_signs_with_its_new_passphrase(
    issued: tuple[Path, dict[str, str], CliOutcome],
) -> None:
    """The marker belongs to the certificate it was written for: ``keys rotate`` (a scripted
    passphrase) replaces the pending key, and the new key signs."""
    root, _codes, _ = issued
    secret = "rotated-secret-9182"
    out = docgen(root, "keys", "rotate", "--person", "P002", DOCGEN_PASSPHRASE=secret)
    assert out.code == 0, out.text
    assert not is_pending(find_workspace(root), "P002")
    signed = docgen(root, "sign", "--as", "P002", "--yes", DOCGEN_PASSPHRASE=secret)
    assert signed.code == 0, signed.text


def test_passwd_does_not_bypass_activation(
    issued: tuple[Path, dict[str, str], CliOutcome],
) -> None:
    """``keys passwd`` with the code as the old passphrase would set a PIN unchecked and
    unregistered, and leave the key pending for ever: refused, nothing changed."""
    root, codes, _ = issued
    before = _snapshot(root)
    out = docgen(root, "keys", "passwd", "--person", "P001",
                 DOCGEN_PASSPHRASE=normalize_code(codes["P001"]),
                 DOCGEN_NEW_PASSPHRASE="a-new-passphrase-77")  # fmt: skip
    assert out.code == 1, out.text
    assert "尚未激活" in out.err and "更换口令" in out.err
    assert _snapshot(root) == before
