"""``docgen sign import``: signatures made in a copy of the workspace, brought back (#19).

Each attack is a .p7s that must be refused with its reason and nothing written (no file beside
the letters, no registry entry): by someone who is not a party, under another signer's name, over
a changed letter, for a voided letter, with a certificate revoked before the import, not CMS at
all, a duplicate, a signing time the registry cannot vouch for. The honest case: ``cp -a`` the
workspace, ``docgen sign --as`` there, import back — accepted; ``status`` says 已签, ``verify``
passes and ``openssl cms -verify`` agrees.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.signing.ca import load_ca_certificate
from docgen.signing.cades_sign import DetachedSigner
from docgen.signing.revocation_state import read_revocation_state
from docgen.signing.signer import load_signer
from tests.helpers import CliOutcome, run_docgen
from tests.signed_year import CA_PASSPHRASE, PERSON_PASSPHRASE, YEAR, build_workspace
from tests.signing.keys_workspace import env

T_SIGN = "2027-01-06T09:00:00+00:00"
T_IMPORT = "2027-01-06T09:05:00+00:00"  # within the 10-minute tolerance
SIGNER = "P002"
SIGNED = datetime.fromisoformat(T_SIGN)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("import") / "base"
    build_workspace(root, sign=False)
    return root


def docgen(root: Path, *args: str, now: str = T_IMPORT) -> CliOutcome:
    with env(DOCGEN_NOW=now, DOCGEN_PASSPHRASE=PERSON_PASSPHRASE.secret.decode(),
             DOCGEN_CA_PASSPHRASE=CA_PASSPHRASE.secret.decode()):  # fmt: skip
        return run_docgen(*args, "-w", str(root))


def cp_a(source: Path, target: Path) -> Path:
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    return target


@pytest.fixture
def pair(base: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The office's workspace and the signer's copy of it (``cp -a``), made before signing."""
    main = cp_a(base, tmp_path / "office")
    return main, cp_a(main, tmp_path / "home")


def sign_elsewhere(copy: Path, person: str = SIGNER, now: str = T_SIGN) -> list[Path]:
    out = docgen(copy, "sign", "--as", person, "--yes", now=now)
    assert out.code == 0, out.text
    return sorted(find_workspace(copy).year_dir(YEAR).rglob(f"*.{person}.p7s"))


def state(root: Path) -> tuple[int, list[str]]:
    """The registry's size and every signature file beside the letters."""
    ws = find_workspace(root)
    with open_registry(ws) as registry:
        size = registry.size()
    files = sorted(str(p.relative_to(root)) for p in ws.year_dir(YEAR).rglob("*.p7s"))
    return size, files


def letter_of(root: Path, p7s: Path) -> Path:
    return p7s.with_name(p7s.name.split(".docx.")[0] + ".docx")


def refused(main: Path, files: list[Path], reason: str, now: str = T_IMPORT) -> CliOutcome:
    before = state(main)
    out = docgen(main, "sign", "import", *map(str, files), now=now)
    assert out.code == 1, out.text
    assert "拒绝" in out.out and reason in out.out, out.out
    assert "已登记 0 个" in out.out
    assert state(main) == before
    return out


def test_an_honest_signature_made_in_a_copy_is_accepted(pair: tuple[Path, Path]) -> None:
    main, home = pair
    files = sign_elsewhere(home)
    assert len(files) >= 2
    out = docgen(main, "sign", "import", *map(str, files))
    assert out.code == 0, out.text
    assert out.out.count("已登记(") == len(files)
    ws = find_workspace(main)
    for file in files:
        placed = main / file.relative_to(home)
        assert placed.read_bytes() == file.read_bytes()
    status = docgen(main, "status", "--person", SIGNER, "--json")
    assert status.code in (0, 1), status.text
    mine = [
        letter for letter in json.loads(status.out)["letters"]
        if SIGNER in (letter["superior"]["id"], letter["subordinate"]["id"])
    ]  # fmt: skip
    assert len(mine) == len(files)
    assert all(SIGNER in letter["signed_by"] for letter in mine), mine
    with open_registry(ws) as registry:
        imported = [e.record for e in registry.entries(type="signature")]
        assert registry.audit().ok
    assert {r["signer"] for r in imported} == {SIGNER}
    assert all(r["source"] == "import" for r in imported)
    # openssl agrees, with nothing of docgen in the loop.
    ca = ws.keys_dir / "ca" / "ca.pem"
    for file in files:
        placed = main / file.relative_to(home)
        done = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content",
             str(letter_of(main, placed)), "-in", str(placed), "-CAfile", str(ca),
             "-purpose", "any", "-out", "/dev/null", "-attime", str(int(SIGNED.timestamp()))],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    # Everyone else signs here; the year then verifies, imported signatures included.
    for person in ("P001", "P003", "P004", "P005", "P006", "P007", "P008"):
        assert docgen(main, "sign", "--as", person, "--yes").code == 0
    verify = docgen(main, "verify", str(ws.year_dir(YEAR)))
    assert verify.code == 0, verify.out + verify.err
    # The same files again: duplicates, refused, nothing written.
    refused(main, files[:1], "已签署过")


