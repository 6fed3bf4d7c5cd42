"""``archive``: deterministic zips of a year with everything needed to check them without docgen.

A year of at most :data:`VOLUME_LETTERS` letters is one zip; a larger one (a province's 10⁵
letters) is packed in volumes of that many letters, taken in the order of their paths, each a
whole archive of its own (anchors, checkpoint, manifest, VERIFY.txt) that its manifest numbers
"n of m": no file, and no process building or checking one, has to hold the whole year.

Letters are read from ``output/<year>/``, their proof bundles are made afresh from the registry at
its latest checkpoint (so every bundle in the archive refers to the one ``checkpoint.txt``), and
each letter is verified with the same checklist as ``docgen verify`` before it is packed. A letter
that fails is never archived; a letter still waiting for a signature is archived only with
``partial=True``. The zip's bytes depend only on its content: sorted members, timestamps fixed to
the last day of the year, fixed permissions and compression level.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import stat
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from docgen.core.durable import (
    StagedFile,
    discard_staged,
    publish_staged,
    stage_written,
    sync_staged,
)
from docgen.core.errors import (
    Location,
    Problem,
    ProblemsError,
    ValidationError,
    VerificationError,
)
from docgen.core.lock import workspace_lock
from docgen.core.parallel import map_chunks
from docgen.core.progress import ProgressFactory, no_progress
from docgen.core.workspace import Workspace
from docgen.records.naming import signature_relpath
from docgen.records.proofs import letter_proof
from docgen.records.renditions import rendition_relpath
from docgen.records.state import LetterState, iter_year_letters, letters_state
from docgen.registry import Registry, open_registry
from docgen.registry.bundle import verified_checkpoint
from docgen.registry.note import parse_verifier_key
from docgen.registry.witness_archive import archive_witnesses
from docgen.registry.witness_check import required_witnesses, store_dir
from docgen.signing.keyfiles import ca_paths
from docgen.verify.anchors import load_trust_anchors
from docgen.verify.checklist import verify_letter
from docgen.verify.crls import (
    CrlHistory,
    crl_files,
    crl_history,
    given_crl_check,
    history_checks,
)
from docgen.verify.derived import (
    CA_NAME,
    CHECKPOINT_NAME,
    CRL_NAME,
    PROOF_SUFFIX,
    SCRIPT_NAME,
    VKEY_NAME,
    WITNESSES_NAME,
    ArchiveAnchors,
    CrlFile,
    Volume,
    render_derived_files,
    volume_suffix,
)
from docgen.verify.files import read_blob, safe_relative
from docgen.verify.log import LOG_NAME, log_check, log_lines, scan_log_file
from docgen.verify.model import (
    MAX_LETTER_BYTES,
    MAX_SIGNATURE_BYTES,
    Blob,
    LetterFiles,
    LetterReport,
    LetterStatus,
    TrustAnchors,
)
from docgen.verify.reference import registry_entries

REGISTRY_VKEY = Path("registry") / "registry.vkey"


VOLUME_LETTERS = 5_000  # letters per archive file; a larger year is packed in volumes


@dataclass(frozen=True)
class ArchiveVolume:
    """One archive file: a self-contained, self-checking zip of some of the year's letters."""

    path: Path
    sha256: str
    members: int
    letters: int


@dataclass(frozen=True)
class ArchiveResult:
    """What ``build_archive`` packed. ``path`` and ``sha256`` are those of the first volume (of
    the only one, for a year of at most :data:`VOLUME_LETTERS` letters)."""

    year: int
    volumes: tuple[ArchiveVolume, ...]
    counts: Mapping[LetterStatus, int]
    incomplete: tuple[LetterReport, ...]  # letters archived while still waiting for a signature
    volume_letters: int  # at most this many letters in a volume

    @property
    def path(self) -> Path:
        return self.volumes[0].path

    @property
    def sha256(self) -> str:
        return self.volumes[0].sha256

    @property
    def members(self) -> int:
        return sum(volume.members for volume in self.volumes)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: LetterStatus) -> int:
        return self.counts.get(status, 0)


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
    write_zip(buffer, members, year)
    return buffer.getvalue()


