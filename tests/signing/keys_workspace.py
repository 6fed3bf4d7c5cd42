"""A small workspace for the activation, reset and import tests: the example roster (8 people,
11 letters), the CA, generated letters, nobody's key issued yet. Built once, copied per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from docx import Document

from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from docgen.roster.example import example_roster_yaml
from docgen.signing.ca import init_ca
from tests.signed_year import CA_PASSPHRASE, GENERATED_AT, INSTITUTION, YEAR

CA_SECRET = CA_PASSPHRASE.secret.decode()
CODE_LINE_LENGTH = 24  # 20 characters in five groups of four


def build_unissued(root: Path) -> Workspace:
    init_workspace(
        root, institution=INSTITUTION, year=YEAR, roster_yaml=example_roster_yaml(INSTITUTION)
    )
    ws = find_workspace(root)
    ca = init_ca(ws.keys_dir, institution=INSTITUTION, passphrase=CA_PASSPHRASE, now=GENERATED_AT)
    with open_registry(ws) as registry:
        registry.append(list(ca.records), now=GENERATED_AT)
    generate(ws, YEAR, now=GENERATED_AT)
    return ws


def copy_of(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


@contextmanager
def env(**values: str | None) -> Iterator[None]:
    """Set (or, with ``None``, unset) environment variables for the duration."""
    before = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def sheet_codes(path: Path) -> dict[str, str]:
    """Person id → activation code, read from the printed sheets as a person would read them."""
    codes: dict[str, str] = {}
    person: str | None = None
    lines = [p.text.strip() for p in Document(str(path)).paragraphs]
    for index, text in enumerate(lines):
        if text.startswith("人员编号:"):
            person = text.removeprefix("人员编号:")
        if text == "激活码:" and person is not None:
            codes[person] = lines[index + 1]
    return codes
