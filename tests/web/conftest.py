"""Fixtures of the signing page's tests: a small year (8 people, 11 letters), unsigned, built
once per session with the real pipeline; each test that changes it works on its own copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.core.workspace import Workspace
from tests.signed_year import build_workspace, copy_workspace


@pytest.fixture(scope="session")
def unsigned_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-unsigned") / "ws"
    build_workspace(root, sign=False)
    return root


@pytest.fixture
def web_ws(unsigned_year: Path, tmp_path: Path) -> Workspace:
    """A private copy of the unsigned year, with the staff passwords set."""
    from web_support import STAFF_PASSWORD

    from docgen.web.logins import set_password

    ws = copy_workspace(unsigned_year, tmp_path / "ws")
    set_password(ws, "office", STAFF_PASSWORD)
    set_password(ws, "auditor", STAFF_PASSWORD + "-纪检")
    return ws
