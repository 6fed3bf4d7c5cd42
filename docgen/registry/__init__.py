"""The verifiable registry: an append-only Merkle transparency log with signed checkpoints."""

from docgen.registry.store import (
    AuditReport,
    Entry,
    PinnedCheck,
    Registry,
    open_registry,
    verify_proof_bundle,
)

__all__ = [
    "AuditReport",
    "Entry",
    "PinnedCheck",
    "Registry",
    "open_registry",
    "verify_proof_bundle",
]
