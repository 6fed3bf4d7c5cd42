"""What an attacker does to an archive or a year, with docgen's own code: remove a letter and
derive every unsigned file again, edit the log, register a signature behind the signer's back.

No mocks: real zips, real registries, real keys and CMS signatures.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from docgen.core.workspace import Workspace
from docgen.records.naming import signature_relpath
from docgen.records.state import letters_state
from docgen.records.views import refresh_year
from docgen.registry import open_registry
from docgen.signing.cades_sign import sign_detached
from docgen.signing.x509util import SigningKey
from docgen.verify.anchors import trust_from_bytes
from docgen.verify.archive import zip_bytes
from docgen.verify.archive_read import read_zip
from docgen.verify.checklist import verify_letter
from docgen.verify.crls import crl_files
from docgen.verify.derived import (
    CA_NAME,
    CHECKPOINT_NAME,
    CRL_NAME,
    DERIVED_NAMES,
    MANIFEST_NAME,
    VKEY_NAME,
    ArchiveAnchors,
    Volume,
    render_derived_files,
    volume_from_manifest,
)
from docgen.verify.files import letter_files_from_members
from docgen.verify.log import LOG_NAME, scan_log_file
from docgen.verify.reference import scan_history
from tests.signed_year import YEAR


def rederive(
    members: Mapping[str, bytes], year: int = YEAR, *, volume: Volume | None = None
) -> bytes:
    """The archive the attacker ships: its letters, log and anchors as given, and every derived
    file (manifest.json, SHA256SUMS, VERIFY.txt, verify.sh, 索引.txt, crls/) made afresh from
    them with docgen's own functions, so they all agree with each other; a volume stays the
    volume its manifest says, unless ``volume`` says otherwise."""
    if volume is None and MANIFEST_NAME in members:
        volume = volume_from_manifest(json.loads(members[MANIFEST_NAME]))
    kept = {
        name: data
        for name, data in members.items()
        if name not in DERIVED_NAMES and not name.startswith("crls/")
    }
    trust = trust_from_bytes(kept[CA_NAME], kept[CRL_NAME], kept[VKEY_NAME])
    checkpoint = kept[CHECKPOINT_NAME]
    reports = [
        verify_letter(letter_files_from_members(kept, path), trust, expected_checkpoint=checkpoint)
        for path in sorted(n for n in kept if n.endswith(".docx"))
    ]
    scan = scan_log_file(kept.get(LOG_NAME, b""))
    crls = crl_files(scan_history(scan, trust.ca_cert, "归档的登记簿条目"))
    anchors = ArchiveAnchors(kept[CA_NAME], kept[CRL_NAME], kept[VKEY_NAME], checkpoint)
    derived = render_derived_files(reports, anchors, kept, crls=crls, volume=volume)
    return zip_bytes({**kept, **derived.derived}, year)


def without_letter(archive: Path, letter: str, *, volume: Volume | None = None) -> bytes:
    """The archive with one letter's four files (.docx, both .p7s, .proof.json) removed."""
    members = read_zip(archive)
    kept = {k: v for k, v in members.items() if not k.startswith(letter)}
    return rederive(kept, volume=volume)


def with_log(archive: Path, lines: list[bytes]) -> bytes:
    """The archive with ``log/entries.jsonl`` replaced by ``lines``."""
    members = dict(read_zip(archive))
    members[LOG_NAME] = b"".join(line + b"\n" for line in lines)
    return rederive(members)


def log_lines(archive: Path) -> list[bytes]:
    return read_zip(archive)[LOG_NAME].splitlines()


def extract(data: bytes, target: Path) -> Path:
    target.mkdir(parents=True)
    zipped = target.with_suffix(".zip")
    zipped.write_bytes(data)
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(target)
    return target


def run_script(folder: Path) -> subprocess.CompletedProcess[str]:
    """The archive's own verify.sh, run with bash in the extracted folder."""
    return subprocess.run(
        ["bash", "verify.sh"], cwd=folder, capture_output=True, text=True, timeout=600
    )


def insider_signature(
    ws: Workspace,
    doc_id: str,
    signer: str,
    key: SigningKey,
    cert: x509.Certificate,
    now: datetime,
) -> str:
    """A signature made with ``key`` (a copy kept by whoever stole it) and registered by hand
    (as an insider who can write the registry would), past every check ``docgen sign`` makes;
    the year's proof files are brought up to date. Returns the .p7s path inside the year."""
    year_dir = ws.year_dir(YEAR)
    with open_registry(ws) as registry:
        letter = letters_state(registry, [doc_id], YEAR).letters[doc_id]
        path = str(letter.record["path"])
        data = (year_dir / path).read_bytes()
        p7s = sign_detached(data, key, cert, signing_time=now)
        relpath = signature_relpath(path, signer)
        (year_dir / relpath).write_bytes(p7s)
        party = next(p["party"] for p in letter.record["parties"] if p["id"] == signer)
        der = cert.public_bytes(Encoding.DER)
        registry.append(
            [
                {
                    "type": "signature",
                    "doc_id": doc_id,
                    "signer": signer,
                    "party": party,
                    "cert_fingerprint": hashlib.sha256(der).hexdigest(),
                    "cert_serial": format(cert.serial_number, "x"),
                    "p7s_sha256": hashlib.sha256(p7s).hexdigest(),
                    "doc_sha256": letter.record["sha256"],
                    "signing_time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ],
            now=now,
        )
        refresh_year(ws, registry, YEAR, rewrite={doc_id}, jobs=1)
    return relpath


def drop_from_manifest(ws: Workspace, doc_id: str) -> None:
    """Edit output/<year>/manifest.json by hand so that it no longer lists the letter."""
    path = ws.year_dir(YEAR) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["documents"] = [d for d in manifest["documents"] if d.get("doc_id") != doc_id]
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
