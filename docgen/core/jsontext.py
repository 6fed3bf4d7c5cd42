"""Indented JSON text, fast: the same bytes as ``json.dumps(..., ensure_ascii=False, indent=…)``.

The standard library's C encoder is used only without ``indent``; with it, ``json`` falls back
to pure Python. The proof bundles and the manifest are indented (people read them), and bulk
commands write 10⁵ of them, so this encoder writes the same text for the JSON types they hold —
strings escaped by the C helper, each distinct string once — and hands anything else (floats,
non-string keys) to :func:`json.dumps`.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _encode_string


def dumps_indented(
    value: object, *, indent: int, sort_keys: bool = False, newline: str = "\n"
) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys)``.

    ``newline`` is what starts each new line; pass ``"\\n" + prefix`` to indent the whole text
    by ``prefix`` (the first line excepted), as when it is nested in a larger document.
    """
    parts: list[str] = []
    _Encoder(" " * indent, sort_keys, parts).encode(value, newline)
    return "".join(parts)


class _Encoder:
    def __init__(self, step: str, sort_keys: bool, parts: list[str]) -> None:
        self.step = step
        self.sort_keys = sort_keys
        self.parts = parts
        self.strings: dict[str, str] = {}

    def encode(self, value: object, newline: str) -> None:
        parts = self.parts
        if isinstance(value, str):
            text = self.strings.get(value)
            if text is None:
                text = self.strings[value] = _encode_string(value)
            parts.append(text)
        elif value is True:
            parts.append("true")
        elif value is False:
            parts.append("false")
        elif value is None:
            parts.append("null")
        elif type(value) is int:
            parts.append(int.__repr__(value))
        elif isinstance(value, dict) and all(isinstance(key, str) for key in value):
            if not value:
                parts.append("{}")
                return
            inner = newline + self.step
            separator = "{" + inner
            for key in sorted(value) if self.sort_keys else value:
                parts.append(separator)
                self.encode(key, inner)
                parts.append(": ")
                self.encode(value[key], inner)
                separator = "," + inner
            parts.append(newline + "}")
        elif isinstance(value, list):
            if not value:
                parts.append("[]")
                return
            inner = newline + self.step
            separator = "[" + inner
            for item in value:
                parts.append(separator)
                self.encode(item, inner)
                separator = "," + inner
            parts.append(newline + "]")
        else:
            text = json.dumps(
                value, ensure_ascii=False, indent=len(self.step), sort_keys=self.sort_keys
            )
            parts.append(text.replace("\n", newline))
