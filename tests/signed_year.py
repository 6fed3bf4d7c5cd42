"""A small signed year (8 people, 11 letters), built once and copied by the tests that alter it.

Built with the real pipeline: workspace init, CA and personal certificates, ``generate``, ``sign``.
"""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from docgen.roster.example import example_roster_yaml
from docgen.roster.load import load_roster
from docgen.signing.ca import init_ca
from docgen.signing.certificates import issue_certificates
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_as, sign_everyone

YEAR = 2027
INSTITUTION = "庆城县人民检察院"
GENERATED_AT = datetime(2027, 1, 5, 9, 0, 0, tzinfo=UTC)
SIGNED_AT = datetime(2027, 1, 6, 9, 0, 0, tzinfo=UTC)
CA_PASSPHRASE = Passphrase(b"ca-test-passphrase-2027", "测试")
PERSON_PASSPHRASE = Passphrase(b"person-test-passphrase", "测试")
LETTERS = 11


def build_workspace(root: Path, *, sign: bool | str = True) -> Workspace:
    """Workspace with certificates and generated letters; ``sign``: everyone, nobody or one id."""
    init_workspace(
        root, institution=INSTITUTION, year=YEAR, roster_yaml=example_roster_yaml(INSTITUTION)
    )
    ws = find_workspace(root)
    ca = init_ca(ws.keys_dir, institution=INSTITUTION, passphrase=CA_PASSPHRASE, now=GENERATED_AT)
    issued = issue_certificates(
        ws.keys_dir,
        load_roster(ws.roster_path),
        None,
        institution=INSTITUTION,
        ca_passphrase=CA_PASSPHRASE,
        passphrase=PERSON_PASSPHRASE,
        now=GENERATED_AT,
        days=730,
    )
    with open_registry(ws) as registry:  # as `docgen keys init-ca` and `keys issue` do
        registry.append([*ca.records, *issued.records], now=GENERATED_AT)
    generate(ws, YEAR, now=GENERATED_AT)
    if sign is True:
        sign_everyone(ws, lambda _pid: PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT)
    elif isinstance(sign, str):
        sign_as(ws, sign, PERSON_PASSPHRASE, year=YEAR, now=SIGNED_AT)
    return ws


def copy_workspace(source: Path, target: Path) -> Workspace:
    """A private copy of a built workspace (keys keep their safe modes)."""
    shutil.copytree(source, target, symlinks=True)
    return find_workspace(target)


def letters_of(ws: Workspace) -> list[Path]:
    return sorted(ws.year_dir(YEAR).rglob("*.docx"))


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def rewrite_zip(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """Copy a zip, replacing (bytes) or dropping (None) the named members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in change:
                data = change[info.filename]
                if data is not None:
                    new.writestr(info, data)
            else:
                new.writestr(info, old.read(info))


def zip_member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)
