"""Entries are RFC 8785 canonical JSON: docgen's fast path must equal the rfc8785 package."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.registry.entries import canonical_json

# Keys and strings from the whole of Unicode, including non-BMP characters (𠮷), characters in
# U+E000–U+FFFF (where UTF-16 and code-point order disagree with non-BMP), controls and quotes.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "𠮷"]),
    ),
    max_size=8,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_canonical_json_equals_rfc8785(value: Any) -> None:
    expected = _reference(value)
    if isinstance(expected, bytes):
        assert canonical_json(value) == expected
    else:
        with pytest.raises(expected):
            canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "𠮷": 2, "a": 3},  # UTF-16 order puts 𠮷 (D842 DFB7) before U+E000
        {"s": "lone \ud800 surrogate"},
        {"n": 2**53},
        {"n": 2**53 - 1, "m": -(2**53) + 1},
        {"f": 1e21, "g": 0.1, "h": -0.0},
        {"t": ("tuple", 1)},
        {"ctl": '\x01\x08\x0c\n\r\t"\\'},
    ],
)
def test_edge_cases_match_rfc8785(value: Any) -> None:
    expected = _reference(value)
    if isinstance(expected, bytes):
        assert canonical_json(value) == expected
    else:
        with pytest.raises(expected):
            canonical_json(value)
