"""Shared fixtures: workspaces built from the demo roster, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

NOW = datetime(2027, 1, 5, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def demo_workspace(tmp_path: Path) -> Path:
    """A fresh workspace holding the fictional demo roster (about 45 people)."""
    from docgen.demo_data import demo_roster_yaml
    from docgen.workspace_init import init_workspace

    root = tmp_path / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=2027, roster_yaml=demo_roster_yaml())
    return root
