"""Hostile text in a roster: template syntax, XML markup, path tricks, reserved names, hidden
characters. Printable text is rendered literally; hidden characters are refused by the roster
check with a message that names the line and field; file names are sanitised; nothing is ever
written outside ``output/``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

import pytest
import yaml
from docx import Document

from docgen.core.workspace import find_workspace
from docgen.letters.generate import generate
from docgen.letters.workspace_init import init_workspace
from docgen.registry import open_registry
from docgen.roster.load import load_roster
from docgen.signing.ca import init_ca
from docgen.signing.certificates import issue_certificates
from docgen.signing.keyfiles import load_certificate
from docgen.signing.passphrase import Passphrase
from docgen.signing.sign import sign_everyone
from docgen.signing.x509util import common_name_of, person_id_of
from docgen.verify.archive import workspace_trust
from docgen.verify.model import LetterStatus
from docgen.verify.paths import verify_paths
from tests.conftest import NOW
from tests.helpers import run_docgen

YEAR = 2027
INSTITUTION = "庆城县<人民>检察院&{{ institution }}"
SECRET = Passphrase(b"injection-test-passphrase", "测试")

# Printable, so the roster check lets them through; every one must appear in the letters as typed.
HOSTILE_NAMES = {
    "P001": "{{ 7*7 }}张明远",
    "P002": "{% for x in range(3) %}李{% endfor %}",
    "P003": "<w:t>陈</w:t>&amp;志刚",
    "P004": "../../../../etc/passwd",
    "P005": "CON",
    "P006": "NUL.txt",
    "P007": "..\\..\\Windows\\win.ini",
    "P008": "]]><!-- 许 -->\"' onload=x",
    "P009": "محمد·𠮷王",  # a space between CJK characters would be dropped (roster/names.py)
    "P010": "LPT1",
    "P011": "阿卜杜热合曼·买买提·艾合买提江·吐尔逊·阿不都拉·热依木",  # longer than a commonName
}
HOSTILE_TITLES = {
    "P001": "{{ config }}党组书记",
    "P004": "<script>alert(1)</script>主任",
}
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))} | {
    f"LPT{i}" for i in range(1, 10)
}


def _roster(
    names: dict[str, str], titles: dict[str, str] | None = None, institution: str = INSTITUTION
) -> str:
    titles = titles or {}
    roles = {"P001": "党组书记", "P002": "班子成员", "P003": "纪检组长", "P004": "部门负责人"}
    roles |= {"P006": "部门负责人"}
    people = [
        {
            "id": pid,
            "name": name,
            "title": titles.get(pid, "干警"),
            "role": roles.get(pid, "工作人员"),
        }
        for pid, name in names.items()
    ]
    departments = [
        {"name": "办公室/../../外部", "head": "P004", "supervisor": "P001", "members": ["P005"]},
        {
            "name": "{{ dept }}第一检察部",
            "head": "P006",
            "supervisor": "P002",
            "members": [
                pid for pid in names if pid not in ("P001", "P002", "P003", "P004", "P005", "P006")
            ],
        },
    ]
    return yaml.safe_dump(
        {"institution": institution, "people": people, "departments": departments},
        allow_unicode=True,
        sort_keys=False,
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.footer.paragraphs)
        parts.extend(p.text for p in section.header.paragraphs)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A workspace of hostile names, generated, keyed and fully signed; and what lies outside it
    before generation."""
    base = tmp_path_factory.mktemp("hostile")
    root = base / "nest" / "ws"
    init_workspace(
        root,
        institution=INSTITUTION,
        year=YEAR,
        roster_yaml=_roster(HOSTILE_NAMES, HOSTILE_TITLES),
    )
    (base / "etc").mkdir()
    before = {k: v for k, v in _tree(base).items() if not k.startswith("nest/ws/")}
    ws = find_workspace(root)
    ca = init_ca(ws.keys_dir, institution=INSTITUTION, passphrase=SECRET, now=NOW)
    with open_registry(ws) as registry:  # the first CRL, as `docgen keys init-ca` registers it
        registry.append(list(ca.records), now=NOW)
    issue_certificates(
        ws.keys_dir,
        load_roster(ws.roster_path),
        None,
        institution=INSTITUTION,
        ca_passphrase=SECRET,
        passphrase=SECRET,
        now=NOW,
        days=730,
    )
    generate(ws, YEAR, now=NOW)
    sign_everyone(ws, lambda _pid: SECRET, year=YEAR, now=NOW)
    return base, before


