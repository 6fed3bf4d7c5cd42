"""Files uploaded to the 纪检组's 核验 page, verified exactly as ``docgen verify`` verifies them.

The files are written to a private temporary folder (0700, under the system's temp directory,
removed when the check is over, whatever happens) under names made here — ``letter-1.docx``,
``letter-1.docx.proof.json``, ``letter-1.docx.<signer>.p7s``, ``letter-1.pdf``, ``archive-1.zip``
— never under the names the browser sent: a given name only says what a file is (its suffix and,
for a signature, the signer's id, which must be a plain id) and which letter it belongs to
(``<letter>.docx.…``). Then :func:`docgen.verify.paths.verify_paths` runs on that folder's files
with the workspace's trust anchors and registry, as ``docgen verify`` does in the workspace; the
report names the files by the names they were uploaded under.

A signed PDF uploaded alone is matched to its letter through the registry (the SHA-256 of a
registered rendition or PDF signature, else a registered doc id at the start of its name); the
letter's registered files are copied beside it, so the whole checklist runs with the uploaded
PDF in the rendition's place — a PDF changed after signing fails step 9. Files that belong to no
letter are reported as not checked, never dropped in silence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from docgen.core.workspace import Workspace
from docgen.records.naming import proof_relpath, signature_relpath
from docgen.registry import Registry, open_registry
from docgen.verify.archive import workspace_trust
from docgen.verify.model import (
    MAX_LETTER_BYTES,
    MAX_PROOF_BYTES,
    MAX_SIGNATURE_BYTES,
    CheckResult,
    LetterReport,
)
from docgen.verify.paths import verify_paths
from docgen.verify.report import VerifyReport

MAX_FILES = 20
_SIGNER = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the browser gave (shown, never used as a path) and bytes."""

    name: str
    data: bytes


@dataclass
class UploadCheck:
    """The report of ``docgen verify`` on the uploaded files, and what could not be checked."""

    report: VerifyReport
    unused: list[str] = field(default_factory=list)  # given names of files of no letter
    refused: list[tuple[str, str]] = field(default_factory=list)  # (given name, why)
    notes: list[str] = field(default_factory=list)  # what the server took from its registry

    @property
    def ok(self) -> bool:
        return (
            bool(self.report.letters or self.report.checks)
            and self.report.ok
            and not self.unused
            and not self.refused
        )


def _base(name: str) -> str:
    """The last component of a browser's file name (some send a whole Windows path)."""
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


_LIMITS = {".docx": MAX_LETTER_BYTES, ".pdf": MAX_LETTER_BYTES, ".p7s": MAX_SIGNATURE_BYTES}


def _too_large(upload: Upload) -> str | None:
    name = _base(upload.name).lower()
    limit = MAX_PROOF_BYTES if name.endswith(".proof.json") else None
    for suffix, size in _LIMITS.items():
        if name.endswith(suffix):
            limit = size
    if limit is not None and len(upload.data) > limit:
        return f"文件过大({len(upload.data)} 字节,上限 {limit} 字节)"
    return None


