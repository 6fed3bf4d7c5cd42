"""Where a log keeps its cosigned checkpoints, and how a reader requires witnesses.

Cosigned checkpoints are kept with the workspace in ``cosigned/<size>.checkpoint`` (one note per
size, the cosignature lines of every witness merged). They are not rows of the registry: a
cosignature is added after the checkpoint it signs, and appending it as an entry would make a new
checkpoint that is never itself cosigned. Keeping them outside the log costs nothing in trust:
each file is verified in full (the log's signature and each witness's cosignature) whenever it is
used, and deleting or changing one only makes a verification requiring that witness fail.

A reader requires witnesses with ``[witness] require = ["<vkey>", …]`` in docgen.toml or
``docgen verify --witness VKEY``. For each required witness, every letter's checkpoint must be
proved part of the newest checkpoint that witness cosigned: equal to it, or extended by it with an
RFC 9162 consistency proof from the registry (verified against the two signed roots, so the
registry is not trusted for it). A letter newer than the witness's last cosignature, a missing
cosignature and a forged one are each reported by name, never as passed.
"""

from __future__ import annotations

import base64
import contextlib
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docgen.core.errors import DocgenError, Location, ValidationError, VerificationError
from docgen.core.workspace import CONFIG_NAME, Workspace, atomic_write
from docgen.registry import merkle
from docgen.registry.note import Checkpoint, Verifier, open_checkpoint, parse_note
from docgen.registry.witness import (
    Cosignature,
    CosignatureMissing,
    Cosigner,
    find_cosignature,
    merge_cosigned,
    parse_cosigner_key,
)

STORE_NAME = "cosigned"
_FILE = re.compile(r"(0|[1-9][0-9]*)\.checkpoint")


def store_dir(ws: Workspace) -> Path:
    return ws.root / STORE_NAME


def store_cosigned(directory: Path, note: bytes, log_verifier: Verifier) -> Path:
    """Keep ``note`` (log-signed, cosigned) as ``<size>.checkpoint``, merged with what is there."""
    checkpoint = open_checkpoint(note, log_verifier)
    path = directory / f"{checkpoint.size}.checkpoint"
    if path.exists():
        # a file there of another body (a fork) is replaced by the new, verified note
        with contextlib.suppress(VerificationError):
            note = merge_cosigned(path.read_bytes(), note)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write(path, note, mode=0o644)
    return path


def cosigned_notes(directory: Path | None) -> list[tuple[int, Path]]:
    """``(size, path)`` of the stored cosigned checkpoints, largest first."""
    if directory is None or not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _FILE.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def required_witnesses(ws: Workspace | None, given: Sequence[str]) -> list[Cosigner]:
    """The witnesses a verification requires: ``[witness] require`` of docgen.toml and
    ``--witness`` options (each once)."""
    texts: list[str] = list(given)
    if ws is not None:
        path = ws.root / CONFIG_NAME
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            data = {}  # load_config already reported a broken file
        section = data.get("witness", {})
        require = section.get("require", []) if isinstance(section, dict) else None
        if not isinstance(require, list) or not all(isinstance(v, str) for v in require):
            raise ValidationError(
                "[witness] require 应为见证方公钥字符串的列表",
                location=Location(file=str(path), field="witness.require"),
                hint='例如 require = ["市院见证+1a2b3c4d+BA…"]',
            )
        texts = [*require, *texts]
    result: list[Cosigner] = []
    for text in texts:
        cosigner = parse_cosigner_key(text)
        if cosigner not in result:
            result.append(cosigner)
    return result


@dataclass(frozen=True)
class WitnessVerdict:
    """One required witness: whether every letter chains to a checkpoint it cosigned."""

    witness: str
    ok: bool
    detail: str
    file: str | None = None
    unknown: bool = False


@dataclass(frozen=True)
class CosignedCheckpoint:
    checkpoint: Checkpoint
    cosignature: Cosignature
    path: Path | str  # where it was found (a file, or an archive member)


