"""Checking a letter's signed PDF rendition (``docgen verify``'s PDF step).

The checks live in :mod:`docgen.signing.pades_check` — ``sign import`` runs the same ones on a
PDF signed elsewhere, and ``signing`` may not import ``verify`` — and are re-exported here, where
``verify`` and its tests have always found them.
"""

from __future__ import annotations

from docgen.signing.pades_check import PdfVerdict, check_letter_pdf, check_signed_pdf

__all__ = ["PdfVerdict", "check_letter_pdf", "check_signed_pdf"]
