"""The committed letter templates: real .docx files, GB/T 9704 layout, reproducible build."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docxtpl import DocxTemplate

from docgen.core.glossary import LetterKind
from docgen.core.workspace import Fonts
from docgen.letters.render import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SEED = ROOT / "docs" / "实施办法.txt"
CONTEXT_VARIABLES = {
    "institution",
    "year",
    "doc_id",
    "kind_title",
    "tier",
    "superior_name",
    "superior_title",
    "subordinate_name",
    "subordinate_title",
    "department",
    "supervised_departments",
    "articles",
    "verify_code",
    "verify_payload",
}
FONTS = Fonts()


def _open(kind: LetterKind) -> DocumentObject:
    return docx.Document(io.BytesIO(load_template(None, kind)))


def _footers(document: DocumentObject) -> list[object]:
    section = document.sections[0]
    return [section.footer, section.even_page_footer]


@pytest.mark.parametrize("kind", list(LetterKind))
def test_template_opens_with_title_and_signature_block(kind: LetterKind) -> None:
    document = _open(kind)
    first = document.paragraphs[0]
    assert first.text == kind.title
    assert first.style.name == "公文标题"
    assert document.paragraphs[1].text == "\uff08{{ year }}年度\uff09"
    cells = document.tables[-1].rows[0].cells
    assert "{{ superior_name }}" in cells[0].text and "签名" in cells[0].text
    assert "{{ subordinate_name }}" in cells[1].text and "日期\uff1a____年__月__日" in cells[1].text
    assert document.core_properties.title == kind.title


@pytest.mark.parametrize("kind", list(LetterKind))
def test_page_is_a4_with_gbt9704_margins(kind: LetterKind) -> None:
    section = _open(kind).sections[0]
    for actual, expected in (
        (section.page_width, Mm(210)),
        (section.page_height, Mm(297)),
        (section.top_margin, Mm(37)),
        (section.bottom_margin, Mm(35)),
        (section.left_margin, Mm(28)),
        (section.right_margin, Mm(26)),
    ):
        assert actual is not None
        assert abs(actual.mm - expected.mm) < 0.05


@pytest.mark.parametrize("kind", list(LetterKind))
def test_styles_follow_gbt9704(kind: LetterKind) -> None:
    styles = _open(kind).styles
    normal = styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert normal.paragraph_format.line_spacing == Pt(28)
    assert normal.paragraph_format.first_line_indent == Pt(32)
    ind = normal.element.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    # 28 characters in the 156 mm type area: 16 pt condensed by 0.25 pt (in twentieths).
    condense = int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    assert 27 * 16 < 28 * (16 + condense) <= Mm(156).pt
    title = styles["公文标题"]
    assert title.font.size == Pt(22)
    assert title.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert styles["公文一级标题"].font.size == Pt(16)
    assert styles["公文页码"].font.size == Pt(14)
    expected = {
        "Normal": FONTS.body,
        "公文标题": FONTS.title,
        "公文副标题": FONTS.subheading,
        "公文一级标题": FONTS.heading,
        "公文二级标题": FONTS.subheading,
        "公文无缩进正文": FONTS.body,
        "公文落款": FONTS.body,
        "公文页码": FONTS.page_number,
        "公文文书编号": FONTS.page_number,
    }
    for name, font in expected.items():
        rfonts = styles[name].element.rPr.find(qn("w:rFonts"))
        assert rfonts.get(qn("w:eastAsia")) == font, name
        assert rfonts.get(qn("w:ascii")) == font, name


@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_run_names_an_east_asian_font(kind: LetterKind) -> None:
    document = _open(kind)
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(".//" + qn("w:rFonts")).get(qn("w:eastAsia")) == FONTS.body
    parts = [document.element.body, *(f._element for f in _footers(document))]
    runs = [r for part in parts for r in part.iter(qn("w:r"))]
    assert len(runs) > 30
    for run in runs:
        rfonts = run.find(qn("w:rPr") + "/" + qn("w:rFonts"))
        assert rfonts is not None
        assert rfonts.get(qn("w:eastAsia")) in set(vars(FONTS).values())


@pytest.mark.parametrize("kind", list(LetterKind))
def test_footer_has_page_field_and_document_id(kind: LetterKind) -> None:
    document = _open(kind)
    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in zip(
        _footers(document), (WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT), strict=True
    ):
        page, doc_id = footer.paragraphs
        xml = page._p.xml
        assert "PAGE" in "".join(t.text for t in page._p.iter(qn("w:instrText")))
        assert 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
        assert page.text == "— 1 —"
        assert page.alignment == align
        # The 核验码 beside the QR code (inner side), the 编号 under the page number (outer side).
        code, number = "核验码\uff1a{{ verify_code }}", "编号\uff1a{{ doc_id }}"
        expected = f"{code}\t{number}" if align == WD_ALIGN_PARAGRAPH.RIGHT else f"{number}\t{code}"
        assert doc_id.text == expected


@pytest.mark.parametrize("kind", list(LetterKind))
def test_placeholders_are_never_split_across_runs(kind: LetterKind) -> None:
    """Word keeps a placeholder editable only if it sits in one run; docxtpl needs it whole."""
    with zipfile.ZipFile(io.BytesIO(load_template(None, kind))) as archive:
        for name in archive.namelist():
            if not re.fullmatch(r"word/(document|footer\d+|header\d+)\.xml", name):
                continue
            xml = archive.read(name).decode("utf-8")
            for text in re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml):
                assert text.count("{{") == text.count("}}"), text
                assert text.count("{%") == text.count("%}"), text


@pytest.mark.parametrize("kind", list(LetterKind))
def test_templates_use_only_documented_variables(kind: LetterKind) -> None:
    used = DocxTemplate(io.BytesIO(load_template(None, kind))).get_undeclared_template_variables()
    assert used <= CONTEXT_VARIABLES
    assert {"institution", "year", "doc_id", "superior_name", "subordinate_name"} <= used
    readme = (TEMPLATES / "README.md").read_text(encoding="utf-8")
    for name in CONTEXT_VARIABLES:
        assert f"`{name}`" in readme


def test_build_script_reproduces_the_committed_templates(tmp_path: Path) -> None:
    out = tmp_path / "built"
    result = subprocess.run(
        [sys.executable, str(TEMPLATES / "build.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for kind in LetterKind:
        name = f"{kind.value}.docx"
        assert (out / name).read_bytes() == (TEMPLATES / name).read_bytes(), name


def test_template_zip_is_normalised() -> None:
    for kind in LetterKind:
        with zipfile.ZipFile(TEMPLATES / f"{kind.value}.docx") as archive:
            infos = archive.infolist()
            assert archive.testzip() is None
        assert infos[0].filename == "[Content_Types].xml"
        assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
        assert {i.date_time for i in infos} == {(2025, 1, 1, 0, 0, 0)}
        names = {i.filename for i in infos}
        assert "docProps/thumbnail.jpeg" not in names


_CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}


def _cn_number(text: str) -> int:
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _cn_number(text[1:])
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS[tens] * 10 + (_cn_number(ones) if ones else 0)
    return _CN_DIGITS[text]


def _seed_articles(seed: str) -> dict[int, str]:
    articles: dict[int, str] = {}
    current: int | None = None
    for line in seed.splitlines():
        match = re.match(r"第([一二三四五六七八九十]+)条", line)
        if match:
            current = _cn_number(match.group(1))
            articles[current] = ""
        if current is not None:
            articles[current] += line + "\n"
    return articles


@pytest.mark.skipif(not SEED.is_file(), reason="实施办法原文 docs/实施办法.txt 缺失")
@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_cited_article_and_item_exists_in_the_seed(kind: LetterKind) -> None:
    seed = _seed_articles(SEED.read_text(encoding="utf-8"))
    text = "\n".join(p.text for p in _open(kind).paragraphs)
    citations = re.findall(r"第([一二三四五六七八九十]+)条(?:第(\d+)项|第\uff08(.)\uff09项)?", text)
    assert len(citations) > 10
    for article_cn, number, letter in citations:
        article = _cn_number(article_cn)
        assert article in seed, f"第{article_cn}条"
        if number:
            assert re.search(rf"^{number}\.", seed[article], re.M), f"第{article_cn}条第{number}项"
        if letter:
            assert f"({letter})" in seed[article], f"第{article_cn}条第({letter})项"


@pytest.mark.skipif(not SEED.is_file(), reason="实施办法原文 docs/实施办法.txt 缺失")
def test_joint_liability_clause_is_the_seeds_wording() -> None:
    seed = SEED.read_text(encoding="utf-8")
    clause = (
        "因个人责任不到位、工作不力,导致管辖和分管部门的党员干部和工作人员发生严重违纪违法问题,"
        "自愿接受组织调查和承担连带责任"
    )
    assert clause in seed
    text = "\n".join(p.text for p in _open(LetterKind.PUBLIC_COMMITMENT).paragraphs)
    assert clause.replace(",", "\uff0c") in text
