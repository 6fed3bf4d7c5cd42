"""Bad input, fuzzed: every command answers with a result or one Chinese error, never a
traceback; a failed command changes nothing; hostile archives cannot exhaust memory.

Commands run in-process through :func:`tests.helpers.run_docgen`, which lets any exception other
than a :class:`DocgenError` escape — so an unhandled error fails the test with its traceback.
Examples are bounded and derandomised so that the file runs in well under a minute in CI.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import shutil
import struct
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.core.workspace import find_workspace
from docgen.registry import open_registry
from docgen.verify.archive_read import read_zip
from docgen.verify.model import ZipLimits
from tests.helpers import CliOutcome, run_docgen
from tests.signed_year import YEAR, build_workspace, letters_of


def fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _clean(outcome: CliOutcome, codes: tuple[int, ...] = (0, 1, 2)) -> None:
    assert outcome.code in codes, outcome.text[-1500:]
    assert "Traceback" not in outcome.text
    if outcome.code != 0:
        assert outcome.err.startswith(("错误:", "Usage:")) or outcome.out, outcome.text


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file but the lock and the SQLite files (compared through the registry instead)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".docgen.lock" and not p.name.startswith("registry.db")
    }


def _registry_state(root: Path) -> tuple[int, bytes]:
    with open_registry(find_workspace(root)) as registry:
        return registry.size(), registry.checkpoint()


# Text that looks like what a clerk (or an attacker) might put in a cell.
CHARS = st.characters(
    codec="utf-8",
    categories=("L", "N", "P", "S", "Zs", "Cc", "Cf"),
    include_characters="张李王陈党组书记班子成员部门负责人工作人员办公室,、:\"'{}[]<>&\n\t\r\x00\u202e",
)
CELL = st.one_of(
    st.text(CHARS, max_size=12),
    st.sampled_from(
        [
            "党组书记",
            "班子成员",
            "纪检组长",
            "部门负责人",
            "工作人员",
            "检委会专职委员",
            "院领导",
            "办公室",
            "是",
            "否",
            "P001",
            "P002",
            "",
            " ",
            "=1+1",
            "@SUM(A1)",
            "../x",
            "CON",
        ]
    ),
)
SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), CELL
)
YAML_VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CELL, inner, max_size=5),
    max_leaves=25,
)
PERSON = st.fixed_dictionaries(
    {"id": st.one_of(CELL, st.sampled_from(["P001", "P002", "P003"])), "name": CELL},
    optional={"title": CELL, "role": CELL, "extra": SCALAR},
)
ROSTER = st.fixed_dictionaries(
    {
        "institution": CELL,
        "people": st.lists(st.one_of(PERSON, YAML_VALUE), max_size=6),
        "departments": st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    {"name": CELL, "head": CELL, "supervisor": CELL},
                    optional={"members": st.lists(CELL, max_size=3) | SCALAR},
                ),
                YAML_VALUE,
            ),
            max_size=3,
        ),
    }
)


# --------------------------------------------------------------------------------------------
# rosters


@fuzz(40)
@given(roster=st.one_of(ROSTER, YAML_VALUE))
def test_random_roster_structures(tmp_path: Path, roster: Any) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(yaml.safe_dump(roster, allow_unicode=True), encoding="utf-8")
    _clean(run_docgen("roster", "check", str(path)), (0, 1))


@fuzz(40)
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_random_roster_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "roster.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    _clean(run_docgen("roster", "check", str(path)), (0, 1))


HEADERS = st.one_of(
    st.just(["姓名", "职务", "部门", "角色"]),
    st.just(["编号", "姓名", "职务", "部门", "角色", "分管部门", "是否负责人"]),
    st.lists(CELL, max_size=7),
)
ROWS = st.lists(st.lists(CELL, max_size=8), max_size=8)


def _import(tmp_path: Path, source: Path) -> None:
    target = tmp_path / "out" / "roster.yaml"
    target.parent.mkdir(exist_ok=True)
    outcome = run_docgen("roster", "import", str(source), "--output", str(target))
    _clean(outcome, (0, 1, 2))
    if outcome.code == 0:
        _clean(run_docgen("roster", "check", str(target)), (0,))
    else:
        assert not target.exists()
    shutil.rmtree(target.parent)


@fuzz(40)
@given(
    header=HEADERS,
    rows=ROWS,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "big5"]),
    delimiter=st.sampled_from([",", "\t", ";"]),
)
def test_random_staff_lists_as_csv(
    tmp_path: Path, header: list[str], rows: list[list[str]], encoding: str, delimiter: str
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([header, *rows])
    source = tmp_path / "人员表.csv"
    source.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    _import(tmp_path, source)


XLSX_CELL = st.one_of(
    CELL.map(lambda s: "".join(ch for ch in s if ch >= " ")),  # openpyxl refuses control chars
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
)


@fuzz(12)
@given(
    header=HEADERS.map(lambda h: ["".join(ch for ch in c if ch >= " ") for c in h]),
    rows=st.lists(st.lists(XLSX_CELL, max_size=8), max_size=6),
    merge=st.booleans(),
)
def test_random_staff_lists_as_xlsx(
    tmp_path: Path, header: list[str], rows: list[list[Any]], merge: bool
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [header, *rows]:
        sheet.append(row)
    if merge and len(rows) >= 2:
        sheet.merge_cells(start_row=2, start_column=3, end_row=3, end_column=3)
    source = tmp_path / "人员表.xlsx"
    book.save(source)
    _import(tmp_path, source)


@functools.cache
def _small_workbook() -> bytes:
    """One valid workbook, made once so that every example mangles the same bytes."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "职务", "部门", "角色"])
    sheet.append(["张明远", "党组书记", "院领导", "党组书记"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@fuzz(25)
@given(data=st.data())
def test_truncated_and_corrupt_xlsx(
    tmp_path: Path, ledger_ws: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    """The same damaged workbook as a staff list and as an activity import."""
    monkeypatch.setenv("DOCGEN_NOW", "2027-06-30T09:00:00+00:00")
    raw = bytearray(_small_workbook())
    how = data.draw(st.sampled_from(["truncate", "flip", "random"]))
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        for at in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=8)):
            raw[at] ^= 0xFF
    else:
        raw = bytearray(data.draw(st.binary(max_size=2000)))
    source = tmp_path / "人员表.xlsx"
    source.write_bytes(bytes(raw))
    _import(tmp_path, source)
    registry_before = _registry_state(ledger_ws)
    _clean(run_docgen("activity", "import", "-w", str(ledger_ws), str(source)), (1, 2))
    assert _registry_state(ledger_ws) == registry_before


# --------------------------------------------------------------------------------------------
# activity records


@pytest.fixture(scope="module")
def ledger_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from docgen.letters.workspace_init import init_workspace

    root = tmp_path_factory.mktemp("ledger") / "ws"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR)
    return root


