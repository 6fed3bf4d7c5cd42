"""The witness's one decision: cosign a log's newest checkpoint only if it extends the last one.

As in C2SP tlog-witness, the witness keeps the last checkpoint it cosigned for each log (origin)
and checks the new one against it: signed by the pinned log key, no smaller (a rollback), the same
root at the same size, and at a larger size an RFC 9162 consistency proof from the old root to the
new one (two trees with the same origin that do not extend each other: a fork). Only then is the
cosignature added and the new checkpoint remembered. A refusal names both sizes and roots.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from docgen.core.errors import UsageError, VerificationError
from docgen.core.lock import workspace_lock
from docgen.registry import merkle
from docgen.registry.note import Checkpoint, Verifier, open_checkpoint
from docgen.registry.witness import WitnessSigner, cosign_note
from docgen.registry.witness_state import LogState

ProofSource = Callable[[int, int], Sequence[bytes]]
"""``(old size, new size) -> consistency proof`` from the log (not trusted: it is verified)."""


def _root(cp: Checkpoint) -> str:
    return base64.b64encode(cp.root).decode("ascii")


@dataclass(frozen=True)
class CosignOutcome:
    cosigned: bytes
    checkpoint: Checkpoint
    previous_size: int | None


def _refuse(what: str, old: Checkpoint, new: Checkpoint) -> VerificationError:
    return VerificationError(
        f"{what}:已副署的检查点大小 {old.size}、根哈希 {_root(old)};"
        f"登记簿现在的检查点大小 {new.size}、根哈希 {_root(new)}。未副署",
        hint="登记簿的历史被改写或换成了旧备份;请立即通知该单位和纪检组核查,不要采信新检查点",
    )


def cosign_checkpoint(
    witness_dir_state: LogState,
    signer: WitnessSigner,
    log_verifier: Verifier,
    newest_note: bytes,
    proof_source: ProofSource,
    timestamp: int,
) -> CosignOutcome:
    """Check ``newest_note`` against the last cosigned checkpoint of its log, then cosign it.

    One cosignature per log at a time (a lock in the log's state directory): two runs at once
    must not both check against the same old checkpoint and each remember their own."""
    state = witness_dir_state
    state.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with workspace_lock(state.directory):
        return _cosign_locked(state, signer, log_verifier, newest_note, proof_source, timestamp)


def _cosign_locked(
    state: LogState,
    signer: WitnessSigner,
    log_verifier: Verifier,
    newest_note: bytes,
    proof_source: ProofSource,
    timestamp: int,
) -> CosignOutcome:
    pinned = state.pinned_verifier()
    if pinned is not None and pinned != log_verifier:
        raise VerificationError(
            f"登记簿“{state.origin}”的验证公钥与见证方首次副署时固定的不同:"
            f"固定的是 {pinned.encode()},现在的是 {log_verifier.encode()}",
            hint="登记簿密钥被更换,或这是另一个冒用同名的登记簿;请与该单位当面核实后再处理",
        )
    new = open_checkpoint(newest_note, log_verifier)
    previous_note = state.last_cosigned()
    old: Checkpoint | None = None
    if previous_note is not None:
        old = open_checkpoint(previous_note, log_verifier)
        if new.size < old.size:
            raise _refuse("发现回滚:登记簿比见证方上次副署时小", old, new)
        if new.size == old.size and new.root != old.root:
            raise _refuse("发现分叉:同样大小的两个检查点根哈希不同", old, new)
        if new.size > old.size:
            proof = list(proof_source(old.size, new.size))
            if not merkle.verify_consistency(old.size, new.size, proof, old.root, new.root):
                raise _refuse(
                    "发现分叉:新检查点不是上次副署的检查点的延续(一致性证明验证失败)", old, new
                )
    cosigned = cosign_note(newest_note, signer, timestamp)
    if pinned is None:
        state.pin(log_verifier)
    state.remember(cosigned)
    return CosignOutcome(cosigned, new, old.size if old is not None else None)


def proof_from_json(data: dict[str, object], expected_old: int | None) -> tuple[bytes, ProofSource]:
    """The newest checkpoint and a proof source from ``docgen registry consistency`` output.

    The log operator runs ``docgen registry consistency --from <the witness's size>`` and hands
    the JSON over; a proof from another size is refused with the size the witness needs."""
    try:
        note = str(data["checkpoint"]).encode("utf-8")
        old_size = data["old_size"]
        proof = [bytes.fromhex(str(h)) for h in data["consistency_proof"]]  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            f"一致性证明文件缺少字段或格式不对:{exc}",
            hint="请用 docgen registry consistency --from 大小 生成",
        ) from exc
    if expected_old is not None and old_size != expected_old:
        raise UsageError(
            f"一致性证明从大小 {old_size} 起,见证方上次副署的大小是 {expected_old}",
            hint=f"请登记簿一方运行 docgen registry consistency --from {expected_old} 重新生成",
        )

    def source(old: int, new: int) -> Sequence[bytes]:
        if old != old_size:
            raise UsageError(f"一致性证明从大小 {old_size} 起,需要从 {old} 起的证明")
        return proof

    return note, source
