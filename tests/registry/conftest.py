"""Registry fixtures: workspaces, and a real PostgreSQL server started for the test session."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from registry_support import PostgresServer, free_port, pg_bin_dir

from docgen.core.workspace import Workspace
from docgen.registry import Registry, open_registry

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``-m postgres`` selects every test that needs the PostgreSQL server: the parametrised
    backends carry the mark, and so does each test that asks for the server itself."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip("未找到 PostgreSQL 服务器程序(initdb、pg_ctl),跳过 PostgreSQL 测试")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("未安装 psycopg,跳过 PostgreSQL 测试")
    base = Path(tempfile.mkdtemp(prefix="docgen-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the server as an unprivileged user.
        user = pwd.getpwnam("nobody")
        os.chown(base, user.pw_uid, user.pw_gid)
        runuser = shutil.which("runuser")
        setpriv = shutil.which("setpriv")
        if runuser:
            run_as = [runuser, "-u", "nobody", "--"]
        elif setpriv:
            run_as = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        else:
            pytest.skip("以 root 运行且没有 runuser/setpriv,无法启动 PostgreSQL")
    data = base / "data"
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True, env=env, cwd=base,
    )  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses='' -c fsync=off -c max_connections=50"
    subprocess.run(
        [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
         "-o", options, "-w", "-t", "60", "start"],
        check=True, capture_output=True, env=env, cwd=base,
    )  # fmt: skip
    try:
        yield PostgresServer(base, port)
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, env=env, cwd=base,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


RegistryFactory = Callable[[Workspace], Registry]


@pytest.fixture
def database_url_factory(request: pytest.FixtureRequest, backend: str) -> Callable[[], str | None]:
    """Returns a function giving a fresh database for the backend (None = SQLite file)."""
    if backend == "sqlite":
        return lambda: None
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database_url


@pytest.fixture
def open_store(
    database_url_factory: Callable[[], str | None],
) -> Iterator[Callable[..., Registry]]:
    """Open a workspace's registry on the parametrised backend; each workspace gets its own DB."""
    urls: dict[Path, str | None] = {}
    opened: list[Registry] = []

    def factory(ws: Workspace, **kwargs: object) -> Registry:
        if ws.root not in urls:
            urls[ws.root] = database_url_factory()
        url = urls[ws.root]
        reg = open_registry(ws, database_url=url or "", **kwargs)  # type: ignore[arg-type]
        opened.append(reg)
        return reg

    factory.urls = urls  # type: ignore[attr-defined]
    yield factory
    for reg in opened:
        reg.close()
