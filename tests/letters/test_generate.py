"""generate: one letter per pairing, deterministic bytes, registered, idempotent, change reports."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import docx
import pytest

from docgen.core.glossary import LetterKind
from docgen.core.workspace import find_workspace
from docgen.letters.generate import Change, generate
from docgen.registry import open_registry
from docgen.roster.hierarchy import build_pairings
from docgen.roster.load import load_roster
from tests.helpers import run_docgen


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix == ".docx"
    }


def test_one_letter_per_pairing_with_manifest(demo_workspace: Path, now: datetime) -> None:
    ws = find_workspace(demo_workspace)
    result = generate(ws, 2027, now=now)
    pairings = build_pairings(load_roster(ws.roster_path), 2027, ws.config.pairing).pairings
    assert result.count(Change.NEW) == len(pairings)
    manifest = json.loads((ws.year_dir(2027) / "manifest.json").read_text(encoding="utf-8"))
    assert [d["doc_id"] for d in manifest["documents"]] == [p.doc_id for p in pairings]
    for entry in manifest["documents"]:
        path = ws.year_dir(2027) / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert (ws.year_dir(2027) / entry["proof"]).is_file()
        assert entry["status"] == "pending"
    with open_registry(ws) as registry:
        docs = list(registry.entries(type="document"))
        assert len(docs) == len(pairings)
        assert registry.audit().ok


def test_letters_name_both_parties_year_and_east_asian_fonts(
    demo_workspace: Path, now: datetime
) -> None:
    ws = find_workspace(demo_workspace)
    generate(ws, 2027, now=now)
    roster = load_roster(ws.roster_path)
    pairing = build_pairings(roster, 2027, ws.config.pairing).pairings[0]
    manifest = json.loads((ws.year_dir(2027) / "manifest.json").read_text(encoding="utf-8"))
    path = ws.year_dir(2027) / manifest["documents"][0]["path"]
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    footer = "\n".join(p.text for s in document.sections for p in s.footer.paragraphs)
    everything = text + tables
    assert pairing.superior.name in everything and pairing.subordinate.name in everything
    assert pairing.subordinate.title in everything
    assert "2027" in everything
    assert pairing.doc_id in footer
    with zipfile.ZipFile(path) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
        styles = archive.read("word/styles.xml").decode("utf-8")
    assert 'w:eastAsia="仿宋_GB2312"' in body
    assert 'w:eastAsia="仿宋_GB2312"' in styles


def test_rerun_changes_nothing_and_bytes_are_identical(
    demo_workspace: Path, tmp_path: Path, now: datetime
) -> None:
    ws = find_workspace(demo_workspace)
    generate(ws, 2027, now=now)
    before = _tree(ws.year_dir(2027))
    with open_registry(ws) as registry:
        size = registry.size()
    again = generate(ws, 2027, now=now)
    assert again.count(Change.UNCHANGED) == len(before)
    assert _tree(ws.year_dir(2027)) == before
    with open_registry(ws) as registry:
        assert registry.size() == size

    # A second workspace from the same roster, year and templates, and the same registry name and
    # key (each letter's QR code and 核验码 name them): identical bytes.
    from docgen.letters.workspace_init import init_workspace
    from docgen.roster.example import demo_roster_yaml

    other = tmp_path / "other"
    init_workspace(other, institution="庆城县人民检察院", year=2027, roster_yaml=demo_roster_yaml())
    key = other / "keys" / "registry" / "registry.key"
    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy2(ws.keys_dir / "registry" / "registry.key", key)
    generate(find_workspace(other), 2027, now=now)
    assert _tree(other / "output" / "2027") == before


def test_template_change_reports_changed_letters(demo_workspace: Path, now: datetime) -> None:
    ws = find_workspace(demo_workspace)
    generate(ws, 2027, now=now)
    # The clerk edits the 廉洁从检承诺书 template in Word: here, its core properties change.
    template = ws.templates_dir / "integrity_pledge.docx"
    document = docx.Document(str(template))
    document.paragraphs[-1].add_run("(本年度修订)")
    document.save(str(template))
    result = generate(ws, 2027, now=now)
    changed = [o for o in result.outcomes if o.change is Change.UPDATED]
    assert changed and all(o.kind is LetterKind.INTEGRITY_PLEDGE for o in changed)
    assert result.count(Change.UNCHANGED) == len(result.outcomes) - len(changed)
    out = run_docgen("generate", "--workspace", str(demo_workspace), "--year", "2027")
    assert out.code == 0
    assert "未变化" in out.out


def test_restores_a_deleted_letter(demo_workspace: Path, now: datetime) -> None:
    ws = find_workspace(demo_workspace)
    generate(ws, 2027, now=now)
    victim = next(ws.year_dir(2027).rglob("*.docx"))
    original = victim.read_bytes()
    victim.unlink()
    result = generate(ws, 2027, now=now)
    assert result.count(Change.RESTORED) == 1
    assert victim.read_bytes() == original


def test_bad_roster_leaves_workspace_unchanged(demo_workspace: Path) -> None:
    roster = demo_workspace / "roster.yaml"
    roster.write_text(roster.read_text(encoding="utf-8") + "\n  - {id: P001}\n", encoding="utf-8")
    before = sorted(p.name for p in demo_workspace.rglob("*"))
    out = run_docgen("generate", "--workspace", str(demo_workspace), "--year", "2027")
    assert out.code == 1
    assert "roster.yaml" in out.err
    assert sorted(p.name for p in demo_workspace.rglob("*")) == before


def test_outside_a_workspace_is_a_usage_error(tmp_path: Path) -> None:
    out = run_docgen("generate", "--workspace", str(tmp_path))
    assert out.code == 2
    assert "不是 docgen 工作目录" in out.err
    assert "docgen init" in out.err


@pytest.mark.parametrize("name", ["{{ x }}", "A&B<C>", "𠮷·古丽", "../../etc", "CON"])
def test_edge_case_names_render_literally_and_stay_in_output(
    tmp_path: Path, now: datetime, name: str
) -> None:
    from docgen.letters.workspace_init import init_workspace

    roster = f"""institution: 测试院
people:
  - {{id: S1, name: 书记甲, title: 党组书记、检察长, role: 党组书记}}
  - {{id: L1, name: 领导乙, title: 副检察长, role: 班子成员}}
  - {{id: H1, name: 主任丙, title: 办公室主任, role: 部门负责人}}
  - {{id: M1, name: {json.dumps(name, ensure_ascii=False)}, title: 科员, role: 工作人员}}
departments:
  - {{name: 办公室, head: H1, supervisor: L1, members: [M1]}}
"""
    root = tmp_path / "ws"
    init_workspace(root, institution="测试院", year=2027, roster_yaml=roster)
    generate(find_workspace(root), 2027, now=now)
    output = (root / "output").resolve()
    letters = list(output.rglob("*LJ*.docx"))
    assert len(letters) == 1
    assert letters[0].resolve().is_relative_to(output)
    document = docx.Document(str(letters[0]))
    text = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    text += "\n".join(p.text for p in document.paragraphs)
    assert name in text
