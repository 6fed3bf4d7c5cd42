"""Rendering micro-benchmark: one process, no files, no registry.

Usage::

    python benchmarks/bench_render.py [--people 2000] [--letters 2000] [--plain 200]

Builds a synthetic roster (``make_roster.py``: awkward names included), and times, in this
process only:

* reading the roster YAML with PyYAML's pure-Python ``SafeLoader`` and with the loader the
  roster readers use (``docgen.roster.tree_reader.YAML_LOADER``: ``CSafeLoader`` when libyaml is
  present), in ms per person;
* ``docgen.letters.render.render_letter`` (the plain docxtpl path, the reference) on ``--plain``
letters;
* ``CompiledTemplate.render`` on ``--letters`` letters (compiling the three templates is timed
  separately), and checks that a sample of its letters is byte-identical to the plain path.

The letters are taken evenly from the whole list of pairings, so the mix of kinds and tiers is
the same as in a full run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_roster import make_roster_yaml

from docgen.core.glossary import LetterKind
from docgen.core.workspace import PairingOptions
from docgen.letters.fastrender import CompiledTemplate
from docgen.letters.generate import letter_context
from docgen.letters.render import load_template, render_letter
from docgen.records.letter_code import RegistryIdentity
from docgen.roster import stream_reader, tree_reader
from docgen.roster.hierarchy import build_pairings
from docgen.roster.load import parse_roster_text

YEAR = 2027
# The registry each letter's QR code and 核验码 name (a fixed one: no key is needed to render).
IDENTITY = RegistryIdentity("bench.example/docgen", bytes.fromhex("00c0ffee"))


def _per_item_ms(seconds: float, items: int) -> float:
    return seconds / max(items, 1) * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--plain", type=int, default=200)
    args = parser.parse_args(argv)

    text = make_roster_yaml(args.people)
    rows: list[tuple[str, int, float]] = []
    # Both readers compose with the loader class; each module holds its own reference to it.
    readers = (tree_reader, stream_reader)
    used = tree_reader.YAML_LOADER
    for loader in dict.fromkeys((yaml.SafeLoader, used)):
        for reader in readers:
            reader.YAML_LOADER = loader
        start = time.perf_counter()
        roster, problems, _ = parse_roster_text(text, "bench.yaml")
        rows.append(
            (
                f"roster YAML, {loader.__name__}",
                len(roster.people) if roster else 0,
                time.perf_counter() - start,
            )
        )
    for reader in readers:
        reader.YAML_LOADER = used
    assert roster is not None and not problems

    pairings = build_pairings(roster, YEAR, PairingOptions()).pairings
    institution = roster.institution

    def sample(count: int) -> list[tuple[LetterKind, dict[str, Any]]]:
        step = max(1, len(pairings) // max(count, 1))
        chosen = list(pairings[::step])[:count]
        return [
            (
                p.kind,
                letter_context(p, roster, institution, f"{p.kind.code}-{YEAR}-{i:06d}", IDENTITY),
            )
            for i, p in enumerate(chosen)
        ]

    templates = {kind: load_template(None, kind) for kind in {p.kind for p in pairings}}
    plain = sample(args.plain)
    start = time.perf_counter()
    reference = [render_letter(templates[kind], ctx, year=YEAR) for kind, ctx in plain]
    rows.append(("render_letter (docxtpl)", len(plain), time.perf_counter() - start))

    start = time.perf_counter()
    compiled = {k: CompiledTemplate.from_bytes(t, year=YEAR) for k, t in templates.items()}
    rows.append(("compile templates (once)", len(compiled), time.perf_counter() - start))

    fast = sample(args.letters)
    start = time.perf_counter()
    for kind, ctx in fast:
        compiled[kind].render(ctx)
    rows.append(("CompiledTemplate.render", len(fast), time.perf_counter() - start))

    same = all(
        compiled[kind].render(ctx) == data
        for (kind, ctx), data in zip(plain, reference, strict=True)
    )

    print(f"{'step':<40} {'items':>7} {'seconds':>8} {'ms/item':>8}")
    for name, items, seconds in rows:
        print(f"{name:<40} {items:>7} {seconds:>8.2f} {_per_item_ms(seconds, items):>8.3f}")
    for kind, template in compiled.items():
        if hasattr(template, "skeleton_stats"):
            print(f"{kind.value}: {template.skeleton_stats()}")
    print(f"fast letters byte-identical to render_letter on the plain sample: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
