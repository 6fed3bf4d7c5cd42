"""A workspace whose letters have PDF renditions, for the PAdES tests, and independent judges.

The PKI and letters are dated from the real clock (two to three hours ago), not from the fixed
2027 dates of the other fixtures: poppler's ``pdfsig`` validates certificates with NSS at the
machine's current time, and has no option to take another. That clock read is here, at the
tests' edge; docgen itself is always handed ``now``.

The renditions are made here with ``soffice --headless --convert-to pdf`` from the registered
.docx and registered with a ``rendition`` record as docgen's own ``docgen pdf`` records them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from docgen.roster.example import example_roster_yaml
from docgen.roster.load import load_roster
from docgen.signing.ca import init_ca
from docgen.signing.certificates import issue_certificates
from docgen.signing.passphrase import Passphrase

INSTITUTION = "庆城县人民检察院"
_CLOCK = datetime.now(UTC).replace(microsecond=0)
ISSUED_AT = _CLOCK - timedelta(hours=3)
RENDERED_AT = ISSUED_AT + timedelta(minutes=10)
SIGNED_AT = _CLOCK - timedelta(hours=2)
YEAR = ISSUED_AT.year
CA_PASSPHRASE = Passphrase(b"ca-test-passphrase-pades", "测试")
PERSON_PASSPHRASE = Passphrase(b"person-test-passphrase", "测试")
# A responsibility letter (书记 × 副检察长) and a pledge (部门负责人 × 工作人员).
LETTERS = ("ZR-P001-P002", "LJ-P004-P005")

needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="soffice (LibreOffice) 未安装:apt install libreoffice-writer-nogui fonts-noto-cjk",
)
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdfsig") is None,
    reason="poppler-utils 未安装(pdfsig、pdftoppm、pdftotext):apt install poppler-utils",
)


def doc_id(short: str) -> str:
    return f"{YEAR}-{short}"


def soffice_pdf(docx: Path, out_dir: Path) -> Path:
    """``docx`` converted to PDF by LibreOffice in a private profile."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "soffice", "--headless", f"-env:UserInstallation=file://{profile}",
                "--convert-to", "pdf", "--outdir", str(out_dir), str(docx),
            ],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    return out_dir / (docx.stem + ".pdf")


def build_pdf_workspace(root: Path, letters: tuple[str, ...] = LETTERS) -> Workspace:
    """Certificates, generated letters, and registered PDF renditions of ``letters``."""
    init_workspace(
        root, institution=INSTITUTION, year=YEAR, roster_yaml=example_roster_yaml(INSTITUTION)
    )
    ws = find_workspace(root)
    ca = init_ca(ws.keys_dir, institution=INSTITUTION, passphrase=CA_PASSPHRASE, now=ISSUED_AT)
    issued = issue_certificates(
        ws.keys_dir, load_roster(ws.roster_path), None,
        institution=INSTITUTION, ca_passphrase=CA_PASSPHRASE, passphrase=PERSON_PASSPHRASE,
        now=ISSUED_AT, days=730,
    )  # fmt: skip
    with open_registry(ws) as registry:
        registry.append([*ca.records, *issued.records], now=ISSUED_AT)
    generate(ws, YEAR, now=ISSUED_AT)
    register_renditions(ws, [doc_id(s) for s in letters])
    return ws


def _documents(ws: Workspace) -> dict[str, dict[str, Any]]:
    import json

    with open_registry(ws) as registry:
        return {e.record["doc_id"]: json.loads(e.data) for e in registry.entries(type="document")}


def register_renditions(ws: Workspace, doc_ids: list[str], *, now: datetime = RENDERED_AT) -> None:
    """Make and register the PDF rendition of each letter not yet having one."""
    documents = _documents(ws)
    year_dir = ws.year_dir(YEAR)
    records = []
    with open_registry(ws) as registry:
        have = {e.record["doc_id"] for e in registry.entries(type="rendition")}
    for wanted in doc_ids:
        if wanted in have:
            continue
        document = documents[wanted]
        docx = year_dir / document["path"]
        with tempfile.TemporaryDirectory() as out:
            made = soffice_pdf(docx, Path(out))
            pdf = made.read_bytes()
        rel = str(Path(document["path"]).with_suffix(".pdf"))
        (year_dir / rel).write_bytes(pdf)
        records.append(
            {
                "type": "rendition",
                "doc_id": wanted,
                "path": rel,
                "docx_sha256": document["sha256"],
                "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
                "pdf_size": len(pdf),
                "format": "PDF",
                "fonts": [],
            }
        )
    if records:
        with open_registry(ws) as registry:
            registry.append(records, now=now)


def copy_workspace(source: Path, target: Path) -> Workspace:
    shutil.copytree(source, target, symlinks=True)
    return find_workspace(target)


# --- independent judges: poppler ---


def pdfsig(pdf: Path, nss_dir: Path | None = None) -> str:
    args = ["pdfsig"]
    if nss_dir is not None:
        args += ["-nssdir", f"sql:{nss_dir}"]
    done = subprocess.run(
        [*args, str(pdf)], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout + done.stderr


def nss_trusting(ca_pem: Path, folder: Path) -> Path | None:
    """An NSS database trusting ``ca_pem`` for signatures (certutil from libnss3-tools), or
    None when certutil is not installed."""
    if shutil.which("certutil") is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LANG": "C"}
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{folder}", "-n", "docgen-ca", "-t", "C,C,C",
         "-i", str(ca_pem)],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    return folder


def pdftotext_words(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """Words of a page with their boxes, in PDF points with poppler's top-left origin."""
    done = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    words = []
    for match in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        done.stdout,
    ):
        x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
        words.append((match.group(5), x0, y0, x1, y1))
    return words
