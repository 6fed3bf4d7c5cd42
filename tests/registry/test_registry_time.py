"""Registry time only moves forward: an insider cannot back-date an entry (e.g. a signature
made with a key revoked since) by setting an earlier clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docgen.core.errors import ValidationError
from docgen.core.workspace import config_text, find_workspace
from docgen.registry import open_registry

T0 = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


def test_an_earlier_time_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "docgen.toml").write_text(config_text("测试院", 2027), encoding="utf-8")
    ws = find_workspace(tmp_path)
    record = {"type": "void", "doc_id": "2027-ZR-A-B", "reason": "测试", "replaced_by": None}
    with open_registry(ws) as registry:
        registry.append([record], now=T0)
        registry.append([record], now=T0)  # the same second is fine
        with pytest.raises(ValidationError, match="早于登记簿最后一条记录的时间"):
            registry.append([record], now=T0 - timedelta(seconds=1))
        assert registry.size() == 2
        registry.append([record], now=T0 + timedelta(days=1))
        assert registry.size() == 3
        assert registry.audit().ok
