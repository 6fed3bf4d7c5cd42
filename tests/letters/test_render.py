"""Rendering letters: content a signer reads, literal names, deterministic bytes, fast path."""

from __future__ import annotations

import functools
import hashlib
import io
import multiprocessing as mp
import pickle
import shutil
import subprocess
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.core.errors import ValidationError
from docgen.core.glossary import LetterKind
from docgen.core.workspace import Fonts
from docgen.letters.fastrender import CompiledTemplate
from docgen.letters.render import clean_text, load_template, render_letter, template_digest
from docgen.records.letter_code import RegistryIdentity, code_context

YEAR = 2027
IDENTITY = RegistryIdentity("qingcheng.jcy.example/docgen", bytes.fromhex("1a2b3c4d"))
FW_COLON = "\uff1a"
FW_OPEN, FW_CLOSE = "\uff08", "\uff09"
SUPERIOR_LABEL = f"甲方{FW_OPEN}责任领导{FW_CLOSE}{FW_COLON}"
EDGE_NAMES = [
    "{{ x }}",
    "{% if %}",
    "{%p if x %}",
    "{_{ y }_}",
    "A&B",
    "<w:t>",
    "阿依古丽·买买提",
    "𠮷田",
    "\u200fمحمد\u200f",
    'O\'Neil "Jr"',
    "  前后空格  ",
]
TIERS = {
    LetterKind.RESPONSIBILITY: ("leadership", "department"),
    LetterKind.PUBLIC_COMMITMENT: ("leadership", "department"),
    LetterKind.INTEGRITY_PLEDGE: ("staff",),
}


def context(kind: LetterKind, tier: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "institution": "庆城县人民检察院",
        "year": YEAR,
        "doc_id": f"{kind.code}-{YEAR}-0042",
        "kind_title": kind.title,
        "tier": tier,
        "superior_name": "王建国",
        "superior_title": "党组书记、检察长",
        "subordinate_name": "李明华",
        "subordinate_title": "党组成员、副检察长",
        "department": "",
        "supervised_departments": ["第一检察部", "第二检察部"],
        "articles": "第九条第5项、第十条第3项",
        "superior_role": "party_secretary",
        "subordinate_role": "leader",
        "department_functions": [],
    }
    if tier == "department":
        base.update(
            superior_name="李明华",
            superior_title="党组成员、副检察长",
            subordinate_name="赵晓燕",
            subordinate_title="第一检察部主任",
            department="第一检察部",
            supervised_departments=[],
            articles="第九条第5项、第十一条第2项",
            superior_role="leader",
            subordinate_role="department_head",
        )
    elif tier == "staff":
        base.update(
            superior_name="赵晓燕",
            superior_title="第一检察部主任",
            subordinate_name="孙志强",
            subordinate_title="检察官助理",
            department="第一检察部",
            supervised_departments=[],
            articles="第九条第7项",
            superior_role="department_head",
            subordinate_role="staff",
        )
    base.update(changes)
    # The footer's 核验码 and QR code, as generate gives them (tests/letters/test_qr_code.py).
    base.update(code_context(IDENTITY, str(base["doc_id"])))
    return base


@pytest.fixture(scope="module")
def templates() -> dict[LetterKind, bytes]:
    return {kind: load_template(None, kind) for kind in LetterKind}


@pytest.fixture(scope="module")
def compiled(templates: dict[LetterKind, bytes]) -> dict[LetterKind, CompiledTemplate]:
    return {k: CompiledTemplate.from_bytes(t, year=YEAR) for k, t in templates.items()}


def _open(data: bytes) -> DocumentObject:
    return docx.Document(io.BytesIO(data))


def _body_text(document: DocumentObject) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def _footer_texts(document: DocumentObject) -> list[str]:
    section = document.sections[0]
    return [
        "\n".join(p.text for p in footer.paragraphs)
        for footer in (section.footer, section.even_page_footer)
    ]


CASES = [(kind, tier) for kind, tiers in TIERS.items() for tier in tiers]


