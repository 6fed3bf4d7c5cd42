"""``archive``: one deterministic zip per year with everything needed to check it without docgen.

Letters are read from ``output/<year>/``, their proof bundles are made afresh from the registry at
its latest checkpoint (so every bundle in the archive refers to the one ``checkpoint.txt``), and
each letter is verified with the same checklist as ``docgen verify`` before it is packed. A letter
that fails is never archived; a letter still waiting for a signature is archived only with
``partial=True``. The zip's bytes depend only on its content: sorted members, timestamps fixed to
the last day of the year, fixed permissions and compression level.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from docgen.errors import Location, Problem, ProblemsError, ValidationError
from docgen.lock import workspace_lock
from docgen.naming import signature_relpath
from docgen.pki import ca_paths
from docgen.proofs import letter_proof
from docgen.registry import open_registry
from docgen.state import LetterState, read_year_state
from docgen.verify import (
    MAX_LETTER_BYTES,
    MAX_SIGNATURE_BYTES,
    Blob,
    LetterFiles,
    LetterReport,
    LetterStatus,
    TrustAnchors,
    load_trust_anchors,
    read_blob,
    safe_relative,
    verify_letter,
)
from docgen.verify_text import (
    CA_NAME,
    CHECKPOINT_NAME,
    CRL_NAME,
    PROOF_SUFFIX,
    SCRIPT_NAME,
    VKEY_NAME,
    ArchiveAnchors,
    render_derived_files,
)
from docgen.workspace import Workspace, atomic_write

REGISTRY_VKEY = Path("registry") / "registry.vkey"


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    year: int
    sha256: str
    members: int
    letters: tuple[LetterReport, ...]

    def count(self, status: LetterStatus) -> int:
        return sum(1 for letter in self.letters if letter.status is status)

    @property
    def incomplete(self) -> tuple[LetterReport, ...]:
        return tuple(x for x in self.letters if x.status is LetterStatus.INCOMPLETE)


def default_archive_path(ws: Workspace, year: int) -> Path:
    return ws.year_dir(year) / f"archive-{year}.zip"


def workspace_trust(ws: Workspace) -> TrustAnchors:
    """The workspace's CA certificate, CRL and registry verifier key."""
    paths = ca_paths(ws.keys_dir)
    return load_trust_anchors(
        paths.cert,
        paths.crl_pem,
        ws.keys_dir / REGISTRY_VKEY,
        tolerance=timedelta(seconds=ws.config.signing_time_tolerance_seconds),
    )


def zip_bytes(members: Mapping[str, bytes], year: int) -> bytes:
    """A zip whose bytes depend only on ``members`` and ``year``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(year, 12, 31, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            mode = 0o755 if name == SCRIPT_NAME else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()


def _proof_bytes(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _letter_files(
    year_dir: Path, letter: LetterState, proof: bytes
) -> tuple[LetterFiles, dict[str, bytes]]:
    rel = str(letter.record.get("path", ""))
    if not safe_relative(rel):
        raise ValidationError(
            f"文书 {letter.doc_id} 的登记路径“{rel}”不安全,不能放入归档",
            hint="请核查登记簿中该文书的记录",
        )
    docx = read_blob(year_dir / rel, rel, MAX_LETTER_BYTES, "文书文件")
    signatures = []
    for signer in sorted(letter.signatures):
        sig_rel = signature_relpath(rel, signer)
        blob = read_blob(year_dir / sig_rel, sig_rel, MAX_SIGNATURE_BYTES, "签名文件")
        signatures.append((sig_rel[len(rel) + 1 : -len(".p7s")], blob))
    files = LetterFiles(
        path=rel,
        docx=docx,
        proof=Blob(rel + PROOF_SUFFIX, proof),
        signatures=tuple(signatures),
    )
    content = {rel: docx.data} if docx.data is not None else {}
    content[rel + PROOF_SUFFIX] = proof
    for _, blob in signatures:
        if blob.data is not None:
            content[blob.path] = blob.data
    return files, content


def _failure_problems(reports: list[LetterReport]) -> list[Problem]:
    problems = []
    for report in reports:
        for step in report.failed_steps:
            first = step.detail.split("\n")[0]
            problems.append(
                Problem(
                    f"{report.doc_id}:第 {step.number} 步“{step.name}”未通过:{first}",
                    Location(file=step.file or report.path),
                )
            )
    return problems


def _missing_problems(reports: list[LetterReport]) -> list[Problem]:
    return [
        Problem(
            f"{r.doc_id}《{r.title}》尚缺 "
            + "、".join(f"{p.name}({p.id})" for p in r.missing)
            + " 的签名",
            Location(file=r.path),
            severity="warning",
        )
        for r in reports
    ]


def build_archive(
    ws: Workspace, year: int, *, partial: bool = False, output: Path | None = None
) -> ArchiveResult:
    """Verify every letter of ``year`` and pack the year into one zip; refuse on any failure."""
    trust = workspace_trust(ws)
    paths = ca_paths(ws.keys_dir)
    year_dir = ws.year_dir(year)
    with workspace_lock(ws.root), open_registry(ws) as registry:
        state = read_year_state(registry, year)
        if not state.letters:
            raise ValidationError(
                f"{year} 年度没有任何登记的文书,无法归档", hint="请先运行 docgen generate"
            )
        checkpoint = registry.checkpoint()
        reports: list[LetterReport] = []
        content: dict[str, bytes] = {}
        for letter in state.letters.values():
            proof = _proof_bytes(letter_proof(registry, letter))
            files, letter_content = _letter_files(year_dir, letter, proof)
            reports.append(verify_letter(files, trust, expected_checkpoint=checkpoint))
            content.update(letter_content)
    failed = [r for r in reports if r.status is LetterStatus.FAILED]
    if failed:
        raise ProblemsError(
            f"{len(failed)} 份文书未通过验证,拒绝归档",
            _failure_problems(failed),
            hint="请用 docgen verify 查看详情,恢复被改动或缺失的文件后重试",
        )
    incomplete = [r for r in reports if r.status is LetterStatus.INCOMPLETE]
    if incomplete and not partial:
        raise ProblemsError(
            f"{year} 年度还有 {len(incomplete)} 份文书未签齐,拒绝归档",
            _missing_problems(incomplete),
            hint="请先完成签名(docgen status 查看待签清单);确需先归档已签部分,请加 --partial",
        )
    anchors = ArchiveAnchors(
        ca_pem=paths.cert.read_bytes(),
        crl=paths.crl_pem.read_bytes(),
        vkey=(ws.keys_dir / REGISTRY_VKEY).read_bytes(),
        checkpoint=checkpoint,
    )
    derived = render_derived_files(reports, anchors, content)
    members = {
        **content,
        CA_NAME: anchors.ca_pem,
        CRL_NAME: anchors.crl,
        VKEY_NAME: anchors.vkey,
        CHECKPOINT_NAME: anchors.checkpoint,
        **derived.derived,
    }
    data = zip_bytes(members, year)
    target = output if output is not None else default_archive_path(ws, year)
    atomic_write(target, data)
    ordered = tuple(sorted(reports, key=lambda r: r.path))
    return ArchiveResult(
        path=target,
        year=year,
        sha256=hashlib.sha256(data).hexdigest(),
        members=len(members),
        letters=ordered,
    )
