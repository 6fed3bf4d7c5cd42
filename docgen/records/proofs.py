"""Per-letter proof bundles (``<file>.docx.proof.json``): all a letter needs offline.

A bundle carries the letter's own entries and, for each of its signatures, the ``crl`` entry in
force when the signature was recorded (the last one before it): a letter checked offline is
judged against the revocation state the registry held then, not against whatever CRL file the
verifier has.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring as _encode_string
from pathlib import Path
from typing import Any

from docgen.core.durable import atomic_write_many
from docgen.core.jsontext import dumps_indented
from docgen.core.workspace import atomic_write
from docgen.records.naming import proof_relpath
from docgen.records.state import LetterState
from docgen.registry import Registry

FORMAT = "docgen-letter-proof-v1"


def crl_indices(registry: Registry) -> list[int]:
    """The indices of the registry's ``crl`` entries, in order (one per CRL the CA issued)."""
    return [index for index, _data in registry.entry_data(types=("crl",))]


def proof_indices(letter: LetterState, crls: Sequence[int]) -> list[int]:
    """The entries of a letter's proof bundle, in index order: its own, and the CRL entry in
    force for each of its signatures (``crls``: :func:`crl_indices`)."""
    indices = {entry.index for entry in letter.entries()}
    for signature in letter.signatures.values():
        at = bisect.bisect_left(crls, signature.index)
        if at:
            indices.add(crls[at - 1])
    return sorted(indices)


def letter_proof(
    registry: Registry, letter: LetterState, crls: Sequence[int] | None = None
) -> dict[str, Any]:
    indices = proof_indices(letter, crl_indices(registry) if crls is None else crls)
    bundles = registry.proof_bundles(indices)
    return letter_proof_from_bundles(letter.doc_id, registry.verifier_key, bundles)


def letter_proof_from_bundles(
    doc_id: str, verifier_key: str, bundles: list[dict[str, Any]]
) -> dict[str, Any]:
    """A letter's proof from the bundles of its entries (in index order, at least one)."""
    return {
        "format": FORMAT,
        "doc_id": doc_id,
        "verifier_key": verifier_key,
        "checkpoint": bundles[0]["checkpoint"],
        "entries": bundles,
    }


def proof_bytes(data: dict[str, Any]) -> bytes:
    """``json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)`` and a newline, UTF-8."""
    return (dumps_indented(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


_BUNDLE_STRINGS = ("checkpoint", "entry", "format", "leaf_hash", "verifier_key")
_BUNDLE_KEYS = frozenset((*_BUNDLE_STRINGS, "inclusion_proof", "index", "tree_size"))


def _plain_bundle(bundle: object) -> bool:
    return (
        type(bundle) is dict
        and bundle.keys() == _BUNDLE_KEYS
        and all(type(bundle[key]) is str for key in _BUNDLE_STRINGS)
        and type(bundle["index"]) is int
        and type(bundle["tree_size"]) is int
        and type(bundle["inclusion_proof"]) is list
        and all(type(item) is str for item in bundle["inclusion_proof"])
    )


def letter_proof_bytes(doc_id: str, verifier_key: str, bundles: list[dict[str, Any]]) -> bytes:
    """``proof_bytes(letter_proof_from_bundles(doc_id, verifier_key, bundles))``, written
    straight from the bundles' known shape (bulk commands write 10⁵ of these). Anything of
    another shape goes through :func:`proof_bytes`."""
    if not bundles or not all(_plain_bundle(bundle) for bundle in bundles):
        return proof_bytes(letter_proof_from_bundles(doc_id, verifier_key, bundles))
    quoted: dict[str, str] = {}

    def q(text: str) -> str:
        found = quoted.get(text)
        if found is None:
            found = quoted[text] = _encode_string(text)
        return found

    parts = ['{\n "checkpoint": ', q(bundles[0]["checkpoint"]), ',\n "doc_id": ', q(doc_id)]
    separator = ',\n "entries": [\n  {'
    for bundle in bundles:
        proof = bundle["inclusion_proof"]
        parts += (
            separator,
            '\n   "checkpoint": ', q(bundle["checkpoint"]),
            ',\n   "entry": ', q(bundle["entry"]),
            ',\n   "format": ', q(bundle["format"]),
            ',\n   "inclusion_proof": ',
            "[\n    " + ",\n    ".join(map(q, proof)) + "\n   ]" if proof else "[]",
            ',\n   "index": ', int.__repr__(bundle["index"]),
            ',\n   "leaf_hash": ', q(bundle["leaf_hash"]),
            ',\n   "tree_size": ', int.__repr__(bundle["tree_size"]),
            ',\n   "verifier_key": ', q(bundle["verifier_key"]),
            "\n  }",
        )  # fmt: skip
        separator = ",\n  {"
    parts += ('\n ],\n "format": ', q(FORMAT), ',\n "verifier_key": ', q(verifier_key), "\n}\n")
    return "".join(parts).encode("utf-8")


def write_letter_proofs(registry: Registry, year_dir: Path, letters: Iterable[LetterState]) -> int:
    """Rewrite the proof bundles of ``letters`` (in this process; bulk commands use
    :func:`docgen.records.views.refresh_year`)."""

    crls = crl_indices(registry)

    def files() -> Iterator[tuple[Path, bytes]]:
        for letter in letters:
            yield (
                year_dir / proof_relpath(letter.record["path"]),
                letter_proof_bytes(
                    letter.doc_id,
                    registry.verifier_key,
                    registry.proof_bundles(proof_indices(letter, crls)),
                ),
            )

    return atomic_write_many(files())


# --- crash recovery -------------------------------------------------------------------------
#
# Proof bundles are derived from the registry after it commits. A process killed between the
# commit and the rewrite of the bundles would leave bundles that omit the new entries, and no
# later run would notice (the letters look unchanged). So every command that appends letter
# entries first drops a marker in the year folder and removes it only once the bundles and the
# manifest are rewritten; any later command that finds the marker rebuilds them all.

PENDING_NAME = ".proofs-pending"


def mark_pending(year_dir: Path) -> None:
    """Say, durably, that the registry may be ahead of the proof bundles of this year."""
    atomic_write(year_dir / PENDING_NAME, b"registry appended; proof bundles being rewritten\n")


def clear_pending(year_dir: Path) -> None:
    (year_dir / PENDING_NAME).unlink(missing_ok=True)


def is_pending(year_dir: Path) -> bool:
    return (year_dir / PENDING_NAME).exists()