PERSON_REF = st.one_of(
    st.sampled_from(["P001", "P002", "P003", "P004", "P005", "张明远", "李卫东", "nobody"]), CELL
)


@fuzz(40)
@given(
    kind=st.one_of(
        st.sampled_from(["党组专题会议", "约谈", "谈心谈话", "廉政谈话", "年度报告", "meeting"]),
        CELL,
    ),
    day=st.one_of(
        st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
        st.sampled_from(["2027-02-30", "2027-1-5", "", "2026-12-31", "9999-99-99"]),
        CELL,
    ),
    actor=PERSON_REF,
    participants=st.lists(PERSON_REF, max_size=4).map(",".join),
    note=CELL,
)
def test_random_activity_records(
    ledger_ws: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    day: str,
    actor: str,
    participants: str,
    note: str,
) -> None:
    monkeypatch.setenv("DOCGEN_NOW", "2027-06-30T09:00:00+00:00")
    before, registry_before = _snapshot(ledger_ws), _registry_state(ledger_ws)
    outcome = run_docgen(
        "activity",
        "add",
        "-w",
        str(ledger_ws),
        "--kind",
        kind,
        "--date",
        day,
        "--actor",
        actor,
        "--participants",
        participants,
        "--note",
        note,
    )
    _clean(outcome)
    if outcome.code != 0:
        assert _registry_state(ledger_ws) == registry_before
        assert _snapshot(ledger_ws) == before
    else:
        size, _ = _registry_state(ledger_ws)
        assert size == registry_before[0] + 1
    with open_registry(find_workspace(ledger_ws)) as registry:
        assert registry.audit().ok


@fuzz(15)
@given(
    header=st.lists(CELL, max_size=6) | st.just(["类型", "日期", "主持人", "参加人", "备注"]),
    rows=ROWS,
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]),
)
def test_random_activity_imports(
    ledger_ws: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    header: list[str],
    rows: list[list[str]],
    encoding: str,
) -> None:
    monkeypatch.setenv("DOCGEN_NOW", "2027-06-30T09:00:00+00:00")
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    source = tmp_path / "活动.csv"
    source.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    registry_before = _registry_state(ledger_ws)
    outcome = run_docgen("activity", "import", "-w", str(ledger_ws), str(source))
    _clean(outcome)
    if outcome.code != 0:
        assert _registry_state(ledger_ws) == registry_before


