"""Session fixtures for the test PKI (one per algorithm) and a fresh keys directory per test.

Test modules load them with ``pytest_plugins = ("pki_fixtures",)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pki_support import (
    CERT_DAYS,
    INSTITUTION,
    ISSUED_AT,
    VALID,
    Pki,
    build_pki,
    ca_passphrase,
    make_roster,
    person_passphrase,
)

from docgen.signing.ca import init_ca
from docgen.signing.certificates import issue_certificates
from docgen.signing.x509util import Algorithm


@pytest.fixture(scope="session", params=list(Algorithm), ids=lambda a: a.value)
def issued_pki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Pki:
    algorithm: Algorithm = request.param
    return build_pki(tmp_path_factory.mktemp(f"pki-{algorithm.value}"), algorithm)


@pytest.fixture(scope="session")
def foreign_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Another CA with the very same institution name and CA common name."""
    return build_pki(tmp_path_factory.mktemp("pki-foreign"), Algorithm.ECDSA_P256)


@pytest.fixture
def fresh_keys(tmp_path: Path) -> Iterator[Path]:
    """A keys directory with a new ECDSA CA and P001 issued, for tests that change files."""
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir(mode=0o700)
    init_ca(keys_dir, institution=INSTITUTION, passphrase=ca_passphrase(), now=ISSUED_AT)
    issue_certificates(
        keys_dir,
        make_roster(),
        [VALID],
        institution=INSTITUTION,
        ca_passphrase=ca_passphrase(),
        passphrase=person_passphrase(),
        now=ISSUED_AT,
        days=CERT_DAYS,
    )
    yield keys_dir
