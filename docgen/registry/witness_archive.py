"""The witnesses an archive carries (``witnesses.json``), so an archivist can require them offline.

Every letter of an archive is proved against the archive's own ``checkpoint.txt`` (size S). For
each required witness the archive carries the newest checkpoint that witness cosigned (size
N ≥ S, log signature and cosignature lines verbatim) and the RFC 9162 consistency proof from S to
N, taken from the registry when the archive is made. ``docgen archive`` refuses to write an
archive when a required witness has not cosigned a checkpoint that covers it, or when what it
cosigned is not an extension of the archive's checkpoint (a fork). ``docgen verify`` checks the
cosignature and the proof again, from the archive alone.

``checkpoint.txt`` itself is left as it was (the proof bundles quote it byte for byte, and
``verify.sh`` checks its signature with openssl).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from docgen.core.errors import DocgenError, ValidationError
from docgen.registry import merkle
from docgen.registry.note import Verifier, open_checkpoint, parse_note
from docgen.registry.witness import Cosigner, find_cosignature
from docgen.registry.witness_check import (
    CosignedCheckpoint,
    WitnessVerdict,
    chain_to_cosigned,
    newest_cosigned,
)

MEMBER_NAME = "witnesses.json"
FORMAT = "docgen-witnesses-v1"
MAX_MEMBER_BYTES = 1 << 20


def archive_witnesses(
    directory: Path,
    checkpoint_note: bytes,
    log_verifier: Verifier,
    cosigners: Sequence[Cosigner],
    consistency: Callable[[int, int], Sequence[bytes]],
) -> bytes | None:
    """``witnesses.json`` for an archive at ``checkpoint_note``; None when none is required."""
    if not cosigners:
        return None
    archived = open_checkpoint(checkpoint_note, log_verifier)
    items = []
    for cosigner in cosigners:
        found = newest_cosigned(directory, log_verifier, cosigner)
        if isinstance(found, WitnessVerdict):
            raise ValidationError(
                f"要求的见证方“{cosigner.name}”没有可用的副署:{found.detail}",
                hint="请见证方先运行 docgen registry witness cosign,再归档",
            )
        if found.checkpoint.size < archived.size:
            raise ValidationError(
                f"见证方“{cosigner.name}”最近副署的检查点(大小 {found.checkpoint.size})"
                f"早于归档的检查点(大小 {archived.size})",
                hint="请见证方对登记簿的最新检查点运行 docgen registry witness cosign,再归档",
            )
        proof = list(consistency(archived.size, found.checkpoint.size))
        if not merkle.verify_consistency(
            archived.size, found.checkpoint.size, proof, archived.root, found.checkpoint.root
        ):
            raise ValidationError(
                f"见证方“{cosigner.name}”副署的检查点(大小 {found.checkpoint.size})不是"
                f"归档检查点(大小 {archived.size})的延续:登记簿有分叉",
                hint="请立即核查登记簿,不要归档",
            )
        items.append(
            {
                "witness": cosigner.encode(),
                "cosigned_checkpoint": Path(found.path).read_text(encoding="utf-8"),
                "from_size": archived.size,
                "consistency_proof": [h.hex() for h in proof],
            }
        )
    data = {"format": FORMAT, "checkpoint_size": archived.size, "witnesses": items}
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def check_archive_witness(
    member: bytes | None,
    checkpoint_note: bytes,
    log_verifier: Verifier,
    cosigner: Cosigner,
    where: str,
) -> WitnessVerdict:
    """Whether the archive's checkpoint is part of a checkpoint ``cosigner`` cosigned, by what
    the archive carries (``member``: its ``witnesses.json``, None when absent)."""
    name = cosigner.name
    if member is None:
        return WitnessVerdict(
            name, False, f"归档中没有 {MEMBER_NAME}:归档时没有要求见证方“{name}”的副署", where
        )
    try:
        if len(member) > MAX_MEMBER_BYTES:
            raise ValueError("too large")
        data = json.loads(member.decode("utf-8"))
        items = [i for i in data["witnesses"] if i["witness"] == cosigner.encode()]
        if data.get("format") != FORMAT:
            raise ValueError(data.get("format"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
        return WitnessVerdict(name, False, f"{MEMBER_NAME} 格式不对({exc})", where)
    if not items:
        return WitnessVerdict(
            name,
            False,
            f"没有见证方“{name}”(密钥编号 {cosigner.key_id.hex()})副署的检查点",
            where,
        )
    item = items[0]
    try:
        note = str(item["cosigned_checkpoint"]).encode("utf-8")
        checkpoint = open_checkpoint(note, log_verifier)
        cosignature = find_cosignature(parse_note(note), cosigner)
        proof = [bytes.fromhex(str(h)) for h in item["consistency_proof"]]
        from_size = item["from_size"]
    except DocgenError as exc:
        return WitnessVerdict(name, False, exc.diagnostics(), where)
    except (ValueError, KeyError, TypeError) as exc:
        return WitnessVerdict(name, False, f"{MEMBER_NAME} 格式不对({exc})", where)

    def carried(old: int, new: int) -> Sequence[bytes]:
        if (old, new) != (from_size, checkpoint.size):
            return []  # a proof for other sizes is not carried: it fails to verify
        return proof

    found = CosignedCheckpoint(checkpoint, cosignature, f"{where}:{MEMBER_NAME}")
    return chain_to_cosigned(
        cosigner, [checkpoint_note.decode("utf-8", errors="replace")], log_verifier, found, carried
    )