# --------------------------------------------------------------------------------------------
# verify: truncated, oversized and malformed letters, signatures, proofs and checkpoints


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzzsigned") / "ws"
    build_workspace(root)
    return root


def _mutate_bytes(data: bytes, draw: st.DataObject) -> bytes:
    how = draw.draw(st.sampled_from(["truncate", "flip", "append", "replace", "oversize"]))
    raw = bytearray(data)
    if how == "truncate":
        return bytes(raw[: draw.draw(st.integers(0, max(len(raw) - 1, 0)))])
    if how == "flip":
        for at in draw.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=6)):
            raw[at] ^= draw.draw(st.integers(1, 255))
        return bytes(raw)
    if how == "append":
        return bytes(raw) + draw.draw(st.binary(min_size=1, max_size=200))
    if how == "oversize":
        return bytes(raw) + b"\0" * (2 << 20)
    return draw.draw(st.binary(max_size=500))


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def _mutate_json(value: Any, draw: st.DataObject, depth: int = 0) -> Any:
    """Replace one node (chosen at random) of a JSON document by a random JSON value."""
    if depth > 0 and draw.draw(st.integers(0, 3)) == 0:
        return draw.draw(JSON_VALUE)
    if isinstance(value, dict) and value:
        key = draw.draw(st.sampled_from(sorted(value)))
        if draw.draw(st.integers(0, 9)) == 0:
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: _mutate_json(value[key], draw, depth + 1)}
    if isinstance(value, list) and value:
        at = draw.draw(st.integers(0, len(value) - 1))
        return [*value[:at], _mutate_json(value[at], draw, depth + 1), *value[at + 1 :]]
    if isinstance(value, str) and "\n" in value and draw.draw(st.booleans()):
        lines = value.split("\n")  # a checkpoint note: change one of its lines
        at = draw.draw(st.integers(0, len(lines) - 1))
        lines[at] = draw.draw(st.text(max_size=60))
        return "\n".join(lines)
    return draw.draw(JSON_VALUE)


def _verify_changed(signed: Path, target: Path, changed: bytes, *, must_fail: bool) -> None:
    original = target.read_bytes() if target.exists() else None
    before, registry_before = _snapshot(signed), _registry_state(signed)
    target.write_bytes(changed)
    try:
        after_change = _snapshot(signed)
        letter = letters_of(find_workspace(signed))[0]
        outcome = run_docgen("verify", "--json", "-w", str(signed), str(letter))
        _clean(outcome, (0, 1))
        report = json.loads(outcome.out)
        if must_fail and changed != original:
            assert outcome.code == 1 and report["letters"][0]["status"] == "failed"
        assert _snapshot(signed) == after_change  # verify only reads
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_bytes(original)
    assert _snapshot(signed) == before and _registry_state(signed) == registry_before


@fuzz(25)
@given(data=st.data(), which=st.sampled_from(["docx", "P001.p7s", "P002.p7s"]))
def test_verify_mangled_letters_and_signatures(
    signed: Path, data: st.DataObject, which: str
) -> None:
    letter = letters_of(find_workspace(signed))[0]
    target = letter if which == "docx" else Path(f"{letter}.{which}")
    _verify_changed(signed, target, _mutate_bytes(target.read_bytes(), data), must_fail=True)


@fuzz(30)
@given(data=st.data())
def test_verify_mangled_proof_bundles(signed: Path, data: st.DataObject) -> None:
    letter = letters_of(find_workspace(signed))[0]
    proof = Path(f"{letter}.proof.json")
    if data.draw(st.booleans()):
        bundle = json.loads(proof.read_text(encoding="utf-8"))
        changed = json.dumps(_mutate_json(bundle, data), ensure_ascii=False).encode()
    else:
        changed = _mutate_bytes(proof.read_bytes(), data)
    _verify_changed(signed, proof, changed, must_fail=False)


