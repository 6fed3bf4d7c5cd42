"""The proof-bundle writer gives exactly the bytes of the standard JSON encoder."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.core.jsontext import dumps_indented
from docgen.records.proofs import letter_proof_bytes, letter_proof_from_bundles, proof_bytes

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


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_bundle = st.fixed_dictionaries(
    {
        "checkpoint": _text,
        "entry": _text,
        "format": _text,
        "inclusion_proof": st.lists(_text, max_size=3),
        "index": st.integers(min_value=0),
        "leaf_hash": _text,
        "tree_size": st.integers(min_value=0),
        "verifier_key": _text,
    }
)


@settings(max_examples=200, deadline=None)
@given(_text, _text, st.lists(_bundle, min_size=1, max_size=3))
def test_letter_proof_bytes_match_the_general_encoder(
    doc_id: str, key: str, bundles: list[dict[str, Any]]
) -> None:
    expected = _reference(letter_proof_from_bundles(doc_id, key, bundles))
    assert letter_proof_bytes(doc_id, key, bundles) == expected


def test_letter_proof_bytes_of_another_shape_fall_back() -> None:
    odd = {"checkpoint": "c", "entry": "e", "format": "f", "inclusion_proof": [], "index": True,
           "leaf_hash": "h", "tree_size": 1, "verifier_key": "k", "extra": 1.5}  # fmt: skip
    expected = _reference(letter_proof_from_bundles("d", "k", [odd]))
    assert letter_proof_bytes("d", "k", [odd]) == expected
