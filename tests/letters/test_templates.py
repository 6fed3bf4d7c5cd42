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
    "superior_role",
    "subordinate_role",
    "department_functions",
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


# --------------------------------------------------------------------------- each role's duties
# Issue #20 item 2: each letter carries the duties of its parties' actual roles. The demo roster
# has every role: the 党组书记 (P001, who also supervises 案件管理部), 副检察长 (P002), the
# 纪检组长 (P005), a 检委会专职委员 (P007), the 政治部主任 (P006) supervising 办公室 (P009) and
# 政工科 (P014).

_TO_ASCII = str.maketrans(
    {"\uff0c": ",", "\uff1b": ";", "\uff1a": ":", "\uff08": "(", "\uff09": ")"}
)

# The seed's words, as the seed writes them (ASCII commas and brackets).
FIRST_RESPONSIBLE_LETTER = "对职责范围内党风廉政建设履行第一责任人的责任"
ORGANISE = "坚持重要工作亲自部署,重大问题亲自过问,重点环节亲自协调,重要案件亲自督办"
ASK_AND_KNOW = "及时了解掌握分管部门党风廉政建设工作情况及直接管理下属的思想、工作、生活情况"
REPORT_TO_SECRETARY = "主动向党组及党组书记汇报分管部门党风廉政建设工作情况"
SIGN_WITH_HEADS = "年初与分管部门负责人签订《党风廉政建设责任书》"
FOUR_ONES = "每季度至少听取1次分管部门党风廉政建设情况汇报"
TALK_LEADERS = "约谈1次"  # 10.7, said of 乙方: "每年至少对乙方履行主体责任情况约谈1次"
SUPERVISION_8 = "协助党组加强党风建设和组织协调自身反腐败工作"
SUPERVISION_8_REPORT = (
    "按规定向县纪委和市院纪检组报告县院党组成员、其他领导干部以及检察干警的重大违纪违法线索和问题"
)
EXCHANGE_13_2 = "每半年与班子成员就贯彻执行党风廉政建设责任制、遵守廉洁自律规定情况交换意见"
SUPERVISION_REPORT_13_10 = "每年应及时向县纪委和市检院纪检组报告履行监督责任情况"
ACCOUNTABILITY_22 = (
    "履行监督责任不到位,对职责范围内的重大违纪违法问题,应当发现而未及时发现,或者发现后不按规定"
    "的组织原则、程序报告、查处的"
)
COMMITTEE_6 = "检委会专职委员协助班子成员抓好党风廉政建设工作"
ARTICLE_7 = "除履行本部门党风廉政建设责任外,还应当按照职能分工,承担党组履行主体责任的相关责任"
OFFICE_7 = "负责党风廉政建设重大事项协调,承担党组有关党风廉政建设决议事项落实督办等工作"
PERSONNEL_7 = "负责将党风廉政建设各项规定和要求的认知纳入教育培训计划,做到逢培必训"
LEADS_11_4 = "对发现的检察机关、检察人员重大违纪违法问题线索,应及时向党组报告"
ITEM_18_2 = (
    "履行责任不力,导致职责范围内发生严重违反廉洁从检、作风建设有关规定和损害群众利益的问题,"
    "或者明令禁止的不正之风长期得不到有效治理,造成不良影响的"
)
ITEM_18_7 = "领导班子成员或者直接管辖的下属发生严重违纪违法问题,负有失教失管失察责任的"
ARTICLE_21_HEAD = (
    "领导班子、领导干部不履行或者不正确履行主体责任,致使领导班子成员或者直接管辖的下属发生严重"
    "违纪违法问题的,应“一案双查”,既追究当事人的责任,也倒查追究相关领导的责任"
)
ARTICLE_21_2 = (
    "下属人员发生贪赃枉法、徇私舞弊、索贿受贿、刑讯逼供等重大犯罪案件,或违规、违纪、违法办案致"
    "当事人死亡、伤残、脱逃等重大责任事故的,倒查追究分管院领导责任"
)
# Cut quotes the letters used to carry: 18.2 and 18.7 without their second half / first words.
CUT_18_2 = "损害群众利益的问题的"
CUT_21 = "不履行或者不正确履行主体责任,致使直接管辖的下属"