@pytest.mark.parametrize(("kind", "tier"), CASES)
def test_letter_names_parties_year_institution_and_id(
    templates: dict[LetterKind, bytes], kind: LetterKind, tier: str
) -> None:
    ctx = context(kind, tier)
    document = _open(render_letter(templates[kind], ctx, year=YEAR))
    text = _body_text(document)
    assert document.paragraphs[0].text == kind.title
    assert document.paragraphs[1].text == f"{FW_OPEN}{YEAR}年度{FW_CLOSE}"
    for key in ("superior_name", "superior_title", "subordinate_name", "subordinate_title"):
        assert ctx[key] in text, key
    assert f"《{ctx['institution']}落实党风廉政建设主体责任和监督责任实施办法" in text
    assert ctx["articles"] in text
    assert f"有效期至{YEAR}年12月31日" in text
    assert "{{" not in text and "{%" not in text
    for footer in _footer_texts(document):
        assert f"编号{FW_COLON}{ctx['doc_id']}" in footer
        assert "— 1 —" in footer
    cells = document.tables[-1].rows[0].cells
    assert cells[0].paragraphs[0].text == f"{SUPERIOR_LABEL}{ctx['superior_name']}"
    assert ctx["subordinate_name"] in cells[1].paragraphs[0].text
    assert cells[1].paragraphs[2].text.startswith(f"签名{FW_COLON}")


def test_responsibility_leadership_tier_cites_secretary_and_leader_duties(
    templates: dict[LetterKind, bytes],
) -> None:
    kind = LetterKind.RESPONSIBILITY
    text = _body_text(_open(render_letter(templates[kind], context(kind, "leadership"), year=YEAR)))
    assert "第一责任人" in text  # 第五条, the 书记
    assert "过问了解责任" in text  # 第六条, the 班子成员
    assert "“四个一”" in text  # 第十一条第6项
    assert "每年至少对乙方履行主体责任情况约谈1次" in text  # 第十条第7项
    assert f"乙方分管部门{FW_COLON}第一检察部、第二检察部" in text
    assert "明确职责" in text and "明确工作任务和要求" in text and "明确责任担当" in text
    assert "乙方负责" not in text


def test_responsibility_department_tier_has_department_duties(
    templates: dict[LetterKind, bytes],
) -> None:
    kind = LetterKind.RESPONSIBILITY
    text = _body_text(_open(render_letter(templates[kind], context(kind, "department"), year=YEAR)))
    assert "甲方作为分管院领导" in text
    assert "乙方负责第一检察部党风廉政建设工作" in text
    assert "《廉洁从检承诺书》" in text  # 第九条第7项
    assert "每季度向甲方汇报1次本部门党风廉政建设情况" in text  # 第十一条第6项
    assert "第一责任人" not in text
    assert "乙方分管部门" not in text
    assert "协调督办责任" not in text and "舆情处置责任" not in text


@pytest.mark.parametrize(
    ("department", "duty"), [("办公室", "协调督办责任"), ("政工科", "舆情处置责任")]
)
def test_office_and_personnel_departments_get_their_article_7_duty(
    templates: dict[LetterKind, bytes], department: str, duty: str
) -> None:
    kind = LetterKind.RESPONSIBILITY
    ctx = context(kind, "department", department=department, department_functions=[department])
    text = _body_text(_open(render_letter(templates[kind], ctx, year=YEAR)))
    assert duty in text


@pytest.mark.parametrize("tier", ["leadership", "department"])
def test_public_commitment_has_joint_liability_clause(
    templates: dict[LetterKind, bytes], tier: str
) -> None:
    kind = LetterKind.PUBLIC_COMMITMENT
    text = _body_text(_open(render_letter(templates[kind], context(kind, tier), year=YEAR)))
    assert (
        "因个人责任不到位、工作不力，导致管辖和分管部门的党员干部和工作人员发生严重违纪违法问题，"
        "自愿接受组织调查和承担连带责任"
    ) in text
    assert "一案双查" in text