@fuzz(20)
@given(note=st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_verify_checkpoint_with_random_pins(signed: Path, tmp_path: Path, note: bytes) -> None:
    pinned = tmp_path / "pinned.txt"
    pinned.write_bytes(note)
    outcome = run_docgen("registry", "verify-checkpoint", "-w", str(signed), str(pinned))
    _clean(outcome, (1, 2))


def test_verify_checkpoint_with_a_truncated_real_pin(signed: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    assert run_docgen("registry", "pin", "-w", str(signed), str(real)).code == 0
    note = real.read_bytes()
    assert run_docgen("registry", "verify-checkpoint", "-w", str(signed), str(real)).code == 0
    for cut in range(0, len(note), 7):
        real.write_bytes(note[:cut])
        _clean(run_docgen("registry", "verify-checkpoint", "-w", str(signed), str(real)), (1, 2))


# --------------------------------------------------------------------------------------------
# zip bombs


MIB = 1 << 20


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _lie_about_size(path: Path, declared: int) -> None:
    """Rewrite every uncompressed-size field (local and central headers) to ``declared``."""
    raw = bytearray(path.read_bytes())
    at = 0
    while (at := raw.find(b"PK\x03\x04", at)) != -1:
        struct.pack_into("<I", raw, at + 22, declared)
        at += 4
    at = 0
    while (at := raw.find(b"PK\x01\x02", at)) != -1:
        struct.pack_into("<I", raw, at + 24, declared)
        at += 4
    path.write_bytes(bytes(raw))


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("bombs")
    big = b"\0" * (64 * MIB)
    found = {
        "too big": _zip(base / "big.zip", {"manifest.json": b"{}", "a/x.docx": big}),
        "ratio": _zip(base / "ratio.zip", {"manifest.json": b"{}", "a/x.docx": big[: 4 * MIB]}),
        "many small": _zip(
            base / "many.zip", {f"a/{i}.docx.proof.json": b"\0" * (MIB - 1) for i in range(40)}
        ),
    }
    liar = _zip(base / "liar.zip", {"manifest.json": b"{}", "a/x.docx": big})
    _lie_about_size(liar, 1000)
    found["lying header"] = liar
    nested = _zip(base / "inner.zip", {"a/x.docx": big})
    found["nested"] = _zip(
        base / "nested.zip", {"manifest.json": b"{}", "a.zip": nested.read_bytes()}
    )
    return found


@pytest.mark.parametrize("name", ["too big", "ratio", "lying header", "nested", "many small"])
def test_zip_bombs_are_refused_or_bounded(bombs: dict[str, Path], name: str) -> None:
    before = sorted(p.name for p in bombs[name].parent.iterdir())
    outcome = run_docgen("verify", "--json", str(bombs[name]))
    _clean(outcome, (1,))
    report = json.loads(outcome.out)
    assert not report["ok"]
    if name in ("too big", "ratio", "lying header"):
        assert any(
            c["name"] == "压缩包安全"
            and not c["ok"]
            and ("炸弹" in c["detail"] or "上限" in c["detail"] or "损坏" in c["detail"])
            for c in report["checks"]
        ), report["checks"]
    assert sorted(p.name for p in bombs[name].parent.iterdir()) == before  # nothing extracted


def test_zip_limits_on_member_count_and_total_size(bombs: dict[str, Path]) -> None:
    from docgen.core.errors import VerificationError

    with pytest.raises(VerificationError, match="成员过多"):
        read_zip(bombs["many small"], ZipLimits(max_members=10))
    with pytest.raises(VerificationError, match="总大小超过上限"):
        read_zip(bombs["many small"], ZipLimits(max_total_bytes=8 * MIB))


def test_zip_bomb_does_not_exhaust_memory(bombs: dict[str, Path], tmp_path: Path) -> None:
    """The largest bombs, verified in a fresh process: its peak memory stays small."""
    probe = (
        "import resource, subprocess, sys\n"
        "for path in sys.argv[1:]:\n"
        "    subprocess.run([sys.executable, '-m', 'docgen', 'verify', path],"
        " capture_output=True, check=False)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            str(bombs["too big"]),
            str(bombs["lying header"]),
            str(bombs["nested"]),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=tmp_path,
    )
    peak_kib = int(done.stdout.strip())
    assert peak_kib < 200 * 1024, f"peak {peak_kib} KiB"


def test_bounded_reads_of_oversized_inputs(signed: Path, tmp_path: Path) -> None:
    """A sparse 3 GiB 'letter' and 'proof' are refused by their size, not read."""
    letter = tmp_path / "huge.docx"
    with letter.open("wb") as fh:
        fh.truncate(3 << 30)
    proof = tmp_path / "huge.docx.proof.json"
    with proof.open("wb") as fh:
        fh.truncate(3 << 30)
    started = datetime.now()
    outcome = run_docgen("verify", "--json", "-w", str(signed), str(letter))
    _clean(outcome, (1,))
    assert "过大" in outcome.out
    assert (datetime.now() - started).total_seconds() < 20