ALL_ZR = [ITEM_18_2, ITEM_18_7, ARTICLE_21_HEAD, ARTICLE_21_2]
ROLE_CASES: dict[str, tuple[list[str], list[str]]] = {
    # doc id: (quotes present, quotes absent)
    "2027-ZR-P001-P002": (  # 党组书记 × 副检察长
        [
            FIRST_RESPONSIBLE_LETTER,
            ORGANISE,
            ASK_AND_KNOW,
            SIGN_WITH_HEADS,
            FOUR_ONES,
            LEADS_11_4,
            TALK_LEADERS,
            *ALL_ZR,
        ],
        [SUPERVISION_8, EXCHANGE_13_2, COMMITTEE_6, ARTICLE_7, ACCOUNTABILITY_22],
    ),
    "2027-ZR-P001-P005": (  # 党组书记 × 纪检组长
        [
            FIRST_RESPONSIBLE_LETTER,
            SUPERVISION_8,
            SUPERVISION_8_REPORT,
            EXCHANGE_13_2,
            SUPERVISION_REPORT_13_10,
            ACCOUNTABILITY_22,
            TALK_LEADERS,
            *ALL_ZR,
        ],
        [SIGN_WITH_HEADS, "四个一", FOUR_ONES, ASK_AND_KNOW, COMMITTEE_6, ARTICLE_7],
    ),
    "2027-ZR-P001-P007": (  # 党组书记 × 检委会专职委员
        [FIRST_RESPONSIBLE_LETTER, COMMITTEE_6, LEADS_11_4, *ALL_ZR],
        [
            SIGN_WITH_HEADS,
            "四个一",
            FOUR_ONES,
            ASK_AND_KNOW,
            SUPERVISION_8,
            TALK_LEADERS,
            ACCOUNTABILITY_22,
        ],
    ),
    "2027-ZR-P001-P043": (  # 党组书记 as 分管 of 案件管理部 × its head
        [FIRST_RESPONSIBLE_LETTER, ORGANISE, *ALL_ZR],
        ["甲方作为分管院领导", "负主要领导责任", REPORT_TO_SECRETARY, ARTICLE_7, LEADS_11_4],
    ),
    "2027-ZR-P002-P018": (  # 副检察长 × 第一检察部 (not a 相关职能部门)
        [ASK_AND_KNOW, REPORT_TO_SECRETARY, *ALL_ZR],
        [FIRST_RESPONSIBLE_LETTER, ARTICLE_7, OFFICE_7, PERSONNEL_7, LEADS_11_4, "第十一条第4项"],
    ),
    "2027-ZR-P006-P009": (  # 政治部主任 × 办公室
        [ARTICLE_7, OFFICE_7, *ALL_ZR],
        [PERSONNEL_7, LEADS_11_4, "第十一条第4项"],
    ),
    "2027-ZR-P006-P014": (  # 政治部主任 × 政工科
        [ARTICLE_7, PERSONNEL_7, *ALL_ZR],
        [OFFICE_7, LEADS_11_4, "第十一条第4项"],
    ),
    "2027-CN-P001-P005": (  # 公开承诺书, 纪检组长
        [ACCOUNTABILITY_22, ARTICLE_21_HEAD],
        ["负主要领导责任", COMMITTEE_6],
    ),
    "2027-CN-P001-P007": ([COMMITTEE_6], ["负主要领导责任", ACCOUNTABILITY_22]),
    "2027-CN-P002-P018": ([ARTICLE_21_HEAD], ["相关责任(第七条)", "(第七条)"]),
    "2027-CN-P006-P009": ([ARTICLE_7], []),
}


