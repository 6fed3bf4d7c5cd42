"""The required witnesses as container checks of a verification (``docgen verify --witness``).

Each required witness gives one check, named after it: passed only when every letter's
checkpoint is part of a checkpoint it cosigned (:mod:`docgen.registry.witness_check`); failed
when its cosignature is missing, forged, or older than a letter; "?" when it cannot be proved
(no registry for a consistency proof, no letters, no log key) — never ✓ by default.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from docgen.core.errors import DocgenError
from docgen.core.workspace import Workspace
from docgen.registry import Registry
from docgen.registry.note import parse_verifier_key
from docgen.registry.witness import Cosigner
from docgen.registry.witness_archive import MAX_MEMBER_BYTES, check_archive_witness
from docgen.registry.witness_check import check_witness, store_dir
from docgen.verify.derived import CHECKPOINT_NAME, VKEY_NAME, WITNESSES_NAME
from docgen.verify.model import CheckResult, TrustAnchors


def _name(cosigner: Cosigner) -> str:
    return f"见证方“{cosigner.name}”的副署"


def witness_results(
    witnesses: Sequence[Cosigner],
    letter_notes: Iterable[str],
    trust: TrustAnchors | None,
    ws: Workspace | None,
    registry: Registry | None,
) -> list[CheckResult]:
    notes = sorted(set(letter_notes))
    results: list[CheckResult] = []
    for cosigner in witnesses:
        name = _name(cosigner)
        if trust is None or ws is None:
            results.append(
                CheckResult(
                    name,
                    False,
                    "没有登记簿验证公钥或工作目录中的副署检查点,无法核对见证方的副署",
                    unknown=True,
                )
            )
            continue
        if not notes:
            results.append(
                CheckResult(name, False, "没有通过登记证明检查的文书,无从核对见证", unknown=True)
            )
            continue
        try:
            verdict = check_witness(
                cosigner,
                notes,
                parse_verifier_key(trust.verifier_key),
                store_dir(ws),
                registry.consistency_proof if registry is not None else None,
            )
        except DocgenError as exc:
            results.append(CheckResult(name, False, exc.diagnostics()))
            continue
        results.append(
            CheckResult(name, verdict.ok, verdict.detail, verdict.file, unknown=verdict.unknown)
        )
    return results


def _archive_member(path: Path, name: str) -> bytes | None:
    """One small member of an archive (a .zip or an extracted folder); None when absent."""
    if path.is_dir():
        member = path / name
        if not member.is_file() or member.stat().st_size > MAX_MEMBER_BYTES:
            return None
        return member.read_bytes()
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(name)
            if info.file_size > MAX_MEMBER_BYTES:
                return None
            return archive.read(info)
    except (KeyError, OSError, zipfile.BadZipFile):
        return None


def archive_witness_results(path: Path, witnesses: Sequence[Cosigner]) -> list[CheckResult]:
    """Each required witness, by what the archive carries (``witnesses.json``) and its own
    checkpoint and registry key — the archivist needs nothing else."""
    shown = str(path)
    checkpoint = _archive_member(path, CHECKPOINT_NAME)
    vkey = _archive_member(path, VKEY_NAME)
    member = _archive_member(path, WITNESSES_NAME)
    results: list[CheckResult] = []
    for cosigner in witnesses:
        name = f"{_name(cosigner)}({shown})"
        if checkpoint is None or vkey is None:
            results.append(
                CheckResult(name, False, "归档中缺少检查点或登记簿验证公钥,无法核对", shown)
            )
            continue
        try:
            verifier = parse_verifier_key(vkey.decode("utf-8").strip())
        except (UnicodeDecodeError, DocgenError) as exc:
            results.append(CheckResult(name, False, f"登记簿验证公钥无法使用:{exc}", shown))
            continue
        verdict = check_archive_witness(member, checkpoint, verifier, cosigner, shown)
        results.append(
            CheckResult(name, verdict.ok, verdict.detail, verdict.file, unknown=verdict.unknown)
        )
    return results
