"""Signers started together without a fixed clock never fail for timing (issue #17).

Each ``docgen sign --as`` runs as its own process with the real clock (no ``DOCGEN_NOW``): the
registry time is read under the append lock, so the order of the entries is the order of their
times whoever read a clock first. Before, about one round in four lost a signer to "登记时间 …
早于登记簿最后一条记录的时间". SQLite and a real PostgreSQL server; 8 and 32 signers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docgen.core.lock import LOCK_WAIT_ENV
from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.registry.clock import registry_clock
from tests.conftest import PASSPHRASE

YEAR = 2027
PEOPLE = [f"P{n:03d}" for n in range(1, 46)]


def _build(root: Path, url: str | None) -> None:
    """A demo workspace with letters and keys made an hour ago (certificates valid now)."""
    from docgen.demo.run import setup_keys
    from docgen.letters.generate import generate
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import demo_roster_yaml
    from docgen.signing.passphrase import Passphrase

    before = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    previous = os.environ.get("DOCGEN_DATABASE_URL")
    if url:
        os.environ["DOCGEN_DATABASE_URL"] = url
    try:
        init_workspace(
            root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml()
        )
        ws = find_workspace(root)
        generate(ws, YEAR, now=before)
        setup_keys(ws, Passphrase(PASSPHRASE.encode(), "测试"), now=before)
    finally:
        if url:
            os.environ["DOCGEN_DATABASE_URL"] = previous or ""
            if previous is None:
                del os.environ["DOCGEN_DATABASE_URL"]


def _signers_with_letters(root: Path, url: str | None, count: int) -> list[str]:
    from docgen.records.state import read_year_state

    with open_registry(find_workspace(root), database_url=url or "") as registry:
        state = read_year_state(registry, YEAR)
    waiting = Counter(pid for letter in state.active() for pid in letter.party_ids().values())
    chosen = [pid for pid in PEOPLE if waiting[pid]][:count]
    assert len(chosen) == count
    return chosen


def _run_signers(root: Path, url: str | None, people: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCGEN_NOW", "DOCGEN_DATABASE_URL")}
    env.update(DOCGEN_PASSPHRASE=PASSPHRASE, PYTHONDONTWRITEBYTECODE="1", **{LOCK_WAIT_ENV: "600"})
    if url:
        env["DOCGEN_DATABASE_URL"] = url
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "docgen", "sign", "--as", pid, "-w", str(root)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pid in people
    ]
    failures = []
    for pid, proc in zip(people, procs, strict=True):
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0 or f"{pid} 本次签署" not in out:
            failures.append(f"{pid}: exit {proc.returncode}: {out[-300:]}{err[-600:]}")
    assert not failures, "\n".join(failures)


def _check(root: Path, url: str | None, people: list[str], started: datetime) -> None:
    """Every signature registered exactly once, times in order and from now, audit clean, and
    nothing left on disk that the registry does not know."""
    with open_registry(find_workspace(root), database_url=url or "") as registry:
        records = [e.record for e in registry.entries()]
        audit = registry.audit()
    assert audit.ok, audit.problems
    times = [str(r["recorded_at"]) for r in records]
    assert times == sorted(times)
    signatures = [r for r in records if r["type"] == "signature"]
    signed = Counter(str(r["signer"]) for r in signatures)
    assert set(signed) == set(people)
    pairs = Counter((str(r["doc_id"]), str(r["signer"])) for r in signatures)
    assert all(n == 1 for n in pairs.values())
    stamp = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    for record in signatures:
        assert str(record["recorded_at"]) >= stamp  # the live clock, not a fixed time
        lag = abs(
            datetime.fromisoformat(str(record["recorded_at"]).replace("Z", "+00:00"))
            - datetime.fromisoformat(str(record["signing_time"]).replace("Z", "+00:00"))
        )
        assert lag <= timedelta(seconds=60)
    p7s = {p.name for p in find_workspace(root).year_dir(YEAR).rglob("*.p7s")}
    assert len(p7s) == len(signatures)
    assert not list(find_workspace(root).year_dir(YEAR).rglob("*.tmp"))


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("live-sqlite") / "ws"
    _build(root, None)
    return root


@pytest.fixture
def copy_sqlite(sqlite_template: Path, tmp_path: Path) -> Callable[[], Path]:
    import shutil

    def copy() -> Path:
        root = tmp_path / "ws"
        shutil.copytree(sqlite_template, root)
        return root

    return copy

# 32 signers take about 40 s each here; CI runs the 8-signer cases (DOCGEN_LONG_TESTS=1 runs all).
LONG_ONLY = pytest.mark.skipif(
    os.environ.get("DOCGEN_LONG_TESTS") != "1",
    reason="长跑:设置 DOCGEN_LONG_TESTS=1 才运行 32 人同时签名(CI 运行 8 人)",
)


@pytest.mark.parametrize("count", [8, pytest.param(32, marks=[pytest.mark.slow, LONG_ONLY])])
def test_concurrent_signers_with_the_real_clock_sqlite(
    copy_sqlite: Callable[[], Path], count: int
) -> None:
    root = copy_sqlite()
    people = _signers_with_letters(root, None, count)
    started = datetime.now(UTC).replace(microsecond=0)
    _run_signers(root, None, people)
    _check(root, None, people, started)


@pytest.fixture(scope="module")
def postgres_workspaces(
    postgres_server: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], tuple[Path, str]]]:
    """Fresh workspaces on fresh schemas of the test server (one per call)."""

    def make() -> tuple[Path, str]:
        url = postgres_server.new_database_url()  # type: ignore[attr-defined]
        root = tmp_path_factory.mktemp("live-pg") / "ws"
        _build(root, url)
        return root, url

    yield make


@pytest.mark.postgres
@pytest.mark.parametrize("count", [8, pytest.param(32, marks=[pytest.mark.slow, LONG_ONLY])])
def test_concurrent_signers_with_the_server_clock_postgres(
    postgres_workspaces: Callable[[], tuple[Path, str]], count: int
) -> None:
    root, url = postgres_workspaces()
    people = _signers_with_letters(root, url, count)
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    _run_signers(root, url, people)
    _check(root, url, people, started)


def test_fixed_time_is_still_used_as_given(tmp_path: Path) -> None:
    """``live=False`` (tests, DOCGEN_NOW): the given ``now`` is the registry time, and an earlier
    one is refused, as before."""
    from registry_support import make_workspace

    ws = make_workspace(tmp_path / "ws")
    fixed = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    with open_registry(ws, live=False) as registry:
        (entry,) = registry.append([{"type": "activity", "activity_id": "a"}], now=fixed)
    assert entry.record["recorded_at"] == "2027-01-05T09:00:00Z"


def test_live_clock_ignores_a_stale_now_and_checks_signing_time(tmp_path: Path) -> None:
    """With the live clock a caller's stale ``now`` (read before a long wait for the lock) does
    not matter; a signing time far from the registry clock is refused before anything is
    written, with the Chinese message."""
    from registry_support import make_workspace

    from docgen.core.errors import ValidationError

    ws = make_workspace(tmp_path / "ws")
    real = datetime.now(UTC).replace(microsecond=0)
    with registry_clock(live=True), open_registry(ws) as registry:
        assert registry.live
        later = registry.append([{"type": "activity", "activity_id": "b"}], now=real)
        (entry,) = registry.append(
            [{"type": "activity", "activity_id": "a"}], now=real - timedelta(days=3)
        )
        assert entry.record["recorded_at"] >= later[0].record["recorded_at"]
        stale = {"type": "signature", "doc_id": "x", "signing_time": "2020-01-01T00:00:00Z"}
        with pytest.raises(ValidationError, match="签名时间 2020-01-01T00:00:00Z 与登记簿时钟"):
            registry.append([stale], now=real)
        assert registry.size() == 2
        assert registry.audit().ok


def _small_institution(root: Path, institution: str, url: str) -> None:
    """The 8-person example roster, keys made an hour ago, on the schema of ``url``."""
    from docgen.letters.generate import generate
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import example_roster_yaml
    from docgen.roster.load import load_roster
    from docgen.signing.ca import init_ca
    from docgen.signing.certificates import issue_certificates
    from docgen.signing.passphrase import Passphrase

    before = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    secret = Passphrase(PASSPHRASE.encode(), "测试")
    init_workspace(
        root, institution=institution, year=YEAR, roster_yaml=example_roster_yaml(institution)
    )
    ws = find_workspace(root)
    ca = init_ca(ws.keys_dir, institution=institution, passphrase=secret, now=before)
    issued = issue_certificates(
        ws.keys_dir, load_roster(ws.roster_path), None, institution=institution,
        ca_passphrase=secret, passphrase=secret, now=before, days=30,
    )  # fmt: skip
    with open_registry(ws, database_url=url) as registry:
        registry.append([*ca.records, *issued.records], now=before)
    previous = os.environ.get("DOCGEN_DATABASE_URL")
    os.environ["DOCGEN_DATABASE_URL"] = url
    try:
        generate(ws, YEAR, now=before)
    finally:
        if previous is None:
            del os.environ["DOCGEN_DATABASE_URL"]
        else:
            os.environ["DOCGEN_DATABASE_URL"] = previous


@pytest.mark.postgres
def test_signers_of_two_institutions_at_once_on_one_database(
    postgres_server: object, tmp_path: Path
) -> None:
    """Two institutions' logs in one database (a schema each), four signers of each started
    together with the server's clock: none fails, each log audits clean."""
    sites = []
    for name in ("庆城县人民检察院", "环县人民检察院"):
        url = postgres_server.new_database_url()  # type: ignore[attr-defined]
        root = tmp_path / name
        _small_institution(root, name, url)
        sites.append((root, url, _signers_with_letters(root, url, 4)))
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    env = {k: v for k, v in os.environ.items() if k not in ("DOCGEN_NOW", "DOCGEN_DATABASE_URL")}
    env.update(DOCGEN_PASSPHRASE=PASSPHRASE, PYTHONDONTWRITEBYTECODE="1", **{LOCK_WAIT_ENV: "600"})
    procs = [
        (pid, subprocess.Popen(
            [sys.executable, "-m", "docgen", "sign", "--as", pid, "-w", str(root)],
            env={**env, "DOCGEN_DATABASE_URL": url},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
        for root, url, people in sites
        for pid in people
    ]  # fmt: skip
    for pid, proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0 and f"{pid} 本次签署" in out, f"{pid}: {out}{err}"
    for root, url, people in sites:
        _check(root, url, people, started)
