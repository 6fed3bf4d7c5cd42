"""``docgen keys reset``: a forgotten PIN gets a new key; the old certificate is revoked (#19).

The attack: the old key — still in a copy of the workspace, or in someone's hands — signs after
the reset. ``sign import`` refuses it and ``verify`` fails a letter carrying it. The honest side:
the person activates the new key with the new sheet and signs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.signing.activation import is_pending
from docgen.signing.keyfiles import load_certificate, person_paths
from docgen.signing.x509util import serial_hex
from tests.helpers import CliOutcome, run_docgen
from tests.signed_year import CA_PASSPHRASE, PERSON_PASSPHRASE, YEAR, build_workspace
from tests.signing.keys_workspace import env, sheet_codes

T_BEFORE = "2027-01-06T08:00:00+00:00"
T_RESET = "2027-01-06T09:00:00+00:00"
T_AFTER = "2027-01-06T09:30:00+00:00"
PIN = "Lantern-8426"
PERSON = "P002"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reset") / "base"
    build_workspace(root, sign=False)
    return root


def docgen(root: Path, *args: str, now: str, **extra: str | None) -> CliOutcome:
    values: dict[str, str | None] = {
        "DOCGEN_NOW": now,
        "DOCGEN_PASSPHRASE": PERSON_PASSPHRASE.secret.decode(),
        "DOCGEN_CA_PASSPHRASE": CA_PASSPHRASE.secret.decode(),
        "DOCGEN_NEW_PASSPHRASE": None,
        "DOCGEN_ACTIVATION_CODE": None,
    }
    values.update(extra)
    with env(**values):
        return run_docgen(*args, "-w", str(root))


@pytest.fixture
def pair(base: Path, tmp_path: Path) -> tuple[Path, Path]:
    main = tmp_path / "office"
    subprocess.run(["cp", "-a", str(base), str(main)], check=True)
    home = tmp_path / "home"
    subprocess.run(["cp", "-a", str(main), str(home)], check=True)
    return main, home


def _reset(main: Path, sheets: Path, *extra: str) -> CliOutcome:
    out = docgen(main, "keys", "reset", "--person", PERSON, "--reason", "忘记PIN",
                 "--sheets", str(sheets), *extra, now=T_RESET)  # fmt: skip
    assert out.code == 0, out.text
    return out


def test_reset_revokes_the_old_certificate_and_issues_a_pending_one(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    main, _home = pair
    ws = find_workspace(main)
    paths = person_paths(ws.keys_dir, PERSON)
    old_serial = serial_hex(load_certificate(paths.cert))
    sheets = tmp_path / "激活单.docx"
    out = _reset(main, sheets)
    assert old_serial in out.out and "已被新证书替换" in out.out
    assert (paths.revoked / f"{old_serial}.pem").exists()
    new_serial = serial_hex(load_certificate(paths.cert))
    assert new_serial != old_serial
    assert is_pending(ws, PERSON)
    with open_registry(ws) as registry:
        revocations = [e.record for e in registry.entries(type="revocation")]
        resets = [e.record for e in registry.entries(type="key_reset")]
        certificates = [e.record for e in registry.entries(type="certificate")]
        assert registry.audit().ok
    assert [(r["serial"], r["reason"]) for r in revocations] == [(old_serial, "superseded")]
    assert len(resets) == 1
    assert resets[0]["old_serial"] == old_serial and resets[0]["new_serial"] == new_serial
    assert resets[0]["reason"] == "忘记PIN"
    assert certificates[-1]["serial"] == new_serial
    # The old passphrase signs nothing now; the new key waits for its owner.
    refused = docgen(main, "sign", "--as", PERSON, "--yes", now=T_AFTER)
    assert refused.code == 1 and "尚未激活" in refused.err
    code = sheet_codes(sheets)[PERSON]
    done = docgen(main, "keys", "activate", "--person", PERSON, now=T_AFTER,
                  DOCGEN_ACTIVATION_CODE=code, DOCGEN_NEW_PASSPHRASE=PIN)  # fmt: skip
    assert done.code == 0, done.text
    signed = docgen(main, "sign", "--as", PERSON, "--yes", now=T_AFTER, DOCGEN_PASSPHRASE=PIN)
    assert signed.code == 0, signed.text


def test_the_old_key_signing_after_the_reset_is_refused(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """The copy made before the reset still holds the old key; what it signs afterwards is
    refused by ``sign import``, and ``verify`` fails a letter that carries it."""
    main, home = pair
    _reset(main, tmp_path / "激活单.docx")
    out = docgen(home, "sign", "--as", PERSON, "--yes", now=T_AFTER)
    assert out.code == 0, out.text  # the copy does not know about the reset
    files = sorted(find_workspace(home).year_dir(YEAR).rglob(f"*.{PERSON}.p7s"))
    imported = docgen(main, "sign", "import", *map(str, files), now=T_AFTER)
    assert imported.code == 1
    assert imported.out.count("吊销") >= len(files)
    assert "已登记 0 个" in imported.out
    # Dropped beside the letter by hand instead: verify fails that letter.
    ws = find_workspace(main)
    target = main / files[0].relative_to(home)
    target.write_bytes(files[0].read_bytes())
    verify = docgen(main, "verify", str(target.with_name(target.name.split(".docx.")[0] + ".docx")),
                    now=T_AFTER)  # fmt: skip
    assert verify.code == 1, verify.out
    assert ws.year_dir(YEAR).exists()


def test_compromised_is_recorded_as_key_compromise(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    main, _home = pair
    _reset(main, tmp_path / "激活单.docx", "--compromised")
    with open_registry(find_workspace(main)) as registry:
        revocations = [e.record for e in registry.entries(type="revocation")]
    assert revocations[-1]["reason"] == "key_compromise"


def test_reset_needs_a_reason_and_a_certificate(pair: tuple[Path, Path], tmp_path: Path) -> None:
    main, _home = pair
    assert docgen(main, "keys", "reset", "--person", PERSON, now=T_RESET).code == 2
    blank = docgen(main, "keys", "reset", "--person", PERSON, "--reason", "  ", now=T_RESET)
    assert blank.code == 2 and "原因" in blank.err
    nobody = docgen(main, "keys", "reset", "--person", "P999", "--reason", "忘记PIN",
                    now=T_RESET)  # fmt: skip
    assert nobody.code == 2 and "没有在用的证书" in nobody.err