class _Stage:
    """The private folder and what was put in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: list[Path] = []
        self.shown: dict[str, str] = {}  # staged name → given name
        self.unused: list[str] = []
        self.refused: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def write(self, name: str, data: bytes, given: str) -> Path:
        path = self.root / name
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(path, "xb") as handle:  # a name made here, never an existing file
            handle.write(data)
        self.shown[str(path)] = given
        return path


def _latest_document(registry: Registry, doc_id: str) -> dict[str, Any] | None:
    latest = None
    for entry in registry.entries(type="document", doc_id=doc_id):
        latest = entry.record
    return latest


def _letter_of_pdf(registry: Registry, data: bytes, given: str) -> dict[str, Any] | None:
    """The ``document`` record of the letter whose registered PDF (rendition or signed) is
    ``data``; else of the registered doc id the given name starts with (the letters' files are
    named ``<doc id>_<甲方>_<乙方>``), so a changed PDF is still checked against its letter."""
    sha = hashlib.sha256(data).hexdigest()
    for _index, raw in registry.entry_data(types=("rendition", "pdf_signature")):
        record = json.loads(raw)
        if record.get("pdf_sha256") == sha:
            return _latest_document(registry, str(record["doc_id"]))
    return _letter_by_name(registry, given)


def _letter_of_docx(registry: Registry, data: bytes, given: str) -> dict[str, Any] | None:
    """The ``document`` record of the registered letter whose bytes are ``data``; else of the
    registered doc id the given name starts with, so a changed letter is still checked (and
    fails) against its registration."""
    sha = hashlib.sha256(data).hexdigest()
    for _index, raw in registry.entry_data(types=("document",)):
        record = json.loads(raw)
        if record.get("sha256") == sha:
            return _latest_document(registry, str(record["doc_id"]))
    return _letter_by_name(registry, given)


def _letter_by_name(registry: Registry, given: str) -> dict[str, Any] | None:
    stem = _base(given).rsplit(".", 1)[0]
    cuts = [i for i, ch in enumerate(stem) if ch == "_"] + [len(stem)]
    for cut in sorted(cuts, reverse=True)[:8]:
        found = _latest_document(registry, stem[:cut]) if stem[:cut] else None
        if found is not None:
            return found
    return None


def _registered_companions(
    ws: Workspace,
    record: dict[str, Any],
    stem: str,
    stage: _Stage,
    signers: set[str],
    given: str,
) -> None:
    """The registry's proof bundle of the letter (the file ``docgen verify`` reads in the year
    folder) and its registered signatures of the parties whose .p7s was not uploaded."""
    year_dir = ws.year_dir(int(record["year"]))
    rel = str(record["path"])
    proof = year_dir / proof_relpath(rel)
    if proof.is_file():
        stage.write(f"{stem}.docx.proof.json", proof.read_bytes(), f"{proof.name}(登记簿中的证明)")
    stage.notes.append(
        f"{given}:未上传证明文件,按登记簿中的文书 {record['doc_id']} 核对"
        "(使用登记簿中的证明和未上传的登记签名)"
    )
    for party in record.get("parties", []):
        signer = str(party.get("id", ""))
        p7s = year_dir / signature_relpath(rel, signer)
        if signer not in signers and _SIGNER.match(signer) and p7s.is_file():
            stage.write(f"{stem}.docx.{signer}.p7s", p7s.read_bytes(), f"{p7s.name}(登记的签名)")


def _stage_letters(ws: Workspace, uploads: Sequence[Upload], stage: _Stage) -> None:
    letters = [u for u in uploads if _base(u.name).lower().endswith(".docx")]
    taken: set[int] = set()
    for number, letter in enumerate(letters, start=1):
        given = _base(letter.name)
        stem = f"letter-{number}"
        taken.add(id(letter))
        if not any(_base(u.name) == f"{given}.proof.json" for u in uploads):
            with open_registry(ws) as registry:
                record = _letter_of_docx(registry, letter.data, given)
            if record is None:
                stage.refused.append(
                    (
                        given,
                        "登记簿中没有这份文件:它与登记的文书都不一致,文件名开头也不是登记的编号"
                        "(文件被改动过,或不是本单位登记的文书)",
                    )
                )
                continue
            uploaded = {
                _base(u.name)[len(given) + 1 : -len(".p7s")]
                for u in uploads
                if _base(u.name).startswith(f"{given}.") and _base(u.name).endswith(".p7s")
            }
            _registered_companions(ws, record, stem, stage, uploaded, given)
        stage.paths.append(stage.write(f"{stem}.docx", letter.data, given))
        pdf_name = given[: -len(".docx")] + ".pdf"
        for other in uploads:
            other_name = _base(other.name)
            if id(other) in taken or other is letter:
                continue
            if other_name == f"{given}.proof.json":
                stage.write(f"{stem}.docx.proof.json", other.data, other_name)
            elif other_name.lower() == pdf_name.lower():
                stage.write(f"{stem}.pdf", other.data, other_name)
            elif other_name.startswith(f"{given}.") and other_name.endswith(".p7s"):
                signer = other_name[len(given) + 1 : -len(".p7s")]
                if not _SIGNER.match(signer):
                    stage.refused.append((other_name, "文件名中的签名人编号不是有效的编号"))
                    taken.add(id(other))
                    continue
                stage.write(f"{stem}.docx.{signer}.p7s", other.data, other_name)
            else:
                continue
            taken.add(id(other))
    pdfs = [u for u in uploads if id(u) not in taken and _base(u.name).lower().endswith(".pdf")]
    if pdfs:
        with open_registry(ws) as registry:
            for number, pdf in enumerate(pdfs, start=len(letters) + 1):
                taken.add(id(pdf))
                _stage_pdf(ws, registry, pdf, number, stage)
    for upload in uploads:
        if id(upload) not in taken and not _base(upload.name).lower().endswith(".zip"):
            stage.unused.append(_base(upload.name))


def _stage_pdf(ws: Workspace, registry: Registry, pdf: Upload, number: int, stage: _Stage) -> None:
    """A PDF uploaded without its letter: the letter's registered files beside it."""
    given = _base(pdf.name)
    record = _letter_of_pdf(registry, pdf.data, given)
    if record is None:
        stage.refused.append(
            (given, "登记簿中没有与此 PDF 对应的文书(不是本单位登记的 PDF,或已被改动且改了文件名)")
        )
        return
    year_dir = ws.year_dir(int(record["year"]))
    rel = str(record["path"])
    stem = f"letter-{number}"
    source = year_dir / rel
    if not source.is_file():
        stage.refused.append((given, f"找到了对应的文书 {record['doc_id']},但工作目录中缺少其文件"))
        return
    registered = f"{record['doc_id']}(登记的文书 {rel})"
    stage.paths.append(stage.write(f"{stem}.docx", source.read_bytes(), registered))
    proof = year_dir / proof_relpath(rel)
    if proof.is_file():
        stage.write(f"{stem}.docx.proof.json", proof.read_bytes(), proof.name)
    for party in record.get("parties", []):
        signer = str(party.get("id", ""))
        p7s = year_dir / signature_relpath(rel, signer)
        if _SIGNER.match(signer) and p7s.is_file():
            stage.write(f"{stem}.docx.{signer}.p7s", p7s.read_bytes(), p7s.name)
    stage.write(f"{stem}.pdf", pdf.data, given)
    stage.notes.append(
        f"{given}:单独上传的 PDF。以下第 1–7 项核对的是登记簿中该文书 {record['doc_id']} 的 .docx"
        "及其登记的签名(不是上传的文件);上传的 PDF 本身的结果是第 9 项"
    )