def test_integrity_pledge_covers_integrity_and_breach(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    text = _body_text(_open(render_letter(templates[kind], context(kind, "staff"), year=YEAR)))
    assert "一、廉洁从检" in text
    assert "二、违诺承担" in text
    assert "“廉洁从检和违诺承担”" in text
    assert f"乙方所在部门{FW_COLON}第一检察部" in text


@pytest.mark.parametrize("name", EDGE_NAMES)
@pytest.mark.parametrize("kind", list(LetterKind))
def test_names_render_literally(
    templates: dict[LetterKind, bytes], kind: LetterKind, name: str
) -> None:
    tier = TIERS[kind][0]
    ctx = context(kind, tier, superior_name=name, subordinate_title=name, doc_id=name)
    document = _open(render_letter(templates[kind], ctx, year=YEAR))
    assert document.tables[-1].rows[0].cells[0].paragraphs[0].text == SUPERIOR_LABEL + name
    assert any(p.text.endswith("\u3000" + name) for p in document.paragraphs)
    assert all(f"编号{FW_COLON}{name}" in footer for footer in _footer_texts(document))


def test_supervised_departments_are_escaped_each(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.RESPONSIBILITY
    ctx = context(kind, "leadership", supervised_departments=["A&B", "<C>", "{{ d }}"])
    text = _body_text(_open(render_letter(templates[kind], ctx, year=YEAR)))
    assert f"乙方分管部门{FW_COLON}A&B、<C>、{{{{ d }}}}" in text


def test_control_characters_are_removed(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    ctx = context(kind, "staff", subordinate_name="张\x00三\x07\t\n\r\x1b\x7f\x85丰")
    data = render_letter(templates[kind], ctx, year=YEAR)
    cells = _open(data).tables[-1].rows[0].cells
    assert cells[1].paragraphs[0].text.endswith(FW_COLON + "张三丰")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<w:br/>" not in archive.read("word/document.xml").decode("utf-8")


def test_clean_text_keeps_marks_and_astral_characters() -> None:
    assert clean_text("\u200f𠮷·\u200d\x00a\ud800b\ufffe") == "\u200f𠮷·\u200dab"


def test_two_renders_are_identical_and_stamped_with_the_year(
    templates: dict[LetterKind, bytes],
) -> None:
    kind = LetterKind.RESPONSIBILITY
    ctx = context(kind, "leadership")
    first = render_letter(templates[kind], ctx, year=YEAR)
    assert render_letter(templates[kind], ctx, year=YEAR) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
        assert archive.testzip() is None
    assert infos[0].filename == "[Content_Types].xml"
    assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
    assert {i.date_time for i in infos} == {(YEAR, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    props = _open(first).core_properties
    assert props.created == props.modified == datetime(YEAR, 1, 1, tzinfo=UTC)
    assert props.last_modified_by == "docgen"
    assert props.revision == 1
    assert props.title == kind.title
    later = render_letter(templates[kind], ctx, year=YEAR + 1)
    with zipfile.ZipFile(io.BytesIO(later)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(YEAR + 1, 1, 1, 0, 0, 0)}


def _fonts_in(data: bytes) -> set[str]:
    names: set[str] = set()
    document = _open(data)
    parts = [document.styles.element, document.element.body]
    section = document.sections[0]
    parts += [section.footer._element, section.even_page_footer._element]
    for part in parts:
        for rfonts in part.iter(qn("w:rFonts")):
            value = rfonts.get(qn("w:eastAsia"))
            if value:
                names.add(value)
    return names


def test_configured_fonts_replace_the_defaults(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.RESPONSIBILITY
    fonts = Fonts(title="黑体", body="仿宋", heading="宋体", subheading="楷体", page_number="宋体")
    data = render_letter(templates[kind], context(kind, "leadership"), year=YEAR, fonts=fonts)
    assert _fonts_in(data) == {"黑体", "仿宋", "宋体", "楷体"}
    title_run = _open(data).paragraphs[0].runs[0]._r
    assert title_run.find(qn("w:rPr") + "/" + qn("w:rFonts")).get(qn("w:eastAsia")) == "黑体"
    assert _fonts_in(render_letter(templates[kind], context(kind, "leadership"), year=YEAR)) == {
        "方正小标宋简体",
        "仿宋_GB2312",
        "黑体",
        "楷体_GB2312",
        "宋体",
    }


def test_swapped_fonts_do_not_chain(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    fonts = Fonts(title="黑体", heading="方正小标宋简体")
    data = render_letter(templates[kind], context(kind, "staff"), year=YEAR, fonts=fonts)
    document = _open(data)
    title = document.paragraphs[0].runs[0]._r.find(qn("w:rPr") + "/" + qn("w:rFonts"))
    assert title.get(qn("w:eastAsia")) == "黑体"
    heading = next(p for p in document.paragraphs if p.text == "一、廉洁从检")
    rfonts = heading.runs[0]._r.find(qn("w:rPr") + "/" + qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "方正小标宋简体"


def test_workspace_template_is_preferred(
    tmp_path: Path, templates: dict[LetterKind, bytes]
) -> None:
    kind = LetterKind.PUBLIC_COMMITMENT
    document = _open(templates[kind])
    document.paragraphs[0].runs[0].text = "公开承诺书(本院修订)"
    own = tmp_path / "templates" / f"{kind.value}.docx"
    own.parent.mkdir()
    document.save(own)
    assert load_template(own.parent, kind) == own.read_bytes()
    assert load_template(tmp_path / "nowhere", kind) == templates[kind]
    assert (
        load_template(own.parent, LetterKind.INTEGRITY_PLEDGE)
        == templates[LetterKind.INTEGRITY_PLEDGE]
    )
    text = _body_text(
        _open(render_letter(own.read_bytes(), context(kind, "department"), year=YEAR))
    )
    assert text.startswith("公开承诺书(本院修订)")


def test_template_digest_is_sha256(templates: dict[LetterKind, bytes]) -> None:
    data = templates[LetterKind.RESPONSIBILITY]
    assert template_digest(data) == hashlib.sha256(data).hexdigest()


def test_not_a_docx_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        render_letter(b"plain text", {}, year=YEAR, source="templates/responsibility.docx")
    assert "不是有效的 Word" in str(info.value)
    assert "templates/responsibility.docx" in str(info.value)


def _template_with_paragraph(template: bytes, text: str) -> bytes:
    document = _open(template)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_unknown_placeholder_is_reported_not_left_blank(
    templates: dict[LetterKind, bytes],
) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    broken = _template_with_paragraph(templates[kind], "{{ instituton }}")
    for render in (
        lambda: render_letter(broken, context(kind, "staff"), year=YEAR, source="x.docx"),
        lambda: CompiledTemplate.from_bytes(broken, year=YEAR, source="x.docx").render(
            context(kind, "staff")
        ),
    ):
        with pytest.raises(ValidationError) as info:
            render()
        assert "未知的占位符" in str(info.value) and "instituton" in str(info.value)


def test_malformed_placeholder_is_reported(templates: dict[LetterKind, bytes]) -> None:
    broken = _template_with_paragraph(templates[LetterKind.INTEGRITY_PLEDGE], "{% if %}")
    with pytest.raises(ValidationError) as info:
        CompiledTemplate.from_bytes(broken, year=YEAR, source="x.docx")
    assert "占位符写法有误" in str(info.value)


def test_year_outside_zip_range_is_refused(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    with pytest.raises(ValidationError):
        render_letter(templates[kind], context(kind, "staff"), year=1970)


# --------------------------------------------------------------------------- fast path


@pytest.mark.parametrize("name", ["王建国", *EDGE_NAMES, "ab\x00\t\ncd"])
@pytest.mark.parametrize(("kind", "tier"), CASES)
def test_fast_path_is_byte_identical(
    templates: dict[LetterKind, bytes],
    compiled: dict[LetterKind, CompiledTemplate],
    kind: LetterKind,
    tier: str,
    name: str,
) -> None:
    ctx = context(
        kind,
        tier,
        superior_name=name,
        subordinate_name=name,
        department=name if tier != "leadership" else "",
        supervised_departments=[name, "办公室"],
        doc_id=name,
    )
    assert not compiled[kind].uses_fallback
    assert compiled[kind].render(ctx) == render_letter(templates[kind], ctx, year=YEAR)


@pytest.mark.parametrize("kind", list(LetterKind))
def test_fast_path_is_byte_identical_with_configured_fonts(
    templates: dict[LetterKind, bytes], kind: LetterKind
) -> None:
    fonts = Fonts(title="黑体", body="仿宋", heading="宋体")
    ctx = context(kind, TIERS[kind][0])
    fast = CompiledTemplate.from_bytes(templates[kind], year=YEAR, fonts=fonts).render(ctx)
    assert fast == render_letter(templates[kind], ctx, year=YEAR, fonts=fonts)


@functools.cache
def _responsibility() -> tuple[bytes, CompiledTemplate]:
    template = load_template(None, LetterKind.RESPONSIBILITY)
    return template, CompiledTemplate.from_bytes(template, year=YEAR)


names = st.text(st.characters(exclude_categories=("Cs",)), max_size=16)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(superior=names, subordinate=names, department=names)
def test_fast_path_matches_plain_path_for_any_names(
    superior: str, subordinate: str, department: str
) -> None:
    kind = LetterKind.RESPONSIBILITY
    template, compiled = _responsibility()
    ctx = context(
        kind,
        "department",
        superior_name=superior,
        subordinate_name=subordinate,
        department=department,
    )
    fast = compiled.render(ctx)
    assert fast == render_letter(template, ctx, year=YEAR)
    cells = _open(fast).tables[-1].rows[0].cells
    assert cells[0].paragraphs[0].text == SUPERIOR_LABEL + clean_text(superior)


def test_fast_path_handles_tags_in_headers(templates: dict[LetterKind, bytes]) -> None:
    """A clerk may add a running header with placeholders."""
    kind = LetterKind.INTEGRITY_PLEDGE
    document = _open(templates[kind])
    document.sections[0].header.paragraphs[0].text = "{{ institution }}·{{ doc_id }}"
    out = io.BytesIO()
    document.save(out)
    template = out.getvalue()
    ctx = context(kind, "staff", institution="A&B<县>人民检察院")
    fast = CompiledTemplate.from_bytes(template, year=YEAR).render(ctx)
    assert fast == render_letter(template, ctx, year=YEAR)
    header = _open(fast).sections[0].header.paragraphs[0].text
    assert header == f"A&B<县>人民检察院·{ctx['doc_id']}"


_FOOTNOTES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:id="1"><w:p><w:r><w:t>依据{{ articles }}</w:t></w:r></w:p></w:footnote>'
    "</w:footnotes>"
)


def _with_footnotes(template: bytes) -> bytes:
    """The template as Word saves it: with a footnotes part (here holding a placeholder)."""
    rel = (
        '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/footnotes" Target="footnotes.xml"/>'
    )
    override = (
        '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.footnotes+xml"/>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            dst.writestr(info, data)
        dst.writestr("word/footnotes.xml", _FOOTNOTES_XML.encode("utf-8"))
    return out.getvalue()


def test_fast_path_handles_word_footnotes(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.PUBLIC_COMMITMENT
    template = _with_footnotes(templates[kind])
    ctx = context(kind, "leadership", articles="第九条第6项&<{{ x }}>")
    fast = CompiledTemplate.from_bytes(template, year=YEAR)
    assert not fast.uses_fallback
    data = fast.render(ctx)
    assert data == render_letter(template, ctx, year=YEAR)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        footnotes = archive.read("word/footnotes.xml").decode("utf-8")
    assert "依据第九条第6项&amp;&lt;&#123;&#123; x &#125;&#125;&gt;" in footnotes


def test_two_sections_with_footnotes_fall_back_to_the_plain_path(
    templates: dict[LetterKind, bytes],
) -> None:
    kind = LetterKind.PUBLIC_COMMITMENT
    document = _open(_with_footnotes(templates[kind]))
    document.add_section()
    document.add_paragraph("{{ doc_id }}")
    out = io.BytesIO()
    document.save(out)
    template = out.getvalue()
    ctx = context(kind, "department")
    fast = CompiledTemplate.from_bytes(template, year=YEAR)
    assert fast.uses_fallback
    assert fast.render(ctx) == render_letter(template, ctx, year=YEAR)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="未安装 LibreOffice(soffice)")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="未安装 poppler-utils(pdftotext)")
def test_libreoffice_opens_a_fast_path_letter(
    tmp_path: Path, compiled: dict[LetterKind, CompiledTemplate]
) -> None:
    kind = LetterKind.PUBLIC_COMMITMENT
    path = tmp_path / "letter.docx"
    path.write_bytes(
        compiled[kind].render(context(kind, "leadership", subordinate_name="𠮷田·A&B"))
    )
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "letter.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "公开承诺书" in text
    assert "𠮷田·A&B" in text
    assert "自愿接受组织调查和承担连带责任" in text


def test_compiled_template_survives_pickling_for_worker_processes(
    templates: dict[LetterKind, bytes],
) -> None:
    kind = LetterKind.RESPONSIBILITY
    fonts = Fonts(body="仿宋")
    original = CompiledTemplate.from_bytes(templates[kind], year=YEAR, fonts=fonts)
    copy = pickle.loads(pickle.dumps(original))
    ctx = context(kind, "department", subordinate_name="𠮷田")
    assert copy.year == YEAR
    assert copy.render(ctx) == original.render(ctx)
    assert copy.render(ctx) == render_letter(templates[kind], ctx, year=YEAR, fonts=fonts)


def test_worker_processes_render_the_same_bytes(
    compiled: dict[LetterKind, CompiledTemplate],
) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    contexts = [context(kind, "staff", subordinate_name=f"干警{i}") for i in range(4)]
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
        remote = list(pool.map(compiled[kind].render, contexts))
    assert remote == [compiled[kind].render(c) for c in contexts]


def test_document_properties_are_kept_not_rendered(templates: dict[LetterKind, bytes]) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    document = _open(templates[kind])
    document.core_properties.title = "{{ not_a_variable }} & 承诺书"
    out = io.BytesIO()
    document.save(out)
    template = out.getvalue()
    ctx = context(kind, "staff")
    plain = render_letter(template, ctx, year=YEAR)
    assert CompiledTemplate.from_bytes(template, year=YEAR).render(ctx) == plain
    assert _open(plain).core_properties.title == "{{ not_a_variable }} & 承诺书"


# --------------------------------------------------------------------------- fragments


def _with_document_xml(template: bytes, change: Any) -> bytes:
    """The template with ``change(document_xml_text)`` applied to word/document.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = change(data.decode("utf-8")).encode("utf-8")
            dst.writestr(info, data)
    return out.getvalue()


def test_letters_of_built_in_templates_are_joined_from_fragments(
    templates: dict[LetterKind, bytes],
) -> None:
    for kind, tiers in TIERS.items():
        fast = CompiledTemplate.from_bytes(templates[kind], year=YEAR)
        letters = [
            (context(kind, tier, subordinate_name=name, superior_name=name[::-1]), tier)
            for tier in tiers
            for name in ("王建国", "A&B<C>", "{{ x }}", "𠮷田·阿依古丽", 'O\'Neil "Jr"')
        ]
        for ctx, _tier in letters:
            fast.render(ctx)
        stats = fast.skeleton_stats()
        assert stats.direct
        assert stats.rejected == 0
        # One skeleton per tier for the body, one per footer: names do not make new ones.
        assert stats.joined == len(tiers) + 2
        for ctx, _tier in letters[:: len(letters) - 1]:
            assert fast.render(ctx) == render_letter(templates[kind], ctx, year=YEAR)


def test_value_in_an_attribute_is_post_processed_in_full(
    templates: dict[LetterKind, bytes],
) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    template = _with_document_xml(
        templates[kind],
        lambda xml: xml.replace(
            "<w:body>",
            '<w:body><w:bookmarkStart w:id="90" w:name="{{ doc_id }}"/><w:bookmarkEnd w:id="90"/>',
            1,
        ),
    )
    fast = CompiledTemplate.from_bytes(template, year=YEAR)
    for doc_id in ('a"b&<c>', "LJ-2027-000001", "𠮷\t'x'"):
        ctx = context(kind, "staff", doc_id=doc_id)
        assert fast.render(ctx) == render_letter(template, ctx, year=YEAR)
    assert fast.skeleton_stats().rejected >= 1


@pytest.mark.parametrize(
    ("paragraph", "name", "direct"),
    [
        # Computed from values: not written directly, so both renders are compared per letter.
        ("{{ superior_name|upper }}·{{ superior_name ~ subordinate_name }}", "a&b'c", False),
        ("{{ (superior_name ~ '')|length }}·{{ superior_name|center(12) }}", "王建国", False),
        ("{{ superior_name[0] }}{{ superior_name|e }}", "&<>", False),
        # Next to docxtpl's {_{ clean-up: a value starting with % would complete "{_%".
        ("{_{{ superior_name }}·{{ superior_name }}_}", "% x %", True),
    ],
)
def test_templates_that_compute_with_values_stay_byte_identical(
    templates: dict[LetterKind, bytes], paragraph: str, name: str, direct: bool
) -> None:
    kind = LetterKind.INTEGRITY_PLEDGE
    template = _template_with_paragraph(templates[kind], paragraph)
    fast = CompiledTemplate.from_bytes(template, year=YEAR)
    for value in (name, "李四", name + name):
        ctx = context(kind, "staff", superior_name=value, subordinate_name=value[::-1])
        assert fast.render(ctx) == render_letter(template, ctx, year=YEAR)
    stats = fast.skeleton_stats()
    assert stats.direct is direct
    if direct:
        assert stats.rejected >= 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(
        st.text(st.characters(exclude_categories=("Cs",)), max_size=12), min_size=1, max_size=4
    )
)
def test_joined_letters_match_the_plain_path_for_any_department_lists(names: list[str]) -> None:
    kind = LetterKind.RESPONSIBILITY
    template, compiled = _responsibility()
    ctx = context(
        kind,
        "leadership",
        supervised_departments=names,
        subordinate_name=names[0],
        institution=names[-1] or "院",
    )
    assert compiled.render(ctx) == render_letter(template, ctx, year=YEAR)
