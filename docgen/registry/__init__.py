"""The verifiable registry: an append-only Merkle transparency log with signed checkpoints."""

from docgen.registry.store import (
    APPEND_CHUNK,
    AuditReport,
    Entry,
    PinnedCheck,
    Registry,
    open_registry,
    verify_proof_bundle,
)

__all__ = [
    "APPEND_CHUNK",
    "AuditReport",
    "Entry",
    "PinnedCheck",
    "Registry",
    "open_registry",
    "verify_proof_bundle",
]