def test_roster_with_hostile_printable_names_is_accepted(
    hostile: tuple[Path, dict[str, bytes]],
) -> None:
    base, _ = hostile
    outcome = run_docgen("roster", "check", "-w", str(base / "nest" / "ws"))
    assert outcome.code == 0, outcome.text
    assert "错误 0 条" in outcome.out


def test_names_are_rendered_literally(hostile: tuple[Path, dict[str, bytes]]) -> None:
    base, _ = hostile
    ws = find_workspace(base / "nest" / "ws")
    letters = sorted(ws.year_dir(YEAR).rglob("*.docx"))
    assert len(letters) >= 10
    texts = {path: _text(path) for path in letters}
    everything = "\n".join(texts.values())
    for name in HOSTILE_NAMES.values():
        assert name in everything, name
    for title in HOSTILE_TITLES.values():
        assert title in everything, title
    assert INSTITUTION in everything
    assert "49张明远" not in everything  # {{ 7*7 }} was not evaluated
    assert "李李李" not in everything  # {% for %} was not executed
    for path in letters:
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("word/document.xml").decode("utf-8")
        assert "<w:t>陈</w:t>&amp;" not in xml  # markup arrived escaped, never as elements
        assert "&lt;w:t&gt;陈&lt;/w:t&gt;&amp;amp;志刚" in xml or "陈" not in texts[path]
        assert "<script>" not in xml


def test_hostile_names_make_safe_file_names(hostile: tuple[Path, dict[str, bytes]]) -> None:
    base, _ = hostile
    ws = find_workspace(base / "nest" / "ws")
    year_dir = ws.year_dir(YEAR)
    files = [p for p in year_dir.rglob("*") if p.is_file()]
    assert len(files) >= 40
    for path in files:
        assert path.resolve().is_relative_to(year_dir.resolve())
        rel = PurePosixPath(path.relative_to(year_dir).as_posix())
        for part in rel.parts:
            assert part not in ("", ".", "..")
            assert not re.search(r'[\\:*?"<>|]', part), part
            assert not any(unicodedata.category(ch).startswith("C") for ch in part), part
            assert part.split(".")[0].upper() not in RESERVED, part
            assert len(part.encode("utf-8")) < 255


def test_nothing_is_written_outside_the_workspace(hostile: tuple[Path, dict[str, bytes]]) -> None:
    base, before = hostile
    after = {k: v for k, v in _tree(base).items() if not k.startswith("nest/ws/")}
    assert after == before
    root = base / "nest" / "ws"
    written = {str(p.relative_to(root)).split("/")[0] for p in root.rglob("*") if p.is_file()}
    assert written <= {
        "docgen.toml",
        "roster.yaml",
        "templates",
        "keys",
        "output",
        "registry.db",
        "registry.db-wal",
        "registry.db-shm",
        ".docgen.lock",
    }


def test_hostile_letters_sign_and_verify(hostile: tuple[Path, dict[str, bytes]]) -> None:
    base, _ = hostile
    ws = find_workspace(base / "nest" / "ws")
    with open_registry(ws) as registry:  # the year folder is proved complete against it
        report = verify_paths(
            [ws.year_dir(YEAR)], workspace_trust(ws), registry=registry, workspace=ws
        )
    assert report.ok, report.summary()
    assert {x.status for x in report.letters} == {LetterStatus.VERIFIED}
    names = {p.name for letter in report.letters for p in letter.parties}
    assert set(HOSTILE_NAMES.values()) <= names
    cert = load_certificate(ws.keys_dir / "people" / "P001" / "cert.pem")
    assert common_name_of(cert) == HOSTILE_NAMES["P001"]
    long_name = load_certificate(ws.keys_dir / "people" / "P011" / "cert.pem")
    shown = common_name_of(long_name)
    assert shown is not None and shown.endswith("…") and len(shown.encode()) <= 64
    assert HOSTILE_NAMES["P011"].startswith(shown[:-1])
    assert person_id_of(long_name) == "P011"