def newest_cosigned(
    directory: Path | None, log_verifier: Verifier, cosigner: Cosigner
) -> CosignedCheckpoint | WitnessVerdict:
    """The largest stored checkpoint that ``cosigner`` cosigned; a stored file with a forged
    cosignature or a broken log signature is a failure (not skipped for an older one)."""
    for size, path in cosigned_notes(directory):
        data = path.read_bytes()
        try:
            note = parse_note(data)
            if not any(s.name == cosigner.name for s in note.signatures):
                continue
            checkpoint = open_checkpoint(data, log_verifier)
            if checkpoint.size != size:
                raise VerificationError(
                    f"文件名的大小 {size} 与检查点的大小 {checkpoint.size} 不符"
                )
            cosignature = find_cosignature(note, cosigner)
        except CosignatureMissing:
            continue  # a line with the name but another key: not this witness
        except DocgenError as exc:
            return WitnessVerdict(cosigner.name, False, exc.diagnostics(), str(path))
        return CosignedCheckpoint(checkpoint, cosignature, path)
    return WitnessVerdict(
        cosigner.name,
        False,
        f"没有见证方“{cosigner.name}”(密钥编号 {cosigner.key_id.hex()})副署的检查点"
        "(请见证方运行 docgen registry witness cosign)",
        str(directory) if directory is not None else None,
    )


def check_witness(
    cosigner: Cosigner,
    letter_notes: Iterable[str],
    log_verifier: Verifier,
    directory: Path | None,
    consistency: Callable[[int, int], Sequence[bytes]] | None,
) -> WitnessVerdict:
    """Whether every letter checkpoint in ``letter_notes`` is part of the newest checkpoint
    ``cosigner`` cosigned (``consistency``: proofs from the registry; None when there is none)."""
    found = newest_cosigned(directory, log_verifier, cosigner)
    if isinstance(found, WitnessVerdict):
        return found
    return chain_to_cosigned(cosigner, letter_notes, log_verifier, found, consistency)


def chain_to_cosigned(
    cosigner: Cosigner,
    letter_notes: Iterable[str],
    log_verifier: Verifier,
    found: CosignedCheckpoint,
    consistency: Callable[[int, int], Sequence[bytes]] | None,
) -> WitnessVerdict:
    """Every checkpoint of ``letter_notes`` equal to, or extended by, the cosigned ``found``."""
    witnessed, where = found.checkpoint, str(found.path)
    name = cosigner.name
    unproved = 0
    notes = sorted(set(letter_notes))
    if not notes:
        return WitnessVerdict(name, False, "没有通过登记证明检查的文书,无从核对见证", unknown=True)
    for text in notes:
        try:
            letter = open_checkpoint(text.encode("utf-8"), log_verifier)
        except DocgenError as exc:
            return WitnessVerdict(name, False, f"文书证明中的检查点:{exc.diagnostics()}")
        if letter.size > witnessed.size:
            return WitnessVerdict(
                name,
                False,
                f"文书证明的检查点(大小 {letter.size})晚于见证方“{name}”最近副署的检查点"
                f"(大小 {witnessed.size}):这些记录尚未经见证(请见证方再次运行 cosign)",
                where,
            )
        if letter.size == witnessed.size:
            if letter.root != witnessed.root:
                return WitnessVerdict(
                    name, False, _fork(name, letter, witnessed, "两者大小相同、根哈希不同"), where
                )
            continue
        if consistency is None:
            unproved += 1
            continue
        proof = list(consistency(letter.size, witnessed.size))
        if not merkle.verify_consistency(
            letter.size, witnessed.size, proof, letter.root, witnessed.root
        ):
            return WitnessVerdict(
                name, False, _fork(name, letter, witnessed, "一致性证明验证失败"), where
            )
    if unproved:
        return WitnessVerdict(
            name,
            False,
            f"{unproved} 个文书证明的检查点小于见证方“{name}”副署的检查点(大小 {witnessed.size}),"
            "没有登记簿提供一致性证明,无法证明它们经过见证",
            where,
            unknown=True,
        )
    return WitnessVerdict(
        name,
        True,
        f"文书证明的检查点都包含在见证方“{name}”副署的检查点(大小 {witnessed.size},"
        f"副署时间 {found.cosignature.timestamp})中",
        where,
    )


def _fork(name: str, letter: Checkpoint, witnessed: Checkpoint, why: str) -> str:
    return (
        f"发现分叉:文书证明的检查点(大小 {letter.size}、根哈希 "
        f"{base64.b64encode(letter.root).decode()})不在见证方“{name}”副署的检查点(大小 "
        f"{witnessed.size}、根哈希 {base64.b64encode(witnessed.root).decode()})中({why})"
    )