def test_a_duplicate_in_one_batch_is_refused_once(pair: tuple[Path, Path]) -> None:
    main, home = pair
    files = sign_elsewhere(home)
    out = docgen(main, "sign", "import", str(files[0]), str(files[0]))
    assert out.code == 1
    assert "已登记 1 个,拒绝 1 个" in out.out
    assert "已签署过" in out.out


def _forge(copy: Path, person: str, data: bytes, at: str = T_SIGN) -> bytes:
    ws = find_workspace(copy)
    with open_registry(ws) as registry:
        registered = read_revocation_state(registry, load_ca_certificate(ws.keys_dir))
    now = datetime.fromisoformat(at)
    signer = load_signer(ws.keys_dir, person, PERSON_PASSPHRASE, now=now, registered=registered)
    return DetachedSigner(signer.key, signer.cert).sign(data, signing_time=now)


def test_a_signature_by_someone_not_a_party_is_refused(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    main, home = pair
    letter = letter_of(home, sign_elsewhere(home)[0])  # a letter of P002's
    outsider = "P008"
    if outsider in letter.name:
        pytest.skip("the chosen letter names the outsider")  # pragma: no cover
    forged = tmp_path / "forged.p7s"
    forged.write_bytes(_forge(home, outsider, letter.read_bytes()))
    refused(main, [forged], "不是文书")


def test_a_signature_filed_under_another_signers_name_is_refused(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    main, home = pair
    mine = sign_elsewhere(home)[0]
    other = [p for p in mine.name.split(".docx.")[0].split("_")[0].split("-") if p.startswith("P")]
    other_id = next(p for p in other if p != SIGNER)
    renamed = tmp_path / mine.name.replace(f".{SIGNER}.p7s", f".{other_id}.p7s")
    renamed.write_bytes(mine.read_bytes())
    refused(main, [renamed], f"文件名表明签名人为 {other_id}")


def test_a_signature_over_a_changed_letter_is_refused(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    main, home = pair
    letter = letter_of(home, sign_elsewhere(home)[0])
    changed = tmp_path / (letter.name + f".{SIGNER}.p7s")
    changed.write_bytes(_forge(home, SIGNER, letter.read_bytes() + b"\x00"))
    refused(main, [changed], "不一致")
    anonymous = tmp_path / "签名.p7s"
    anonymous.write_bytes(changed.read_bytes())
    refused(main, [anonymous], "与登记簿中的任何文书都不一致")


def test_a_signature_for_a_voided_letter_is_refused(pair: tuple[Path, Path]) -> None:
    main, home = pair
    file = sign_elsewhere(home)[0]
    doc_id = file.name.split("_")[0]
    assert docgen(main, "void", doc_id, "--reason", "人员调离", now=T_SIGN).code == 0
    refused(main, [file], "已作废")


def test_a_certificate_revoked_before_the_import_is_refused(pair: tuple[Path, Path]) -> None:
    """Revoked in the office at 08:00; the copy, not knowing, signs at 09:00: refused."""
    main, home = pair
    out = docgen(main, "keys", "revoke", "--person", SIGNER, "--reason", "key_compromise",
                 now="2027-01-06T08:00:00+00:00")  # fmt: skip
    assert out.code == 0, out.text
    files = sign_elsewhere(home)
    refused(main, files, "吊销")


def test_a_file_that_is_not_cms_is_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    main, _home = pair
    junk = tmp_path / "2027-ZR-P001-P002_x_y.docx.P002.p7s"
    junk.write_bytes(b"-----BEGIN PKCS7-----\nnot really\n-----END PKCS7-----\n")
    refused(main, [junk], "不是分离式 CAdES 签名文件")
    big = tmp_path / "big.p7s"
    big.write_bytes(b"\x30" * (1 << 21))
    refused(main, [big], "文件过大")
    refused(main, [tmp_path / "missing.p7s"], "不是普通文件")
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\n")
    refused(main, [pdf], "不是在登记的某份文书 PDF")  # tests/signing/test_signature_import_pdf.py


def test_a_signing_time_after_the_import_is_refused(pair: tuple[Path, Path]) -> None:
    """Signed at 11:00 by the copy's clock, brought in at 09:05: the registry cannot vouch for
    a time it has not reached (earlier times: tests/signing/test_signature_import_late.py)."""
    main, home = pair
    files = sign_elsewhere(home, now="2027-01-06T11:00:00+00:00")
    out = refused(main, files[:1], "晚于登记(导入)时间")
    assert "检查签名所用电脑的时钟" in out.out


def test_the_signing_page_imports_only_the_logged_in_persons_signatures(
    pair: tuple[Path, Path],
) -> None:
    """``only_signer``: a signer logged in to the page cannot register someone else's files."""
    from docgen.signing.signature_import import import_signatures

    main, home = pair
    files = sign_elsewhere(home)
    before = state(main)
    ws = find_workspace(main)
    outcomes = import_signatures(ws, files, now=datetime.fromisoformat(T_IMPORT),
                                 only_signer="P001")  # fmt: skip
    assert not any(o.accepted for o in outcomes)
    assert all("不是当前登录的 P001" in o.reason for o in outcomes)
    assert state(main) == before
    mine = import_signatures(ws, files, now=datetime.fromisoformat(T_IMPORT), only_signer=SIGNER)
    assert all(o.accepted for o in mine)