@pytest.mark.parametrize(
    ("char", "code"),
    [
        ("\x00", "U+0000"),
        ("\x1b", "U+001B"),
        ("\x07", "U+0007"),
        ("\u202e", "U+202E"),  # right-to-left override: makes "exe.txt" look like "txt.exe"
        ("\u200f", "U+200F"),  # right-to-left mark
        ("\u200b", "U+200B"),  # zero-width space: two names that look the same
        ("\u2028", "U+2028"),  # line separator
    ],
)
@pytest.mark.parametrize("field", ["name", "title"])
def test_hidden_characters_are_refused_with_line_and_field(
    tmp_path: Path, char: str, code: str, field: str
) -> None:
    names = {
        "P001": "张明远",
        "P002": "李卫东",
        "P003": "陈志刚",
        "P004": "马俊峰",
        "P005": "宋佳琪",
        "P006": "郭志强",
        "P007": "许文博",
    }
    titles: dict[str, str] = {}
    if field == "name":
        names["P005"] = f"宋{char}佳琪"
    else:
        titles["P005"] = f"科{char}员"
    root = tmp_path / "ws"
    init_workspace(
        root,
        institution="庆城县人民检察院",
        year=YEAR,
        roster_yaml=_roster(names, titles, institution="庆城县人民检察院"),
    )
    roster_text = (root / "roster.yaml").read_text(encoding="utf-8")
    line = next(
        number for number, text in enumerate(roster_text.splitlines(), start=1) if "P005" in text
    )
    checked = run_docgen("roster", "check", "-w", str(root))
    assert checked.code == 1
    label = "姓名" if field == "name" else "职务"
    assert f"的{label}含有" in checked.out
    expected = f"含有控制字符或不可见字符({code})"
    shown = [x for x in checked.out.splitlines() if expected in x]
    assert shown, checked.out
    assert f"字段“{field}”" in shown[0] and "roster.yaml" in shown[0]
    assert re.search(rf"第 {line}(\D|$)|第 {line + 1}\D|第 {line + 2}\D", shown[0]), shown[0]

    before = _tree(root)
    generated = run_docgen("generate", "-w", str(root))
    assert generated.code == 1 and expected in generated.err
    assert _tree(root) == before
    assert not any((root / "output").iterdir())


def test_hidden_characters_in_an_imported_staff_list_are_refused(tmp_path: Path) -> None:
    rows = [
        ["姓名", "职务", "部门", "角色"],
        ["张明远", "党组书记", "院领导", "党组书记"],
        ["李\u202e卫东", "副检察长", "院领导", "班子成员"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    source = tmp_path / "人员表.csv"
    source.write_text(buffer.getvalue(), encoding="utf-8")
    target = tmp_path / "roster.yaml"
    outcome = run_docgen("roster", "import", str(source), "--output", str(target))
    assert outcome.code == 1, outcome.text
    assert "U+202E" in outcome.text and "第 3 行" in outcome.text
    assert not target.exists()


def test_person_ids_cannot_be_paths(tmp_path: Path) -> None:
    names = {
        "P001": "张明远",
        "../P002": "李卫东",
        "P003": "陈志刚",
        "P004": "马俊峰",
        "P005": "宋佳琪",
        "P006": "郭志强",
        "P007": "许文博",
    }
    root = tmp_path / "ws"
    init_workspace(
        root,
        institution="庆城县人民检察院",
        year=YEAR,
        roster_yaml=_roster(names, institution="庆城县人民检察院"),
    )
    checked = run_docgen("roster", "check", "-w", str(root))
    assert checked.code == 1
    assert "../P002" in checked.out and "编号" in checked.out


@pytest.mark.parametrize(
    "institution",
    ['县"检察院', "县\\检察院", '县"\ninstitution = "伪造'],
    ids=["quote", "bs", "nl"],
)
def test_institution_cannot_break_the_config_file(tmp_path: Path, institution: str) -> None:
    root = tmp_path / "ws"
    outcome = run_docgen("init", str(root), "--institution", institution)
    if "\n" in institution:
        assert outcome.code == 2 and "U+000A" in outcome.err
        assert not (root / "docgen.toml").exists()
        return
    assert outcome.code == 0, outcome.text
    assert find_workspace(root).config.institution == institution
    assert run_docgen("roster", "check", "-w", str(root)).code == 0


@pytest.mark.parametrize(
    "member",
    ["../evil.docx", "/etc/evil.docx", "C:/evil.docx", "a/../../evil.docx", "..\\evil.docx"],
)
def test_archive_members_with_paths_outside_are_refused(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "inbox" / "archive.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr(member, b"PK not really a letter")
    before = _tree(tmp_path)
    outcome = run_docgen("verify", str(archive))
    assert outcome.code == 1, outcome.text
    assert "Traceback" not in outcome.text
    assert "成员路径不安全" in outcome.out
    assert _tree(tmp_path) == before
