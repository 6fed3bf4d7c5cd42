"""The regulation's own words, for tests that quote the article they implement."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SEED = Path(__file__).parent / "data" / "实施办法.txt"


@cache
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def quote(words: str) -> str:
    """``words``, after checking that the regulation says exactly that."""
    assert words in seed_text(), f"not in 实施办法.txt: {words}"
    return words
