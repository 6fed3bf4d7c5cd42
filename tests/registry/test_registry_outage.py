"""A PostgreSQL server that goes away: restarted in the middle of an append, or stopped (#17).

Real server of the test's own (:mod:`pg_cluster`), real ``python -m docgen`` processes. A restart
inside the append transaction (``pg_ctl restart`` run from the hook that signs the checkpoint)
cuts the connection before COMMIT: docgen reconnects with backoff, redoes the append, and the
command succeeds with every signature registered once and nothing on disk unregistered. A stopped
server gives one Chinese line naming the database (no libpq English) and exit code 1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import Cluster
from registry_support import pg_bin_dir

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from tests.signed_year import SIGNED_AT, YEAR, build_workspace

pytestmark = pytest.mark.postgres

PASSPHRASE = "person-test-passphrase"

# Runs docgen; the first time a checkpoint for a non-empty tree is signed (inside the append
# transaction) the server is restarted, so that transaction's connection is gone.
HARNESS = r"""
import json, os, subprocess, sys
command = json.loads(os.environ["DOCGEN_TEST_RESTART"])
done = [False]
import docgen.registry.store as store
real_sign = store.sign_checkpoint
def sign_checkpoint(checkpoint, signer):
    if checkpoint.size > 0 and not done[0]:
        done[0] = True
        subprocess.run(command, check=True, capture_output=True)
    return real_sign(checkpoint, signer)
store.sign_checkpoint = sign_checkpoint
from docgen.cli import main
sys.argv = ["docgen", *sys.argv[1:]]
main()
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if pg_bin_dir() is None:
        pytest.skip("未找到 PostgreSQL 服务器程序(initdb、pg_ctl),跳过 PostgreSQL 测试")
    pytest.importorskip("psycopg", reason="未安装 psycopg,跳过 PostgreSQL 测试")
    # Not under pytest's own temporary folder: the server runs as nobody, who cannot enter it.
    own = Cluster(Path(tempfile.mkdtemp(prefix="docgen-pg-outage-")))
    own.start()
    yield own
    own.destroy()


def _workspace(cluster: Cluster, root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = cluster.server.new_database_url()
    monkeypatch.setenv("DOCGEN_DATABASE_URL", url)
    build_workspace(root, sign=False)
    monkeypatch.delenv("DOCGEN_DATABASE_URL")
    return url


def _docgen(
    root: Path, url: str, *args: str, restart: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCGEN_")}
    env.update(
        DOCGEN_DATABASE_URL=url, DOCGEN_NOW=SIGNED_AT.isoformat(), DOCGEN_PASSPHRASE=PASSPHRASE,
        DOCGEN_PDF="0", PYTHONDONTWRITEBYTECODE="1",
    )  # fmt: skip
    prefix = ["-m", "docgen"]
    if restart is not None:
        env["DOCGEN_TEST_RESTART"] = json.dumps(restart)
        prefix = ["-c", HARNESS]
    return subprocess.run(
        [sys.executable, *prefix, *args, "-w", str(root)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _audited(root: Path, url: str) -> list[dict[str, object]]:
    with open_registry(find_workspace(root), database_url=url) as registry:
        audit = registry.audit()
        records = [e.record for e in registry.entries()]
    assert audit.ok, audit.problems
    return records


def test_a_restart_inside_the_append_is_retried_and_the_signer_finishes(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    url = _workspace(cluster, root, monkeypatch)
    before = len(_audited(root, url))
    done = _docgen(root, url, "sign", "--as", "P001", restart=cluster.ctl_command("-m", "fast",
                   "restart"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "P001 本次签署" in done.stdout
    records = _audited(root, url)
    signed = [r for r in records[before:] if r["type"] == "signature"]
    assert signed and {r["signer"] for r in signed} == {"P001"}
    assert all(n == 1 for n in Counter(str(r["doc_id"]) for r in signed).values())
    year_dir = find_workspace(root).year_dir(YEAR)
    assert len(list(year_dir.rglob("*.P001.p7s"))) == len(signed)
    assert not list(year_dir.rglob("*.tmp"))

    again = _docgen(root, url, "sign", "--as", "P001")
    assert again.returncode == 0 and "已签署过全部" in again.stdout, again.stderr


def test_a_restart_inside_generate_is_retried(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    url = _workspace(cluster, root, monkeypatch)
    config = root / "docgen.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'institution = "庆城县人民检察院"', 'institution = "庆城县人民检察院(更名)"'
        ),
        encoding="utf-8",
    )
    done = _docgen(root, url, "generate", restart=cluster.ctl_command("-m", "fast", "restart"))
    assert done.returncode == 0, done.stdout + done.stderr
    records = _audited(root, url)
    ws = find_workspace(root)
    on_disk = {
        p.relative_to(ws.year_dir(YEAR)).as_posix() for p in ws.year_dir(YEAR).rglob("*.docx")
    }
    latest = {str(r["path"]): str(r["sha256"]) for r in records if r["type"] == "document"}
    assert on_disk == set(latest)
    verified = _docgen(root, url, "verify", "--json", str(ws.year_dir(YEAR)))
    statuses = Counter(x["status"] for x in json.loads(verified.stdout)["letters"])
    assert statuses["failed"] == 0, verified.stdout[-1500:]


def test_a_stopped_server_gives_one_chinese_line_and_exit_1(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    url = _workspace(cluster, root, monkeypatch)
    cluster.stop()
    try:
        for args in (["status"], ["sign", "--as", "P002"], ["registry", "audit"]):
            out = _docgen(root, url, *args)
            assert out.returncode == 1, (args, out.stdout, out.stderr)
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1, out.stderr
            (line,) = lines
            assert line.startswith("错误:无法连接 PostgreSQL 登记簿"), line
            assert "找不到数据库服务" in line and "已尝试 5 次" in line, line
            # No libpq English: no run of three or more ASCII words outside the URL.
            without_url = line.replace(url, "")
            assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", without_url), line
            assert "Traceback" not in out.stderr
        p7s = list(find_workspace(root).year_dir(YEAR).rglob("*.p7s"))
        assert not p7s and not list(find_workspace(root).year_dir(YEAR).rglob("*.tmp"))
    finally:
        cluster.start()
    after = _docgen(root, url, "sign", "--as", "P002")
    assert after.returncode == 0, after.stdout + after.stderr
    _audited(root, url)
