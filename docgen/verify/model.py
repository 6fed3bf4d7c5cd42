"""What the verification of letters works on and gives: its size limits and file suffixes, the
files of a letter as read, the trust anchors, and the frozen results of the steps, of a letter and
of a container check.

Every other module of ``docgen.verify`` reads or builds these, and :mod:`docgen.verify.derived`
renders archived letters from ``LetterReport``: kept apart, they import nothing of the package.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization

MIB = 1 << 20
MAX_LETTER_BYTES = 50 * MIB
MAX_SIGNATURE_BYTES = 1 * MIB
MAX_PROOF_BYTES = 1 * MIB
MAX_CHECKPOINT_BYTES = 64 * 1024
MAX_ANCHOR_BYTES = 8 * MIB
MAX_MANIFEST_BYTES = 32 * MIB  # an archive's file list, read whole
# A year's manifest.json is ≈ 1.4 KiB per letter (150 MB at 10⁵ letters) and is read a piece at
# a time, keeping only what it needs: this bounds the time spent, not the memory.
MAX_YEAR_MANIFEST_BYTES = 2048 * MIB
MAX_PROOF_ENTRIES = 1000
# An archive's log/entries.jsonl holds every entry of the registry up to its checkpoint:
# ≈ 400 bytes an entry, 4·10⁵ entries (160 MB) for a year of 10⁵ letters.
MAX_LOG_BYTES = 1024 * MIB

PROOF_SUFFIX = ".proof.json"
PDF_SUFFIX = ".pdf"  # a letter's PDF rendition: <stem>.pdf beside <stem>.docx
SIGNATURE_SUFFIX = ".p7s"
LETTER_SUFFIX = ".docx"
DEFAULT_TOLERANCE = timedelta(seconds=600)

PARTY_LABELS = {"superior": "甲方", "subordinate": "乙方"}


class LetterStatus(StrEnum):
    VERIFIED = "verified"
    FAILED = "failed"
    INCOMPLETE = "incomplete"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return {
            LetterStatus.VERIFIED: "验证通过",
            LetterStatus.FAILED: "验证失败",
            LetterStatus.INCOMPLETE: "签名不全",
            LetterStatus.VOIDED: "已作废",
        }[self]


@dataclass(frozen=True)
class StepResult:
    number: int
    name: str
    ok: bool
    detail: str
    skipped: bool = False  # not run because something it needs failed earlier
    file: str | None = None  # the file found at fault, if one

    @property
    def mark(self) -> str:
        return "–" if self.skipped else ("✓" if self.ok else "✗")


@dataclass(frozen=True)
class CheckResult:
    """A check of a whole container (archive, directory, registry), not of one letter.

    ``unknown``: the check could not be made (say, a folder's completeness with no registry to
    prove it against); it is not passed, and never shown as ✓. ``warning``: passed, with
    something the user should know (say, the newest CRL has expired)."""

    name: str
    ok: bool
    detail: str
    file: str | None = None
    warning: bool = False
    unknown: bool = False

    @property
    def mark(self) -> str:
        if self.unknown:
            return "?"
        if not self.ok:
            return "✗"
        return "!" if self.warning else "✓"

    @property
    def state(self) -> str:
        """``passed``, ``warning``, ``failed`` or ``unknown`` (for ``--json``)."""
        if self.unknown:
            return "unknown"
        if not self.ok:
            return "failed"
        return "warning" if self.warning else "passed"


@dataclass(frozen=True)
class Party:
    party: str  # "superior" | "subordinate"
    id: str
    name: str
    title: str


@dataclass(frozen=True)
class SignatureInfo:
    """What a registered signature says, once its entry is proved to be in the registry."""

    signer: str
    name: str
    party: str
    path: str
    p7s_sha256: str
    cert_fingerprint: str
    cert_serial: str
    signing_time: str
    recorded_at: str
    registry_index: int


@dataclass(frozen=True)
class PdfInfo:
    """A letter's PDF rendition once step 9 found it as registered: its path beside the .docx,
    its SHA-256 (the registered rendition's, or the PDF its last registered signature produced)
    and the parties who signed it, in signing order."""

    path: str
    sha256: str
    signed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoidInfo:
    reason: str
    replaced_by: str | None
    recorded_at: str
    registry_index: int


@dataclass(frozen=True)
class LetterReport:
    doc_id: str | None
    path: str
    steps: tuple[StepResult, ...]
    status: LetterStatus
    kind: str | None = None
    title: str | None = None
    year: int | None = None
    sha256: str | None = None
    registry_index: int | None = None
    recorded_at: str | None = None
    parties: tuple[Party, ...] = ()
    signatures: tuple[SignatureInfo, ...] = ()
    missing: tuple[Party, ...] = ()
    void: VoidInfo | None = None
    pdf: PdfInfo | None = None  # the PDF rendition, checked (step 9 passed with a PDF)
    # the log checkpoints its proofs verified against (a required witness must cover each)
    checkpoints: tuple[str, ...] = ()

    @property
    def failed_steps(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if not s.ok and not s.skipped)


@dataclass(frozen=True)
class TrustAnchors:
    """What a verifier must already trust: the CA, its CRL, and the registry's verifier key."""

    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList
    verifier_key: str
    tolerance: timedelta = DEFAULT_TOLERANCE
    crl_name: str = "crl.pem"  # where the CRL came from, to name it in a report

    @property
    def ca_fingerprint(self) -> str:
        return _ca_fingerprint(self.ca_cert)


@functools.lru_cache(maxsize=16)  # shown for every letter; certificates hash by their DER
def _ca_fingerprint(ca_cert: x509.Certificate) -> str:
    return hashlib.sha256(ca_cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class Blob:
    """The bytes of one input file, or why they could not be read."""

    path: str
    data: bytes | None
    problem: str | None = None


@dataclass(frozen=True)
class LetterFiles:
    path: str  # the .docx, as shown to the user
    docx: Blob
    proof: Blob
    signatures: tuple[tuple[str, Blob], ...] = ()  # (signer id from the file name, file)
    pdf: Blob | None = None  # the PDF rendition beside the .docx (same stem), when there is one


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 50_000
    max_member_bytes: int = MAX_LETTER_BYTES
    max_log_bytes: int = MAX_LOG_BYTES  # log/entries.jsonl: every entry of the registry
    max_total_bytes: int = 2 * 1024 * MIB
    max_ratio: int = 100
    ratio_floor_bytes: int = MIB  # members smaller than this are not judged by their ratio