@pytest.fixture(scope="module")
def demo_letters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every letter of the demo roster for 2027, rendered by the fast path (generate's), and the
    cases above also by docxtpl: the two must agree to the byte."""
    from docgen.core.workspace import PairingOptions
    from docgen.letters.fastrender import CompiledTemplate
    from docgen.letters.generate import letter_context
    from docgen.letters.render import render_letter
    from docgen.records.letter_code import RegistryIdentity
    from docgen.roster.example import demo_roster_yaml
    from docgen.roster.hierarchy import build_pairings
    from docgen.roster.load import load_roster

    path = tmp_path_factory.mktemp("roles") / "roster.yaml"
    path.write_text(demo_roster_yaml(), encoding="utf-8")
    roster = load_roster(path)
    identity = RegistryIdentity("docgen-demo", bytes.fromhex("1a2b3c4d"))
    compiled = {
        kind: CompiledTemplate.from_bytes(load_template(None, kind), year=2027)
        for kind in LetterKind
    }
    letters: dict[str, bytes] = {}
    for pairing in build_pairings(roster, 2027, PairingOptions()).pairings:
        context = letter_context(pairing, roster, roster.institution, pairing.doc_id, identity)
        letters[pairing.doc_id] = compiled[pairing.kind].render(context)
        if pairing.doc_id in ROLE_CASES:
            slow = render_letter(load_template(None, pairing.kind), context, year=2027)
            assert slow == letters[pairing.doc_id], pairing.doc_id
    return letters


def _letter_text(data: bytes) -> str:
    """The letter's paragraphs with the seed's ASCII punctuation, to compare with the seed."""
    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs).translate(_TO_ASCII)


@pytest.mark.skipif(not SEED.is_file(), reason="实施办法原文 docs/实施办法.txt 缺失")
@pytest.mark.parametrize("doc_id", sorted(ROLE_CASES))
def test_each_role_letter_quotes_its_own_duties(
    demo_letters: dict[str, bytes], doc_id: str
) -> None:
    seed = SEED.read_text(encoding="utf-8")
    text = _letter_text(demo_letters[doc_id])
    present, absent = ROLE_CASES[doc_id]
    for quote in present:
        assert quote in seed, quote
        assert quote in text, (doc_id, quote)
    for quote in absent:
        assert quote not in text, (doc_id, quote)
    assert CUT_18_2 not in text and CUT_21 not in text, doc_id


def test_only_related_functional_departments_carry_article_7(
    demo_letters: dict[str, bytes],
) -> None:
    """第七条 (相关职能部门: 办公室, 政工科) on their department-tier letters only; no department
    head is given 第十一条第4项, a 班子成员's duty."""
    department_tier = [d for d in demo_letters if d.startswith(("2027-ZR-", "2027-CN-"))]
    functional = {"2027-ZR-P006-P009", "2027-ZR-P006-P014", "2027-CN-P006-P009",
                  "2027-CN-P006-P014"}  # fmt: skip
    seen_department = 0
    for doc_id in department_tier:
        text = _letter_text(demo_letters[doc_id])
        if "乙方负责部门" not in text:
            continue
        seen_department += 1
        assert ("(第七条)" in text) == (doc_id in functional), doc_id
        assert "第十一条第4项" not in text, doc_id
    assert seen_department == 2 * 8  # 9 departments, 第四检察部's head is its own 分管院领导


def test_generated_letters_do_not_keep_the_templates_editing_note(
    demo_letters: dict[str, bytes],
) -> None:
    for kind in LetterKind:
        assert (
            "双花括号"
            in docx.Document(io.BytesIO(load_template(None, kind))).core_properties.comments
        )
    for doc_id, data in demo_letters.items():
        props = docx.Document(io.BytesIO(data)).core_properties
        assert props.comments == "", doc_id
        assert props.title in {kind.title for kind in LetterKind}


# --- 第七条 as a roster fact: a department's ``function`` (职能), docgen.roster.functions ---------


def _render_roster(yaml_text: str, directory: Path) -> dict[str, bytes]:
    """Every letter of a roster for 2027, rendered the way generate renders them."""
    from docgen.core.workspace import PairingOptions
    from docgen.letters.fastrender import CompiledTemplate
    from docgen.letters.generate import letter_context
    from docgen.records.letter_code import RegistryIdentity
    from docgen.roster.hierarchy import build_pairings
    from docgen.roster.load import load_roster

    path = directory / "roster.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    roster = load_roster(path)
    identity = RegistryIdentity("docgen-demo", bytes.fromhex("1a2b3c4d"))
    compiled = {
        kind: CompiledTemplate.from_bytes(load_template(None, kind), year=2027)
        for kind in LetterKind
    }
    return {
        p.doc_id: compiled[p.kind].render(
            letter_context(p, roster, roster.institution, p.doc_id, identity)
        )
        for p in build_pairings(roster, 2027, PairingOptions()).pairings
    }


def _without_function_fields(yaml_text: str) -> str:
    """The roster as written before the field existed: no ``function`` key anywhere."""
    stripped = re.sub(r", function: [^,}]+", "", yaml_text)
    assert "function:" not in stripped.replace("# function", "")
    return stripped


def test_a_roster_without_the_field_gives_the_same_letters_byte_for_byte(
    demo_letters: dict[str, bytes], tmp_path: Path
) -> None:
    """The demo roster now states 职能 for its 办公室 and 政工科; the same roster without the
    field (an old roster) falls back to the name rule and gives identical letters."""
    from docgen.roster.example import demo_roster_yaml

    explicit = demo_roster_yaml()
    assert "function: 办公室" in explicit and "function: 政工科" in explicit
    old = _render_roster(_without_function_fields(explicit), tmp_path)
    assert old.keys() == demo_letters.keys()
    changed = [doc_id for doc_id, data in old.items() if data != demo_letters[doc_id]]
    assert changed == []


def test_the_field_not_the_name_decides_article_7(
    demo_letters: dict[str, bytes], tmp_path: Path
) -> None:
    """A department named 办公室 that the roster says is not 第七条's (职能: 无) gets no 第七条
    paragraph; a department named otherwise with 职能: 办公室 gets the 办公室's (第七条第(一)项)."""
    from docgen.roster.example import demo_roster_yaml

    text = demo_roster_yaml()
    changed = text.replace("{name: 办公室, function: 办公室,", "{name: 办公室, function: 无,")
    changed = changed.replace(
        "{name: 第一检察部, head:", "{name: 第一检察部, function: 办公室, head:"
    )
    assert changed.count("function: 无") == 1 and changed.count("function: 办公室") == 1
    letters = _render_roster(changed, tmp_path)
    for doc_id in ("2027-ZR-P006-P009", "2027-CN-P006-P009"):  # 办公室, 职能: 无
        before, after = _letter_text(demo_letters[doc_id]), _letter_text(letters[doc_id])
        assert "(第七条)" in before and ARTICLE_7 in before, doc_id
        assert "(第七条)" not in after and ARTICLE_7 not in after, doc_id
        assert OFFICE_7 not in after, doc_id
    after = _letter_text(letters["2027-ZR-P002-P018"])  # 第一检察部, 职能: 办公室
    before = _letter_text(demo_letters["2027-ZR-P002-P018"])
    assert "(第七条)" not in before and OFFICE_7 not in before
    assert "(第七条)" in after and ARTICLE_7 in after and OFFICE_7 in after
    assert PERSONNEL_7 not in after
    # the 政工科 keeps its own, and letters of no changed department are untouched
    assert letters["2027-ZR-P006-P014"] == demo_letters["2027-ZR-P006-P014"]
    touched = {"2027-ZR-P006-P009", "2027-CN-P006-P009", "2027-ZR-P002-P018",
                 "2027-CN-P002-P018"}  # fmt: skip
    for doc_id, data in letters.items():
        if doc_id not in touched:
            assert data == demo_letters[doc_id], doc_id
