"""The proof-bundle writer gives exactly the bytes of the standard JSON encoder."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.jsontext import dumps_indented
from docgen.proofs import proof_bytes

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _reference(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json, max_size=6))
def test_proof_bytes_match_json_dumps(data: dict[str, Any]) -> None:
    assert proof_bytes(data) == _reference(data)


def test_bundle_shape_matches_json_dumps() -> None:
    checkpoint = "某县人民检察院/党风廉政建设登记簿\n12\nq83l0lg=\n\n— key AbCd\u2028\n"
    entry = {
        "checkpoint": checkpoint,
        "entry": '{"type": "document", "doc_id": "DG-2026-0001", "note": "引号\\"与\\\\"}',
        "format": "docgen-proof-v1",
        "inclusion_proof": ["00ff" * 16, "a1" * 32],
        "index": 7,
        "leaf_hash": "ab" * 32,
        "tree_size": 12,
        "verifier_key": "某县+1234+AQID",
    }
    data = {
        "format": "docgen-letter-proof-v1",
        "doc_id": "DG-2026-0001",
        "verifier_key": "某县+1234+AQID",
        "checkpoint": checkpoint,
        "entries": [entry, {**entry, "inclusion_proof": [], "index": 0}],
    }
    assert proof_bytes(data) == _reference(data)
    assert proof_bytes({**data, "entries": []}) == _reference({**data, "entries": []})


@settings(max_examples=200, deadline=None)
@given(_json, st.integers(min_value=1, max_value=4), st.booleans(), st.sampled_from(["", "    "]))
def test_indented_text_matches_json_dumps(
    data: Any, indent: int, sort_keys: bool, prefix: str
) -> None:
    """The manifest's form (indent 2, keys in insertion order, nested under a prefix) as well."""
    expected = json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=sort_keys)
    text = dumps_indented(data, indent=indent, sort_keys=sort_keys, newline="\n" + prefix)
    assert text == expected.replace("\n", "\n" + prefix)
