"""Signatures made at home in the evening and imported the next day (#19).

The rule for a ``signature`` record registered with ``"source": "import"``: its signingTime may
be earlier than the registry time by any amount, but never earlier than the letter's own
registration and never later than the registry time + tolerance; revocation (and the
certificate's validity) is judged at the registry time. Every other signature keeps the
±tolerance rule. ``sign import`` and ``docgen verify`` apply the same rule.

Attacks: a .p7s claiming a time before its letter existed; one claiming a time after the import;
a key revoked after the claimed time but before the import; a late signature registered without
``"source": "import"`` (verify refuses it); an ``import`` record claiming a time before its letter
(verify refuses it). Honest case: signed in a ``cp -a`` copy the evening before, imported the
next morning: 已签, ``verify`` passes, ``openssl cms -verify`` agrees at the registry time (as
the archive's verify.sh checks it).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.signing.sign import commit_signatures
from tests.signed_year import YEAR, build_workspace
from tests.signing.test_signature_import import _forge, cp_a, docgen, letter_of, refused

T_REISSUE = "2027-01-05T10:00:00+00:00"  # the reissued letter R2 is registered then
T_EVENING = "2027-01-05T12:00:00+00:00"  # 20:00 Beijing: signed at home
T_MORNING = "2027-01-06T01:30:00+00:00"  # 09:30 Beijing, the next day: imported
SIGNER = "P002"
REISSUED = "2027-ZR-P001-P002-R2"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year whose letter 2027-ZR-P001-P002 was voided and reissued at 10:00 — an hour after
    the certificates — so a time before the letter can still be inside the certificate."""
    root = tmp_path_factory.mktemp("late") / "base"
    build_workspace(root, sign=False)
    voided = docgen(root, "void", "2027-ZR-P001-P002", "--reason", "人员调离", now=T_REISSUE)
    assert voided.code == 0, voided.text
    again = docgen(root, "generate", "--no-pdf", now=T_REISSUE)
    assert again.code == 0 and REISSUED in again.out, again.text
    return root


@pytest.fixture
def pair(base: Path, tmp_path: Path) -> tuple[Path, Path]:
    main = cp_a(base, tmp_path / "office")
    return main, cp_a(main, tmp_path / "home")


def sign_at_home(home: Path, now: str = T_EVENING) -> list[Path]:
    out = docgen(home, "sign", "--as", SIGNER, "--yes", now=now)
    assert out.code == 0, out.text
    return sorted(find_workspace(home).year_dir(YEAR).rglob(f"*.{SIGNER}.p7s"))


def reissued_letter(root: Path) -> Path:
    found = list(find_workspace(root).year_dir(YEAR).rglob(f"{REISSUED}_*.docx"))
    assert len(found) == 1, found
    return found[0]


def test_signed_the_evening_before_and_imported_the_next_day_is_accepted(
    pair: tuple[Path, Path],
) -> None:
    main, home = pair
    files = sign_at_home(home)
    assert any(REISSUED in f.name for f in files)
    out = docgen(main, "sign", "import", *map(str, files), now=T_MORNING)
    assert out.code == 0, out.text
    assert out.out.count("已登记(") == len(files)
    ws = find_workspace(main)
    with open_registry(ws) as registry:
        records = [e.record for e in registry.entries(type="signature")]
        assert registry.audit().ok
    assert {r["signing_time"] for r in records} == {"2027-01-05T12:00:00Z"}
    assert {r["recorded_at"] for r in records} == {"2027-01-06T01:30:00Z"}
    assert all(r["source"] == "import" for r in records)
    status = docgen(main, "status", "--person", SIGNER, "--json", now=T_MORNING)
    mine = [
        letter for letter in json.loads(status.out)["letters"]
        if SIGNER in (letter["superior"]["id"], letter["subordinate"]["id"])
        and not letter.get("voided")
    ]  # fmt: skip
    assert mine and all(SIGNER in letter["signed_by"] for letter in mine), mine
    # openssl agrees at the registry time, as the archive's verify.sh judges a signature.
    recorded = int(datetime.fromisoformat(T_MORNING).timestamp())
    for file in files:
        placed = main / file.relative_to(home)
        done = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content",
             str(letter_of(main, placed)), "-in", str(placed), "-CAfile",
             str(ws.keys_dir / "ca" / "ca.pem"), "-purpose", "any", "-out", "/dev/null",
             "-attime", str(recorded)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    for person in ("P001", "P003", "P004", "P005", "P006", "P007", "P008"):
        assert docgen(main, "sign", "--as", person, "--yes", now=T_MORNING).code == 0
    verify = docgen(main, "verify", str(ws.year_dir(YEAR)), now=T_MORNING)
    assert verify.code == 0, verify.out + verify.err


