"""The required witnesses as container checks of a verification (``docgen verify --witness``).

Each required witness gives one check, named after it: passed only when every letter's
checkpoint is part of a checkpoint it cosigned (:mod:`docgen.registry.witness_check`); failed
when its cosignature is missing, forged, or older than a letter; "?" when it cannot be proved
(no registry for a consistency proof, no letters, no log key) — never ✓ by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from docgen.core.errors import DocgenError
from docgen.core.workspace import Workspace
from docgen.registry import Registry
from docgen.registry.note import parse_verifier_key
from docgen.registry.witness import Cosigner
from docgen.registry.witness_check import check_witness, store_dir
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
