"""Bulk signing (``sign_everyone``): its plan, read a few letters at a time, is what ``sign_as``
sees; the result is the same for one and two workers; a failure leaves what was committed with
its proof bundles and manifest."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.letters.workspace_init import init_workspace
from docgen.records import proofs
from docgen.records import state as state_module
from docgen.records.naming import proof_relpath
from docgen.records.state import read_year_state, waiting_letters
from docgen.records.status import year_status
from docgen.records.views import refresh_year
from docgen.registry import open_registry
from docgen.roster.load import load_roster
from docgen.signing import sign as signing
from docgen.signing.ca import init_ca
from docgen.signing.certificates import issue_certificates
from docgen.signing.keyfiles import PassphraseError
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_as, sign_everyone
from docgen.signing.x509util import Algorithm
from tests.conftest import NOW, PASSPHRASE
from tests.helpers import move_p045_to_office

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from make_roster import make_roster_yaml

YEAR = 2027
SECRET = Passphrase(PASSPHRASE.encode(), "测试")
LATER = NOW + timedelta(days=1)

# (person, [(doc_id, path, sha256, party), …]) in the order they are signed
Plan = list[tuple[str, list[tuple[str, str, str, str]]]]


def _as_sign_as_sees_it(ws: Workspace, year: int) -> Plan:
    """Each party's waiting letters from the whole year's state, as ``sign_as`` finds them."""
    with open_registry(ws) as registry:
        state = read_year_state(registry, year)
    plan: Plan = []
    for pid in state.parties():
        waiting, _done = waiting_letters(state, pid)
        if waiting:
            letters = [
                (s.doc_id, s.record["path"], s.record["sha256"], signing._party_of(s, pid))
                for s in waiting
            ]
            plan.append((pid, letters))
    return plan


def _bulk_plan(ws: Workspace, year: int) -> tuple[Plan, int, list[str]]:
    """The bulk plan, its number of signatures, and whom the passphrase was asked for."""
    asked: list[str] = []

    def passphrase(pid: str) -> Passphrase:
        asked.append(pid)
        return SECRET

    with open_registry(ws) as registry:
        rows = signing._waiting_signatures(registry, year)
        with closing(signing._SignPlan(rows)) as plan:
            people: Plan = [
                (job.person_id, [(w.doc_id, w.path, w.sha256, w.party) for w in job.letters])
                for job in plan.people(passphrase)
            ]
            return people, plan.total, asked


def test_plan_read_a_few_letters_at_a_time_is_what_sign_as_sees(
    keyed_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half-signed letters, a voided letter and its replacement, and another year's letters."""
    ws = find_workspace(keyed_workspace)
    sign_as(ws, "P043", SECRET, year=YEAR, now=LATER)
    sign_as(ws, "P045", SECRET, year=YEAR, now=LATER)
    move_p045_to_office(ws.roster_path)
    generate(ws, YEAR, now=LATER + timedelta(days=1), reissue=True, jobs=1)
    sign_as(ws, "P009", SECRET, year=YEAR, now=LATER + timedelta(days=2))
    generate(ws, YEAR + 1, now=LATER + timedelta(days=2), jobs=1)
    with open_registry(ws) as registry:
        state = read_year_state(registry, YEAR)
    assert state.letters["2027-LJ-P043-P045"].voided
    assert state.letters["2027-LJ-P009-P045"].missing_signers() == ["P045"]
    half_signed = [s for s in state.active() if len(s.missing_signers()) == 1]
    assert len(half_signed) > 3

    monkeypatch.setattr(state_module, "PAGE", 3)  # many pages of letters
    for year in (YEAR, YEAR + 1):
        expected = _as_sign_as_sees_it(ws, year)
        plan, total, asked = _bulk_plan(ws, year)
        assert plan == expected
        assert total == sum(len(letters) for _, letters in expected)
        assert asked == [pid for pid, _ in expected]  # once per person, in the order of ids
        assert all(doc_id.startswith(f"{year}-") for _, ls in plan for doc_id, *_ in ls)
    plan, _total, _asked = _bulk_plan(ws, YEAR)
    waiting = {doc_id for _, letters in plan for doc_id, *_ in letters}
    assert "2027-LJ-P043-P045" not in waiting
    assert ("P045", "2027-LJ-P009-P045") in {(p, d) for p, ls in plan for d, *_ in ls}
    assert ("P009", "2027-LJ-P009-P045") not in {(p, d) for p, ls in plan for d, *_ in ls}


def test_plan_of_an_empty_year_is_empty(keyed_workspace: Path) -> None:
    ws = find_workspace(keyed_workspace)
    assert _bulk_plan(ws, YEAR + 5) == ([], 0, [])
    assert sign_everyone(ws, lambda _pid: SECRET, year=YEAR + 5, now=LATER) == 0


def _output_files(root: Path) -> dict[str, bytes]:
    output = root / "output"
    return {
        p.relative_to(output).as_posix(): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file()
    }


def _entries(ws: Workspace) -> list[bytes]:
    with open_registry(ws) as registry:
        return [entry.data for entry in registry.entries()]