def test_a_signing_time_before_the_letter_existed_is_refused(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """09:30 is inside the certificate (issued 09:00) but before R2 was registered (10:00)."""
    main, home = pair
    letter = reissued_letter(home)
    early = tmp_path / f"{letter.name}.{SIGNER}.p7s"
    early.write_bytes(_forge(home, SIGNER, letter.read_bytes(), "2027-01-05T09:30:00+00:00"))
    out = refused(main, [early], "早于文书登记时间", now=T_MORNING)
    assert "2027-01-05T10:00:00Z" in out.out


def test_a_signing_time_after_the_import_is_refused(pair: tuple[Path, Path]) -> None:
    """The home PC's clock a day ahead: the signature claims a time the registry has not
    reached."""
    main, home = pair
    files = sign_at_home(home, now="2027-01-07T01:30:00+00:00")
    refused(main, files, "晚于登记(导入)时间", now=T_MORNING)


def test_a_key_revoked_between_signing_and_import_is_refused(pair: tuple[Path, Path]) -> None:
    """Signed at 20:00 with a key that is fine then; revoked in the office at 23:00 (superseded,
    so a judgement at the claimed time would let it in); imported the next morning: refused."""
    main, home = pair
    files = sign_at_home(home)
    out = docgen(main, "keys", "revoke", "--person", SIGNER, "--reason", "superseded",
                 now="2027-01-05T15:00:00+00:00")  # fmt: skip
    assert out.code == 0, out.text
    refused(main, files, "吊销", now=T_MORNING)


def _register_by_hand(main: Path, home_file: Path, home: Path, record: dict[str, Any]) -> None:
    """What an operator bypassing ``sign import`` would put in: the file and its record."""
    ws = find_workspace(main)
    p7s = home_file.read_bytes()
    with open_registry(ws) as registry:
        commit_signatures(
            ws, registry, YEAR, [(main / home_file.relative_to(home), p7s)],
            [{**record, "p7s_sha256": hashlib.sha256(p7s).hexdigest()}],
            datetime.fromisoformat(T_MORNING),
        )  # fmt: skip


def _record(main: Path, letter: Path, signing_time: str, **extra: str) -> dict[str, Any]:
    ws = find_workspace(main)
    with open_registry(ws) as registry:
        doc = next(e.record for e in registry.entries(type="document")
                   if e.record["doc_id"] == REISSUED)  # fmt: skip
        cert = [e.record for e in registry.entries(type="certificate")
                if e.record.get("person") == SIGNER][-1]  # fmt: skip
    return {
        "type": "signature", "doc_id": REISSUED, "signer": SIGNER, "party": "subordinate",
        "cert_fingerprint": cert["cert_fingerprint"], "cert_serial": cert["serial"],
        "doc_sha256": doc["sha256"], "signing_time": signing_time, **extra,
    }  # fmt: skip


def _verify_letter(main: Path) -> str:
    assert docgen(main, "sign", "--as", "P001", "--yes", now=T_MORNING).code == 0
    out = docgen(main, "verify", str(reissued_letter(main)), now=T_MORNING)
    assert out.code == 1, out.text
    return out.out


def test_a_late_signature_registered_without_source_import_fails_verify(
    pair: tuple[Path, Path],
) -> None:
    main, home = pair
    file = next(f for f in sign_at_home(home) if REISSUED in f.name)
    _register_by_hand(main, file, home, _record(main, file, "2027-01-05T12:00:00Z"))
    text = _verify_letter(main)
    assert "与登记时间 2027-01-06T01:30:00Z 相差" in text, text


def test_an_import_record_claiming_a_time_before_its_letter_fails_verify(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    main, home = pair
    letter = reissued_letter(home)
    early = tmp_path / f"{letter.name}.{SIGNER}.p7s"
    early.write_bytes(_forge(home, SIGNER, letter.read_bytes(), "2027-01-05T09:30:00+00:00"))
    moved = home / letter.relative_to(home).with_name(early.name)
    moved.write_bytes(early.read_bytes())
    _register_by_hand(main, moved, home,
                      _record(main, moved, "2027-01-05T09:30:00Z", source="import"))  # fmt: skip
    text = _verify_letter(main)
    assert "早于文书登记时间" in text, text


def test_the_same_import_record_inside_the_rule_passes_verify(pair: tuple[Path, Path]) -> None:
    """No false alarm: the same hand registration with ``"source": "import"`` and an evening
    time passes (so the two refusals above are the rule, not the way of registering)."""
    main, home = pair
    file = next(f for f in sign_at_home(home) if REISSUED in f.name)
    _register_by_hand(main, file, home,
                      _record(main, file, "2027-01-05T12:00:00Z", source="import"))  # fmt: skip
    assert docgen(main, "sign", "--as", "P001", "--yes", now=T_MORNING).code == 0
    out = docgen(main, "verify", str(reissued_letter(main)), now=T_MORNING)
    assert out.code == 0, out.text


def test_a_live_registry_clock_takes_an_old_signing_time_only_from_an_import(
    tmp_path: Path,
) -> None:
    """With the registry's own clock (the shared PostgreSQL set-up; here SQLite's), the append
    refuses a signing time far from the registry time — except, going back in time only, for a
    record marked ``"source": "import"`` (sign import has held it to its letter's time)."""
    from datetime import UTC, timedelta

    from docgen.core.errors import ValidationError
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import demo_roster_yaml

    init_workspace(tmp_path, institution="庆城县人民检察院", year=YEAR,
                   roster_yaml=demo_roster_yaml())  # fmt: skip
    ws = find_workspace(tmp_path)
    now = datetime.now(UTC)

    def record(hours: float, **extra: str) -> dict[str, Any]:
        moment = (now + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"type": "signature", "doc_id": "X", "signer": SIGNER, "signing_time": moment,
                **extra}  # fmt: skip

    with open_registry(ws, live=True) as registry:
        with pytest.raises(ValidationError, match="相差"):
            registry.append([record(-10)], now=now)
        with pytest.raises(ValidationError, match="相差"):
            registry.append([record(+1, source="import")], now=now)
        assert registry.size() == 0
        registry.append([record(-10, source="import")], now=now)
        assert registry.size() == 1