def _shown(stage: _Stage, ws: Workspace, text: str) -> str:
    for staged, given in stage.shown.items():
        text = text.replace(staged, given)
    return workspace_relative(ws, text.replace(str(stage.root) + "/", ""))


def workspace_relative(ws: Workspace, text: str) -> str:
    """``text`` with the workspace's absolute path left out: the pages name the server's files
    relative to the workspace (``registry.db``, ``output/2027/…``), never where it lives."""
    for root in {str(ws.root.resolve()), str(ws.root)}:
        text = text.replace(root + "/", "").replace(root, ".")
    return text


def relabel(report: VerifyReport, shown: Callable[[str], str]) -> VerifyReport:
    """The report with every path and detail passed through ``shown``."""
    letters: list[LetterReport] = []
    for letter in report.letters:
        steps = tuple(
            dataclasses.replace(
                step,
                detail=shown(step.detail),
                file=None if step.file is None else shown(step.file),
            )
            for step in letter.steps
        )
        letters.append(dataclasses.replace(letter, path=shown(letter.path), steps=steps))
    checks = tuple(
        dataclasses.replace(
            check,
            detail=shown(check.detail),
            file=None if check.file is None else shown(check.file),
        )
        for check in report.checks
    )
    return VerifyReport(tuple(letters), checks)


def verify_uploads(ws: Workspace, uploads: Sequence[Upload], *, now: datetime) -> UploadCheck:
    """Verify uploaded letters (with their proof and signature files), signed PDFs and year
    archives (.zip, one or several volumes) against the workspace's trust anchors and registry."""
    root = Path(tempfile.mkdtemp(prefix="docgen-upload-"))  # mode 0700
    try:
        stage = _Stage(root)
        for upload in uploads:
            problem = _too_large(upload)
            if problem is not None:
                stage.refused.append((_base(upload.name), problem))
        if stage.refused:
            return UploadCheck(VerifyReport((), ()), [], stage.refused)
        _stage_letters(ws, uploads, stage)
        zips = [u for u in uploads if _base(u.name).lower().endswith(".zip")]
        for number, archive in enumerate(zips, start=1):
            stage.paths.append(
                stage.write(f"archive-{number}.zip", archive.data, _base(archive.name))
            )
        if not stage.paths:
            return UploadCheck(VerifyReport((), ()), stage.unused, stage.refused)
        trust = workspace_trust(ws)
        with open_registry(ws) as registry:
            report = verify_paths(
                stage.paths,
                trust,
                tolerance=trust.tolerance,
                jobs=1,
                registry=registry,
                workspace=ws,
                now=now,
            )
        shown = relabel(report, lambda text: _shown(stage, ws, text))
        return UploadCheck(shown, stage.unused, stage.refused, stage.notes)
    finally:
        shutil.rmtree(root)


def unchecked(check: UploadCheck) -> list[CheckResult]:
    """The files that were not checked, as failed checks for the page's 整体检查 list."""
    return [
        CheckResult("未核验的文件", False, "没有找到它所属的文书(.docx),未核验", name)
        for name in check.unused
    ] + [CheckResult("拒绝的文件", False, why, name) for name, why in check.refused]