@pytest.fixture(scope="module")
def rsa_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Letters and RSA keys (whose signatures are deterministic, so runs compare byte for byte)."""
    root = tmp_path_factory.mktemp("rsa") / "ws"
    init_workspace(root, institution="测试院", year=YEAR, roster_yaml=make_roster_yaml(20))
    ws = find_workspace(root)
    ca = init_ca(
        ws.keys_dir,
        institution="测试院",
        passphrase=SECRET,
        now=NOW,
        algorithm=Algorithm.RSA3072,
    )
    issued = issue_certificates(
        ws.keys_dir,
        load_roster(ws.roster_path),
        None,
        institution="测试院",
        ca_passphrase=SECRET,
        passphrase=SECRET,
        now=NOW,
        days=730,
    )
    with open_registry(ws) as registry:  # as `docgen keys init-ca` and `keys issue` do
        registry.append([*ca.records, *issued.records], now=NOW)
    generate(ws, YEAR, now=NOW, jobs=1)
    return root


def test_one_and_two_workers_sign_the_same_files_and_entries_in_the_same_order(
    rsa_template: Path, tmp_path: Path
) -> None:
    one = find_workspace(shutil.copytree(rsa_template, tmp_path / "one"))
    two = find_workspace(shutil.copytree(rsa_template, tmp_path / "two"))
    expected = _as_sign_as_sees_it(one, YEAR)
    before = len(_entries(one))

    signed_one = sign_everyone(one, lambda _pid: SECRET, year=YEAR, now=LATER, jobs=1)
    signed_two = sign_everyone(
        two, lambda _pid: SECRET, year=YEAR, now=LATER, jobs=2, chunk_size=3
    )

    total = sum(len(letters) for _, letters in expected)
    assert signed_one == signed_two == total > 3 * 2 * 3  # several chunks for each worker
    assert _output_files(one.root) == _output_files(two.root)
    assert _entries(one) == _entries(two)
    with open_registry(one) as registry:
        new = [entry.record for entry in registry.entries()][before:]
    # Person by person (by id), each person's letters in registry order, as planned.
    assert [(r["signer"], r["doc_id"], r["party"]) for r in new] == [
        (pid, doc_id, party) for pid, letters in expected for doc_id, _p, _s, party in letters
    ]
    assert year_status(one, YEAR).all_complete


def _refuse_last(last: str) -> Callable[[str], Passphrase]:
    def passphrases(pid: str) -> Passphrase:
        if pid == last:
            raise RuntimeError("口令输入被取消")
        return SECRET

    return passphrases


def _wrong_for_last(last: str) -> Callable[[str], Passphrase]:
    return lambda pid: Passphrase(b"not-the-passphrase", "测试") if pid == last else SECRET


@pytest.mark.parametrize(
    ("failing", "jobs", "error"),
    [(_wrong_for_last, 1, PassphraseError), (_refuse_last, 2, RuntimeError)],
    ids=["wrong passphrase in a worker", "no passphrase for the last person"],
)
def test_a_failure_keeps_what_was_committed_with_its_views(
    keyed_workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing: Callable[[str], Callable[[str], Passphrase]],
    jobs: int,
    error: type[Exception],
) -> None:
    ws = find_workspace(keyed_workspace)
    expected = _as_sign_as_sees_it(ws, YEAR)
    total = sum(len(letters) for _, letters in expected)
    last = expected[-1][0]
    monkeypatch.setattr(signing, "APPEND_CHUNK", 4)  # commits every few signatures

    with pytest.raises(error):
        sign_everyone(ws, failing(last), year=YEAR, now=LATER, jobs=jobs, chunk_size=2)

    year_dir = ws.year_dir(YEAR)
    with open_registry(ws) as registry:
        committed = [e.record for e in registry.entries(type="signature")]
    assert 0 < len(committed) < total
    assert last not in {r["signer"] for r in committed}
    on_disk = {p.relative_to(year_dir).as_posix() for p in year_dir.rglob("*.p7s")}
    by_id = {d: path for _, letters in expected for d, path, _s, _p in letters}
    assert on_disk == {f"{by_id[r['doc_id']]}.{r['signer']}.p7s" for r in committed}
    assert not [p for p in year_dir.rglob("*") if p.name.endswith(".tmp")]
    assert not proofs.is_pending(year_dir)
    # Every letter's proof bundle holds all its entries, the committed signatures too (with the
    # CRL entry in force for each), and the manifest is the one the registry gives.
    with open_registry(ws) as registry:
        state = read_year_state(registry, YEAR)
        crls = proofs.crl_indices(registry)
    assert crls
    for letter in state.letters.values():
        proof = json.loads((year_dir / proof_relpath(letter.record["path"])).read_bytes())
        own = [e.index for e in letter.entries()]
        assert [b["index"] for b in proof["entries"]] == proofs.proof_indices(letter, crls)
        assert set(own) <= {b["index"] for b in proof["entries"]}
    manifest = (year_dir / "manifest.json").read_bytes()
    with open_registry(ws) as registry:
        refresh_year(ws, registry, YEAR, rewrite=None, jobs=1)
    assert (year_dir / "manifest.json").read_bytes() == manifest

    again = sign_everyone(ws, lambda _pid: SECRET, year=YEAR, now=LATER, jobs=jobs)
    assert again == total - len(committed)
    assert year_status(ws, YEAR).all_complete

