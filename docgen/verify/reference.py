"""The workspace's registry as the verifier's reference, read only: the log a year folder is
compared with (every entry up to its latest checkpoint, hashed again, see
:mod:`docgen.verify.log`) and the registered CRLs signatures are judged by.

Used when ``docgen verify`` runs in a workspace (or with ``--online``): a year folder's
completeness is proved against the registry, and every signature is judged against the CRLs the
registry held when it was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography import x509

from docgen.core.errors import VerificationError
from docgen.registry import Registry
from docgen.registry.bundle import verified_checkpoint
from docgen.registry.entries import RECORD_TYPES
from docgen.verify.crls import CrlHistory, crl_history
from docgen.verify.log import LogScan, log_check, scan_log
from docgen.verify.model import CheckResult


def registry_entries(registry: Registry, size: int) -> Iterator[tuple[int, bytes]]:
    """``(index, exact bytes)`` of the registry's entries ``0 … size - 1``, in order (a gap —
    an entry of a type this program does not know — shows as one when they are scanned)."""
    for index, data in registry.entry_data(types=tuple(RECORD_TYPES)):
        if index >= size:
            return
        yield index, data


@dataclass(frozen=True)
class RegistryLog:
    """The registry's log up to its latest checkpoint, scanned, and whether it is that log."""

    scan: LogScan
    checkpoint: bytes
    check: CheckResult


def scan_registry(registry: Registry, verifier_key: str, years: Iterable[int]) -> RegistryLog:
    """Read and hash every entry up to the registry's latest checkpoint (in one read
    transaction), keeping the letters of ``years`` and the CRL and revocation entries."""
    with registry.snapshot():
        note = registry.checkpoint()
        try:
            size = verified_checkpoint(note, verifier_key).size
        except VerificationError as exc:
            check = CheckResult(
                "登记簿条目",
                False,
                f"登记簿的检查点不能用给出的登记簿验证公钥验证:{exc.diagnostics()}",
                registry.location,
            )
            return RegistryLog(LogScan(), note, check)
        scan = scan_log(registry_entries(registry, size), years=years)
    return RegistryLog(scan, note, log_check(scan, note, verifier_key, registry.location))


def registry_history(registry: Registry, ca_cert: x509.Certificate) -> CrlHistory:
    """The registered CRLs and revocations (read by type: a handful of entries)."""
    with registry.snapshot():
        crls = [(e.index, e.record) for e in registry.entries(type="crl")]
        revocations = [(e.index, e.record) for e in registry.entries(type="revocation")]
    return crl_history(crls, revocations, ca_cert)


def scan_history(scan: LogScan, ca_cert: x509.Certificate, source: str) -> CrlHistory:
    """The registered CRLs and revocations of a scanned log."""
    return crl_history(scan.crls, scan.revocations, ca_cert, source=source)
