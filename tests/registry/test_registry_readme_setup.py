"""The README's steps for a shared PostgreSQL registry, followed literally (issue #17).

On a server of its own that asks for passwords (SCRAM) and speaks SSL over TCP, as Debian's
``postgresql`` package sets up its cluster: ``createdb``, ``docgen registry setup-db`` as the
superuser, a password per institution's role, then each institution with the password in
``~/.pgpass`` (or ``PGPASSWORD``) and ``sslmode=require`` in ``DOCGEN_DATABASE_URL``. ``sudo -u
postgres`` becomes ``-U postgres`` with the superuser's password, and ``dbhost:5432`` becomes the
test server's ``127.0.0.1`` and port; every command is the README's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import Cluster
from registry_support import pg_bin_dir

pytestmark = pytest.mark.postgres

SUPERUSER_PASSWORD = "postgres-口令-test"


@pytest.fixture(scope="module")
def server() -> Iterator[Cluster]:
    if pg_bin_dir() is None:
        pytest.skip("未找到 PostgreSQL 服务器程序(initdb、pg_ctl),跳过 PostgreSQL 测试")
    pytest.importorskip("psycopg", reason="未安装 psycopg,跳过 PostgreSQL 测试")
    own = Cluster(Path(tempfile.mkdtemp(prefix="docgen-pg-readme-")), password=SUPERUSER_PASSWORD)
    own.start()
    yield own
    own.destroy()


def _run(
    args: list[str], env: dict[str, str], *, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done


def _docgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "docgen", *args]


def test_the_readme_steps_on_a_fresh_server(server: Cluster, tmp_path: Path) -> None:
    bin_dir = pg_bin_dir()
    assert bin_dir is not None
    host = ["-h", "127.0.0.1", "-p", str(server.port)]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCGEN_", "PG"))}
    base.update(PYTHONDONTWRITEBYTECODE="1", DOCGEN_PDF="0")
    admin = {**base, "PGPASSWORD": SUPERUSER_PASSWORD}
    where = f"127.0.0.1:{server.port}"

    # 1. The database.
    _run([str(bin_dir / "createdb"), *host, "-U", "postgres", "docgen"], admin)
    # 2. The roles and each institution's log.
    made = _run(
        _docgen(
            "registry",
            "setup-db",
            "--owner",
            "docgen_owner",
            "--office",
            "qingcheng",
            "--office",
            "huanxian",
            "--auditor",
            "jiwei",
        ),
        {**admin, "DOCGEN_DATABASE_URL": f"postgresql://postgres@{where}/docgen?sslmode=require"},
    )
    assert "已建立模式 qingcheng" in made.stdout and "已建立模式 huanxian" in made.stdout
    # 3. A password for each role.
    for role, password in (("qingcheng", "庆城-口令"), ("huanxian", "环县-口令")):
        _run(
            [
                str(bin_dir / "psql"),
                *host,
                "-U",
                "postgres",
                "-d",
                "docgen",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f"ALTER ROLE {role} PASSWORD '{password}'",
            ],
            admin,
        )

    # 4. 庆城: the password in ~/.pgpass (mode 0600), sslmode=require.
    home = tmp_path / "home"
    home.mkdir()
    pgpass = home / ".pgpass"
    pgpass.write_text(f"127.0.0.1:{server.port}:docgen:qingcheng:庆城-口令\n", encoding="utf-8")
    pgpass.chmod(0o600)
    qingcheng_url = f"postgresql://qingcheng@{where}/docgen?sslmode=require"
    office = {**base, "HOME": str(home), "DOCGEN_DATABASE_URL": qingcheng_url}
    _run(_docgen("init", str(tmp_path / "qc"), "--institution", "庆城县人民检察院"), office)
    generated = _run(_docgen("generate", "-w", str(tmp_path / "qc")), office)
    assert "Traceback" not in generated.stderr
    audited = _run(_docgen("registry", "audit", "-w", str(tmp_path / "qc")), office)
    assert "✓ 登记簿审计通过" in audited.stdout

    import psycopg

    with psycopg.connect(qingcheng_url, passfile=str(pgpass)) as conn:
        assert conn.pgconn.ssl_in_use  # sslmode=require: encrypted
        (schema,) = conn.execute("SELECT current_schema()").fetchone()  # type: ignore[misc]
        assert schema == "qingcheng"  # "$user" in the default search_path

    # 5. 环县: the password in PGPASSWORD.
    huanxian = {
        **base,
        "PGPASSWORD": "环县-口令",
        "DOCGEN_DATABASE_URL": f"postgresql://huanxian@{where}/docgen?sslmode=require",
    }
    _run(_docgen("init", str(tmp_path / "hx"), "--institution", "环县人民检察院"), huanxian)
    _run(_docgen("generate", "-w", str(tmp_path / "hx")), huanxian)

    # No password anywhere: one Chinese line, exit 1.
    bare = {**base, "HOME": str(tmp_path), "DOCGEN_DATABASE_URL": qingcheng_url}
    refused = _run(_docgen("status", "-w", str(tmp_path / "qc")), bare, ok=False)
    assert refused.returncode == 1, refused.stderr
    assert "没有提供口令" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    # A role given no schema of its own meets PostgreSQL 15's "no CREATE on public", explained.
    _run(
        [
            str(bin_dir / "psql"),
            *host,
            "-U",
            "postgres",
            "-d",
            "docgen",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "CREATE ROLE stray LOGIN PASSWORD 'stray-pw'",
        ],
        admin,
    )
    stray = {
        **base,
        "PGPASSWORD": "stray-pw",
        "DOCGEN_DATABASE_URL": f"postgresql://stray@{where}/docgen?sslmode=require",
    }
    _run(_docgen("init", str(tmp_path / "stray"), "--institution", "某县人民检察院"), stray)
    lost = _run(_docgen("generate", "-w", str(tmp_path / "stray")), stray, ok=False)
    assert lost.returncode == 2
    assert "public 模式不许普通账号建表" in lost.stderr
    assert "docgen registry setup-db --office stray" in lost.stderr
