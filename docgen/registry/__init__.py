"""The verifiable registry: an append-only Merkle transparency log with signed checkpoints."""

from docgen.registry.audit import AuditReport
from docgen.registry.bundle import verify_proof_bundle
from docgen.registry.entries import Entry
from docgen.registry.replay import PinnedReplay
from docgen.registry.store import (
    APPEND_CHUNK,
    PinnedCheck,
    Registry,
    SchemaSetup,
    init_schema,
    open_registry,
)

__all__ = [
    "APPEND_CHUNK",
    "AuditReport",
    "Entry",
    "PinnedCheck",
    "PinnedReplay",
    "Registry",
    "SchemaSetup",
    "init_schema",
    "open_registry",
    "verify_proof_bundle",
]