def write_zip(file: IO[bytes], members: Mapping[str, bytes], year: int) -> None:
    """Write the bytes of :func:`zip_bytes` to a seekable ``file`` (a volume is written to its
    temporary file directly: one copy of its content in memory, not two)."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(year, 12, 31, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            mode = 0o755 if name == SCRIPT_NAME else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, members[name], compresslevel=9)


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
    # The signed PDF rendition goes beside its .docx when there is one (a registered PDF missing
    # from output/ is shown by the checklist's step 9 as not checked, and not archived).
    pdf = None
    if letter.rendition is not None:
        pdf_rel = rendition_relpath(rel)
        if (year_dir / pdf_rel).is_file():
            pdf = read_blob(year_dir / pdf_rel, pdf_rel, MAX_LETTER_BYTES, "PDF 文件")
    files = LetterFiles(
        path=rel,
        docx=docx,
        proof=Blob(rel + PROOF_SUFFIX, proof),
        signatures=tuple(signatures),
        pdf=pdf,
    )
    content = {rel: docx.data} if docx.data is not None else {}
    content[rel + PROOF_SUFFIX] = proof
    for _, blob in signatures:
        if blob.data is not None:
            content[blob.path] = blob.data
    if pdf is not None and pdf.data is not None:
        content[pdf.path] = pdf.data
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


def volume_paths(target: Path, count: int) -> list[Path]:
    """The files of an archive of ``count`` volumes: ``target`` itself for one volume, else
    ``<stem>-part01-of12.zip`` … beside it (the names the volumes' VERIFY.txt use)."""
    if count == 1:
        return [target]
    return [
        target.with_name(f"{target.stem}{volume_suffix(i, count)}{target.suffix}")
        for i in range(1, count + 1)
    ]


def _stale_volumes(target: Path, keep: Sequence[Path]) -> list[Path]:
    """Files of an earlier archive of the same target that this one does not replace."""
    stem, suffix = re.escape(target.stem), re.escape(target.suffix)
    pattern = re.compile(stem + r"-part\d{2,}-of\d{2,}" + suffix)
    found = [p for p in target.parent.glob(f"{target.stem}-part*") if pattern.fullmatch(p.name)]
    if len(keep) > 1:
        found.append(target)
    return sorted(p for p in found if p not in keep and p.is_file())


@dataclass(frozen=True)
class _VolumeSetup:
    workspace: Workspace
    year: int
    anchors: ArchiveAnchors
    count: int  # volumes
    total: int  # letters in the year
    paths: tuple[Path, ...]  # final path of each volume
    per_volume: int  # letters per volume
    crls: CrlHistory  # the registered CRLs, up to the checkpoint
    crl_indices: tuple[int, ...]  # every ``crl`` entry's index, up to the checkpoint
    witnesses: bytes | None = None  # witnesses.json, when witnesses are required


@dataclass(frozen=True)
class _VolumeJob:
    number: int  # 1-based
    doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class _VolumeDone:
    number: int
    staged: StagedFile | None  # the zip, synced under a temporary name; None when a letter failed
    sha256: str
    members: int
    counts: dict[LetterStatus, int]
    failed: tuple[LetterReport, ...]
    incomplete: tuple[LetterReport, ...]


@dataclass(frozen=True)
class _VolumeWorker:
    setup: _VolumeSetup
    registry: Registry
    trust: TrustAnchors
    held: dict[str, bytes] = dataclasses.field(default_factory=dict)  # the log, once read

    def log(self) -> bytes:
        """``log/entries.jsonl``: every entry up to the archive's checkpoint, read once per
        process and hashed again before it is packed (a registry that does not give back the
        checkpoint's tree is refused, not archived)."""
        data = self.held.get(LOG_NAME)
        if data is None:
            checkpoint = self.setup.anchors.checkpoint
            size = verified_checkpoint(checkpoint, self.registry.verifier_key).size
            data = b"".join(log_lines(d for _i, d in registry_entries(self.registry, size)))
            check = log_check(
                scan_log_file(data, years=()), checkpoint, self.registry.verifier_key, LOG_NAME
            )
            if not check.ok:
                raise VerificationError(
                    f"登记簿 {self.registry.location} 的条目与其签名检查点不符:{check.detail}",
                    hint="已拒绝归档。请运行 docgen registry audit 查明第一个出错的条目",
                )
            self.held[LOG_NAME] = data
        return data


def _open_volume_worker(setup: _VolumeSetup) -> _VolumeWorker:
    # Read only, and the workspace is locked: every worker sees the checkpoint the main did,
    # and the same CA, CRL and verifier key (read again here: they do not travel by pickle).
    return _VolumeWorker(setup, open_registry(setup.workspace), workspace_trust(setup.workspace))


def _build_volumes(worker: _VolumeWorker, jobs: Sequence[_VolumeJob]) -> list[_VolumeDone]:
    return [_build_volume(worker, job) for job in jobs]


def _build_volume(worker: _VolumeWorker, job: _VolumeJob) -> _VolumeDone:
    """Verify a volume's letters and, if none fails, write its zip under a temporary name."""
    setup, registry = worker.setup, worker.registry
    year_dir = setup.workspace.year_dir(setup.year)
    state = letters_state(registry, job.doc_ids, setup.year)
    reports: list[LetterReport] = []
    content: dict[str, bytes] = {}
    checkpoint = setup.anchors.checkpoint
    for letter in state.letters.values():
        proof = _proof_bytes(letter_proof(registry, letter, setup.crl_indices))
        files, letter_content = _letter_files(year_dir, letter, proof)
        reports.append(
            verify_letter(
                files, worker.trust, expected_checkpoint=checkpoint, crls=setup.crls
            )
        )
        content.update(letter_content)
    counts: Counter[LetterStatus] = Counter(r.status for r in reports)
    failed = tuple(r for r in reports if r.status is LetterStatus.FAILED)
    incomplete = tuple(
        dataclasses.replace(r, steps=()) for r in reports if r.status is LetterStatus.INCOMPLETE
    )
    if failed:
        return _VolumeDone(job.number, None, "", 0, dict(counts), failed, incomplete)
    volume = (
        Volume(job.number, setup.count, setup.total, setup.per_volume)
        if setup.count > 1
        else None
    )
    content[LOG_NAME] = worker.log()
    if setup.witnesses is not None:
        content[WITNESSES_NAME] = setup.witnesses
    files_of_crls: tuple[CrlFile, ...] = crl_files(setup.crls)
    derived = render_derived_files(
        reports, setup.anchors, content, volume=volume, crls=files_of_crls
    )
    members = {
        **content,
        CA_NAME: setup.anchors.ca_pem,
        CRL_NAME: setup.anchors.crl,
        VKEY_NAME: setup.anchors.vkey,
        CHECKPOINT_NAME: setup.anchors.checkpoint,
        **derived.derived,
    }
    del content, reports
    staged = stage_written(
        setup.paths[job.number - 1], lambda handle: write_zip(handle, members, setup.year)
    )
    try:
        sync_staged([staged])
        with open(staged.tmp, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except BaseException:
        discard_staged([staged])
        raise
    return _VolumeDone(
        job.number,
        staged,
        digest,
        len(members),
        dict(counts),
        (),
        incomplete,
    )


def _registered_crls(
    registry: Registry, trust: TrustAnchors, checkpoint: bytes, crl_path: Path
) -> tuple[CrlHistory, tuple[int, ...]]:
    """The CRLs registered up to the checkpoint, refused when they do not hold together or the
    workspace CRL that goes into the archive is older than the newest of them."""
    size = verified_checkpoint(checkpoint, registry.verifier_key).size
    crls = [(e.index, e.record) for e in registry.entries(type="crl") if e.index < size]
    revocations = [
        (e.index, e.record) for e in registry.entries(type="revocation") if e.index < size
    ]
    history = crl_history(crls, revocations, trust.ca_cert)
    problems = [c.detail for c in history_checks(history, None) if not c.ok]
    current = given_crl_check(trust.crl, history, str(crl_path))
    if current is not None and not current.ok:
        problems.append(current.detail)
    if problems:
        raise ValidationError(
            "登记的吊销列表有问题,拒绝归档:" + ";".join(problems),
            location=Location(file=str(crl_path)),
            hint="请运行 docgen keys crl 重新签发并登记吊销列表后再归档",
        )
    return history, tuple(index for index, _record in crls)


def _letters_by_path(registry: Registry, year: int) -> list[str]:
    """The year's letter ids in the order of their registered paths (the archive's order)."""
    found = [
        (str(letter.record.get("path", "")), letter.doc_id)
        for letter in iter_year_letters(registry, year)
    ]
    found.sort()
    return [doc_id for _path, doc_id in found]


def build_archive(
    ws: Workspace,
    year: int,
    *,
    partial: bool = False,
    output: Path | None = None,
    volume_letters: int | None = None,
    jobs: int | None = None,
    progress: ProgressFactory = no_progress,
    witnesses: Sequence[str] = (),
) -> ArchiveResult:
    """Verify every letter of ``year`` and pack the year into zips of at most ``volume_letters``
    letters each (taken in the order of their paths); refuse on any failure, and then write
    nothing. Volumes are built by ``jobs`` worker processes (default: one per CPU) when there is
    more than one; each holds only its own letters. ``witnesses`` (with docgen.toml's
    ``[witness] require``): the archive carries their cosignatures, or is refused."""
    size = VOLUME_LETTERS if volume_letters is None else volume_letters
    if size < 1:
        raise ValueError("volume_letters must be positive")
    trust = workspace_trust(ws)
    paths = ca_paths(ws.keys_dir)
    target = output if output is not None else default_archive_path(ws, year)
    with workspace_lock(ws.root), open_registry(ws) as registry:
        order = _letters_by_path(registry, year)
        if not order:
            raise ValidationError(
                f"{year} 年度没有任何登记的文书,无法归档", hint="请先运行 docgen generate"
            )
        anchors = ArchiveAnchors(
            ca_pem=paths.cert.read_bytes(),
            crl=paths.crl_pem.read_bytes(),
            vkey=(ws.keys_dir / REGISTRY_VKEY).read_bytes(),
            checkpoint=registry.checkpoint(),
        )
        crls, crl_indices = _registered_crls(registry, trust, anchors.checkpoint, paths.crl_pem)
        witnessed = archive_witnesses(
            store_dir(ws),
            anchors.checkpoint,
            parse_verifier_key(registry.verifier_key),
            required_witnesses(ws, witnesses),
            registry.consistency_proof,
        )
        groups = [tuple(order[i : i + size]) for i in range(0, len(order), size)]
        finals = volume_paths(target, len(groups))
        setup = _VolumeSetup(
            ws, year, anchors, len(groups), len(order), tuple(finals), size, crls, crl_indices,
            witnessed,
        )  # fmt: skip
        work = [_VolumeJob(number, ids) for number, ids in enumerate(groups, start=1)]
        done: list[_VolumeDone] = []
        try:
            with progress(len(order), "核验并打包归档") as advance:
                if len(work) == 1 or jobs == 1:
                    here = _VolumeWorker(setup, registry, trust)
                    for job in work:
                        done.append(_build_volume(here, job))
                        advance(len(job.doc_ids))
                else:
                    for part in map_chunks(
                        _open_volume_worker, setup, _build_volumes, work, jobs=jobs, chunk_size=1
                    ):
                        done.extend(part)
                        advance(sum(len(work[d.number - 1].doc_ids) for d in part))
            failed = [r for d in done for r in d.failed]
            if failed:
                raise ProblemsError(
                    f"{len(failed)} 份文书未通过验证,拒绝归档",
                    _failure_problems(failed),
                    hint="请用 docgen verify 查看详情,恢复被改动或缺失的文件后重试",
                )
            incomplete = [r for d in done for r in d.incomplete]
            if incomplete and not partial:
                raise ProblemsError(
                    f"{year} 年度还有 {len(incomplete)} 份文书未签齐,拒绝归档",
                    _missing_problems(incomplete),
                    hint="请先完成签名(docgen status 查看待签清单);"
                    "确需先归档已签部分,请加 --partial",
                )
            publish_staged(d.staged for d in done if d.staged is not None)
        except BaseException:
            discard_staged(d.staged for d in done if d.staged is not None)
            raise
        for stale in _stale_volumes(target, finals):
            stale.unlink()
    counts: Counter[LetterStatus] = Counter()
    for d in done:
        counts.update(d.counts)
    return ArchiveResult(
        year=year,
        volumes=tuple(
            ArchiveVolume(final, d.sha256, d.members, sum(d.counts.values()))
            for d, final in zip(done, finals, strict=True)
        ),
        counts=dict(counts),
        incomplete=tuple(r for d in done for r in d.incomplete),
        volume_letters=size,
    )
