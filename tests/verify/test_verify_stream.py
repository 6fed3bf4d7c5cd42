"""``docgen verify`` of a whole year, streamed: the same lines, JSON and exit code as a report
collected letter by letter, whatever the number of workers and however a folder is listed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docgen.core.errors import UsageError
from docgen.core.workspace import Workspace, find_workspace
from docgen.registry import open_registry
from docgen.verify import folder as verify_folder
from docgen.verify import manifest as verify_manifest
from docgen.verify.archive import build_archive, workspace_trust
from docgen.verify.checklist import verify_letter
from docgen.verify.files import letter_files_from_disk
from docgen.verify.folder import letters_in_dir
from docgen.verify.model import (
    MAX_MANIFEST_BYTES,
    MAX_YEAR_MANIFEST_BYTES,
    CheckResult,
    LetterReport,
    LetterStatus,
    StepResult,
)
from docgen.verify.paths import stream_verify_paths, verify_paths
from docgen.verify.reference import registry_history
from docgen.verify.render import json_report, report_data, report_lines
from docgen.verify.report import VerifyReport, VerifyTally
from tests.helpers import run_docgen
from tests.signed_year import YEAR, build_workspace, copy_workspace, flip_byte, letters_of


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stream") / "ws"
    build_workspace(root)
    return root


@pytest.fixture
def damaged(signed: Path, tmp_path: Path) -> Workspace:
    """The year with a changed letter in one folder and a proof file missing in another."""
    ws = copy_workspace(signed, tmp_path / "ws")
    letters = letters_of(ws)
    folders = sorted({p.parent for p in letters})
    assert len(folders) >= 2
    first = next(p for p in letters if p.parent == folders[0])
    last = [p for p in letters if p.parent == folders[-1]][-1]
    flip_byte(first)
    os.remove(f"{last}.proof.json")  # still listed by the manifest: reported, not skipped
    return ws


def _collected(ws: Workspace) -> VerifyReport:
    """Every letter verified on its own, in the order of its path in the year, against the
    CRLs the workspace's registry holds: what the report held before it was streamed; and the
    checks of the year folder the CLI makes in the workspace (its log, its completeness, the
    registered CRLs), as the library makes them."""
    year = ws.year_dir(YEAR)
    paths = sorted(letters_of(ws), key=lambda p: p.relative_to(year).as_posix())
    trust = workspace_trust(ws)
    with open_registry(ws) as registry:
        crls = registry_history(registry, trust.ca_cert)
        checks = verify_paths([year], trust, jobs=1, registry=registry, workspace=ws).checks
    return VerifyReport(
        tuple(
            verify_letter(
                letter_files_from_disk(p, f"{year}/{p.relative_to(year).as_posix()}"),
                trust,
                crls=crls,
            )
            for p in paths
        ),
        checks,
    )


@pytest.mark.parametrize("window", [None, 1, 3])
def test_year_output_is_the_collected_report_for_one_and_two_workers(
    damaged: Workspace, window: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if window is not None:
        monkeypatch.setattr(verify_folder, "LISTING_WINDOW", window)
    monkeypatch.setattr(verify_folder, "VERIFY_CHUNK", 3)  # several chunks: two real workers
    expected = _collected(damaged)
    assert expected.count(LetterStatus.FAILED) == 2
    assert expected.summary() == "共 11 份:验证通过 9 份,失败 2 份,签名不全 0 份"
    year = str(damaged.year_dir(YEAR))
    for flags, lines in (
        ((), report_lines(expected)),
        (("--failures-only",), report_lines(expected, verbose=False)),
    ):
        outputs = []
        for jobs in ("1", "2"):
            outcome = run_docgen("verify", *flags, "--jobs", jobs, "-w", str(damaged.root), year)
            assert outcome.code == 1, outcome.text
            outputs.append(outcome.out)
        assert outputs[0] == outputs[1] == "\n".join(lines) + "\n"
    failed = [line for line in outputs[0].splitlines() if line.startswith("✗ 验证失败")]
    shown = [line.rsplit("  ", 1)[1] for line in failed]
    assert len(shown) == 2 and shown == sorted(shown)  # each in its folder's place

    as_json = [
        run_docgen("verify", "--json", "--jobs", jobs, "-w", str(damaged.root), year)
        for jobs in ("1", "2")
    ]
    text = json.dumps(report_data(expected), ensure_ascii=False, indent=2) + "\n"
    assert [o.out for o in as_json] == [text, text]
    assert {o.code for o in as_json} == {1}


def test_all_verified_year_exits_0_with_the_same_lines(signed: Path) -> None:
    ws = copy_workspace(signed, signed.parent / "copy-ok")
    expected = _collected(ws)
    outcome = run_docgen("verify", "-w", str(ws.root), str(ws.year_dir(YEAR)))
    assert outcome.code == 0, outcome.text
    assert outcome.out == "\n".join(report_lines(expected)) + "\n"


def test_verify_paths_keeps_every_letter_the_stream_hands_out(damaged: Workspace) -> None:
    trust = workspace_trust(damaged)
    seen: list[LetterReport] = []
    tally = stream_verify_paths([damaged.year_dir(YEAR)], trust, seen.append, jobs=1)
    report = verify_paths([damaged.year_dir(YEAR)], trust, jobs=1)
    with open_registry(damaged) as registry:  # no registry above: each bundle's CRL entries
        collected = verify_paths(
            [damaged.year_dir(YEAR)], trust, jobs=1, registry=registry, workspace=damaged
        )
    assert tuple(seen) == report.letters
    assert [x.status for x in report.letters] == [x.status for x in collected.letters]
    assert [x.path for x in report.letters] == [x.path for x in collected.letters]
    # without a registry the folder's completeness cannot be proved: said, never ✓
    assert tally.checks == list(report.checks)
    assert [(c.name, c.ok, c.unknown) for c in tally.checks] == [("文书齐全", False, True)]
    assert (tally.total, tally.ok, tally.summary()) == (11, False, report.summary())
    assert {s: tally.count(s) for s in LetterStatus} == {s: report.count(s) for s in LetterStatus}


def test_missing_trust_is_refused_before_any_letter(signed: Path, tmp_path: Path) -> None:
    ws = copy_workspace(signed, tmp_path / "ws")
    archive = build_archive(ws, YEAR).path
    seen: list[LetterReport] = []
    with pytest.raises(UsageError, match="需要根证书"):
        stream_verify_paths([archive, ws.year_dir(YEAR)], None, seen.append)
    assert seen == []
    tally = stream_verify_paths([archive], None, seen.append)
    assert tally.ok and len(seen) == tally.total == 11


def test_an_empty_folder_is_a_failed_check_after_its_manifest_checks(
    signed: Path, tmp_path: Path
) -> None:
    (tmp_path / "manifest.json").write_text("{")
    seen: list[LetterReport] = []
    tally = stream_verify_paths([tmp_path], workspace_trust(find_workspace(signed)), seen.append)
    assert [(c.name, c.ok) for c in tally.checks] == [("文书清单", False), ("查找文书", False)]
    assert not tally.ok and tally.total == 0 and seen == []


def test_a_folder_is_listed_a_window_at_a_time(tmp_path: Path) -> None:
    folder = tmp_path / "承诺书"
    folder.mkdir()
    names = [f"2027-LJ-P{i:03d}_甲_乙.docx" for i in range(40)]
    for name in names:
        for suffix in ("", ".proof.json", ".P1.p7s"):
            (folder / f"{name}{suffix}").write_bytes(b"x")
    held: list[int] = []
    read = verify_folder._read_window

    def counting(*args: object, **kwargs: object) -> object:
        window = read(*args, **kwargs)  # type: ignore[arg-type]
        assert window is not None
        held.append(len(window.slots))
        return window

    with mock.patch.object(verify_folder, "_read_window", counting):
        letters, checks = letters_in_dir(tmp_path, "年度", window=4)
        listed = [letter.shown for letter in letters]
    assert listed == [f"年度/承诺书/{name}" for name in names] and checks == []
    assert max(held) < 2 * 4 and len(held) >= 40 // 7


# ---------------------------------------------------------------------------------------------
# the JSON text, written a letter at a time


_TEXT = st.text(alphabet=st.sampled_from('a甲\n\u2028"\\\t/ 𠮷'), max_size=8)


@st.composite
def _letters(draw: st.DrawFn) -> LetterReport:
    steps = tuple(
        StepResult(n, draw(_TEXT), draw(st.booleans()), draw(_TEXT), file=draw(st.none() | _TEXT))
        for n in range(1, draw(st.integers(0, 3)) + 1)
    )
    return LetterReport(
        draw(st.none() | _TEXT), draw(_TEXT), steps, draw(st.sampled_from(list(LetterStatus)))
    )


@settings(max_examples=60, deadline=None)
@given(letters=st.lists(_letters(), max_size=4), spool=st.sampled_from([0, 8 * 1024 * 1024]))
def test_json_report_is_json_dumps_of_the_report(letters: list[LetterReport], spool: int) -> None:
    checks = (CheckResult("文书清单", False, "坏\n了", "a"),) if len(letters) % 2 else ()
    report = VerifyReport(tuple(letters), checks)
    tally = VerifyTally(checks=list(checks))
    with json_report(in_memory_bytes=spool) as out:
        for letter in letters:
            tally.add(letter)
            out.add(letter)
        text = "".join(out.chunks(tally))
    assert text == json.dumps(report_data(report), ensure_ascii=False, indent=2)


# ---------------------------------------------------------------------------------------------
# manifests read a piece at a time


def _by_json_loads(data: bytes) -> tuple[object, list[str]] | None:
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    fmt = parsed.get("format") if isinstance(parsed, dict) else None
    return fmt, verify_manifest.manifest_paths(parsed)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_DOCUMENT = st.fixed_dictionaries(
    {"path": st.sampled_from(["a/x.docx", "b.docx", "../c.docx", "a//d.docx", "e", 3])},
    optional={"doc_id": _VALUES, "parties": _VALUES},
)
_MANIFEST = st.dictionaries(
    st.sampled_from(["format", "documents", "year", "x"]),
    st.lists(_DOCUMENT | _VALUES, max_size=4) | _VALUES,
    max_size=4,
)


def _spelled(value: object, draw: st.DrawFn) -> str:
    """JSON text of ``value`` with white space of its own, duplicate keys sometimes."""
    space = draw(st.sampled_from(["", " ", "\n  ", "\t\r\n"]))
    if isinstance(value, dict):
        items = [f"{json.dumps(k)}{space}:{space}{_spelled(v, draw)}" for k, v in value.items()]
        if items and draw(st.booleans()):
            items.append(items[0])  # a key twice: the last counts
        return "{" + space + f",{space}".join(items) + space + "}"
    if isinstance(value, list):
        return "[" + space + f",{space}".join(_spelled(v, draw) for v in value) + space + "]"
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


_LISTING = st.fixed_dictionaries(
    {"documents": st.lists(_DOCUMENT, min_size=1, max_size=5)},
    optional={"format": _VALUES, "year": _VALUES},
)


@st.composite
def _manifest_bytes(draw: st.DrawFn) -> bytes:
    top = draw(_LISTING | _LISTING | _MANIFEST | _VALUES)
    text = draw(st.sampled_from(["", " ", "\n"])) + _spelled(top, draw)
    data = text.encode("utf-8")
    change = draw(st.sampled_from(["none", "none", "cut", "insert", "trailing", "bytes"]))
    at = draw(st.integers(0, len(data)))
    if change == "cut":
        data = data[:at]
    elif change == "insert":
        extra = draw(st.sampled_from([b",", b"]", b"}", b'"', b"1", b"\xff", b" "]))
        data = data[:at] + extra + data[at:]
    elif change == "trailing":
        data += draw(st.sampled_from([b" x", b"{}", b"\n", b"\xef\xbb\xbf"]))
    elif change == "bytes":
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b""])) + data
    return data


@settings(max_examples=400, deadline=None)
@given(data=_manifest_bytes(), piece=st.sampled_from([1, 2, 3, 7, 64, 1 << 20]))
def test_manifest_read_in_pieces_gives_what_json_loads_gives(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, piece: int
) -> None:
    path = tmp_path_factory.mktemp("manifest") / "manifest.json"
    path.write_bytes(data)
    with mock.patch.object(verify_manifest, "_JSON_PIECE", piece):
        scan = verify_manifest.scan_manifest(path, lambda _path: True)
    expected = _by_json_loads(data)
    if expected is None:
        assert scan is None
    else:
        assert scan is not None
        assert (scan.fmt, scan.kept) == expected


def test_manifest_over_the_limit_or_not_a_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_YEAR_MANIFEST_BYTES + 1)  # sparse: nothing is written
    assert verify_manifest.scan_manifest(big, lambda _p: True) is None
    assert verify_manifest.scan_manifest(tmp_path, lambda _p: True) is None
    assert verify_manifest.scan_manifest(tmp_path / "none.json", lambda _p: True) is None
    small = tmp_path / "m.json"
    small.write_text('{"documents": [{"path": "a.docx"}, {"path": "b.docx"}], "format": 1}')
    scan = verify_manifest.scan_manifest(small, lambda p: p != "a.docx")
    assert scan is not None and (scan.fmt, scan.kept) == (1, ["b.docx"])


def test_a_province_sized_manifest_is_read(tmp_path: Path) -> None:
    """A year of 10⁵ letters has a manifest of ≈ 150 MB; anything above the archive's 32 MiB
    limit used to be refused, so `docgen verify output/<year>` failed at that scale."""
    path = tmp_path / "manifest.json"
    entry = '{"doc_id": "2027-LJ-P%06d-P%06d", "path": "廉洁从检承诺书/%06d.docx", "pad": "%s"}'
    count = 40_000
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"format": "docgen-manifest-v1", "documents": [')
        handle.write(", ".join(entry % (i, i, i, "x" * 800) for i in range(count)))
        handle.write("]}")
    assert path.stat().st_size > MAX_MANIFEST_BYTES
    scan = verify_manifest.scan_manifest(path, lambda p: p.endswith("039999.docx"))
    assert scan is not None
    assert (scan.fmt, scan.kept) == ("docgen-manifest-v1", ["廉洁从检承诺书/039999.docx"])
