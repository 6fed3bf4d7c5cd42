"""Shared fixtures: workspaces built from the demo roster, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from docgen.core import pkcs8

NOW = datetime(2027, 1, 5, 9, 0, 0, tzinfo=UTC)

# Keys made in this process — fixtures, in-process commands — are encrypted with scrypt at
# N = 2^6 (64 KiB, ≈ 1 ms, as the old PBKDF2 keys cost) instead of docgen's default N = 2^17
# (128 MiB, ≈ 0.5 s per key and again per unlock), or the suite would spend minutes deriving
# keys. Same format, same code; tests/signing/test_key_kdf.py checks the default itself
# (PRODUCTION_KDF), and commands run as separate processes (the wheel's demo, the umask test)
# use it.
PRODUCTION_KDF = pkcs8.SCRYPT_DEFAULT
TEST_KDF = pkcs8.ScryptCost(n=2**6, r=8, p=1)


@pytest.fixture(scope="session", autouse=True)
def light_kdf() -> Iterator[None]:
    with pkcs8.scrypt_cost(TEST_KDF):
        yield


@pytest.fixture(scope="session", autouse=True)
def no_pdf_renditions() -> Iterator[None]:
    """``docgen generate`` makes no PDF renditions in the suite: LibreOffice would add seconds to
    every generate. tests/letters/test_rendition*.py turn them on (DOCGEN_PDF unset)."""
    previous = os.environ.get("DOCGEN_PDF")
    os.environ["DOCGEN_PDF"] = "0"
    yield
    if previous is None:
        os.environ.pop("DOCGEN_PDF", None)
    else:
        os.environ["DOCGEN_PDF"] = previous


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def demo_workspace(tmp_path: Path) -> Path:
    """A fresh workspace holding the fictional demo roster (about 45 people)."""
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import demo_roster_yaml

    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=2027, roster_yaml=demo_roster_yaml())
    return root


PASSPHRASE = "演示口令-for-tests-2027"


@pytest.fixture(scope="session")
def keyed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace with letters generated and every person's key issued (built once)."""
    from docgen.core.workspace import find_workspace
    from docgen.demo.run import setup_keys
    from docgen.letters.generate import generate
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import demo_roster_yaml
    from docgen.signing.passphrase import Passphrase

    root = tmp_path_factory.mktemp("keyed") / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=2027, roster_yaml=demo_roster_yaml())
    ws = find_workspace(root)
    generate(ws, 2027, now=NOW)
    setup_keys(ws, Passphrase(PASSPHRASE.encode(), "测试"), now=NOW)
    return root


@pytest.fixture
def keyed_workspace(keyed_template: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`keyed_template` that a test may change."""
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(keyed_template, root)
    return root


@pytest.fixture(scope="session")
def signed_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small signed year of :mod:`tests.signed_year` (8 people, 11 letters), built once per
    session for the modules that copy it (``copy_workspace``) before changing anything."""
    from tests.signed_year import build_workspace

    root = tmp_path_factory.mktemp("signed-year") / "ws"
    build_workspace(root)
    return root
