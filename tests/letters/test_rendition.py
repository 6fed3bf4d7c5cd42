"""PDF/A-2b renditions (``docgen pdf``, and ``docgen generate`` where LibreOffice is installed).

Real LibreOffice, real fonts, real registry: what a rendition is (PDF/A-2b in its XMP, the letter's
text, Simplified Chinese glyphs in a serif face), that it is byte-identical however it was batched,
registered with the right hashes, made once, never made from a .docx altered after registration,
and that ``generate`` works without LibreOffice and says so once.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest

from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.generate import generate
from docgen.letters.pdfa import normalize_pdf
from docgen.letters.soffice import Converter, find_soffice
from docgen.letters.workspace_init import init_workspace
from docgen.records.renditions import registered_rendition, rendition_relpath
from docgen.records.state import read_year_state
from docgen.registry import open_registry, verify_proof_bundle
from docgen.roster.example import example_roster_yaml
from tests.helpers import run_docgen
from tests.signed_year import YEAR, copy_workspace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_soffice() is None or shutil.which("pdftotext") is None,
        reason="LibreOffice (soffice) 或 poppler-utils 未安装:apt install libreoffice-writer-nogui "
        "fonts-noto-cjk poppler-utils",
    ),
]

RENDERED_AT = "2027-01-07T09:00:00+00:00"  # after the signed year's signatures
NOTO_SERIF = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


@pytest.fixture(autouse=True)
def _pdfs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the PDFs: whatever the suite's default, generate makes them."""
    monkeypatch.delenv("DOCGEN_PDF", raising=False)
    monkeypatch.setenv("DOCGEN_NOW", RENDERED_AT)


@pytest.fixture(scope="module")
def rendered(signed_year: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The signed year of tests/signed_year.py with its renditions made by ``docgen pdf``."""
    ws = copy_workspace(signed_year, tmp_path_factory.mktemp("rendered") / "ws")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCGEN_NOW", RENDERED_AT)
        done = run_docgen("pdf", "--year", str(YEAR), "-w", str(ws.root))
    assert done.code == 0, done.text
    assert "新生成 11 份" in done.out
    yield ws


def _letters(ws: Workspace) -> list[tuple[dict[str, object], Path, Path]]:
    """(document record, .docx, .pdf) of every letter of the year."""
    with open_registry(ws) as registry:
        state = read_year_state(registry, YEAR)
    year_dir = ws.year_dir(YEAR)
    return [
        (
            letter.record,
            year_dir / letter.record["path"],
            year_dir / rendition_relpath(letter.record["path"]),
        )
        for letter in state.letters.values()
    ]


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- what a rendition is ------------------------------------------------------------------------


def test_rendition_is_pdf_a_2b_with_the_letters_text(rendered: Workspace) -> None:
    for record, docx, pdf in _letters(rendered):
        assert pdf.is_file(), f"{docx.name} has no rendition"
        assert pdf.parent == docx.parent and pdf.stem == docx.stem
        meta = _run("pdfinfo", "-meta", str(pdf))
        assert "<pdfaid:part>2</pdfaid:part>" in meta
        assert "<pdfaid:conformance>B</pdfaid:conformance>" in meta
        text = _run("pdftotext", str(pdf), "-")
        for party in record["parties"]:  # type: ignore[attr-defined]
            assert party["name"] in text
        assert f"编号:{record['doc_id']}" in text.replace("：", ":").replace(" ", "")
        assert record["title"] in text


def test_info_and_xmp_agree_and_carry_no_clock(rendered: Workspace) -> None:
    """PDF/A: the information dictionary and the XMP say the same; the dates are the year's."""
    _record, docx, pdf = _letters(rendered)[0]
    with pikepdf.open(pdf) as doc:
        info = doc.docinfo
        assert str(info["/CreationDate"]) == str(info["/ModDate"]) == "D:20270101000000+00'00"
        with doc.open_metadata() as meta:
            assert meta["xmp:CreateDate"] == meta["xmp:ModifyDate"] == "2027-01-01T00:00:00+00:00"
            assert meta["dc:title"] == str(info["/Title"])
            assert meta["pdf:Producer"] == str(info["/Producer"])
        assert "/DocChecksum" not in doc.trailer
        assert bytes(doc.trailer.ID[0]) == bytes.fromhex(_sha(docx))[:16]


def _embedded_glyph_bounds(pdf: Path, font_name: str) -> dict[str, tuple[float, ...]]:
    """Character → bounds of the glyph drawn for it, from the embedded Type 1 font whose name
    contains ``font_name`` (read with fontTools: decrypted, not rendered)."""
    from fontTools import t1Lib
    from fontTools.pens.boundsPen import BoundsPen

    found: dict[str, tuple[float, ...]] = {}
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            for _name, font in page.Resources.get("/Font", {}).items():
                if font_name not in str(font.get("/BaseFont")) or "/FontFile" not in (
                    font.FontDescriptor
                ):
                    continue
                program = font.FontDescriptor.FontFile
                raw = program.read_bytes()
                clear, crypt = int(program.Length1), int(program.Length2)
                pfb = b"".join(
                    (
                        b"\x80\x01" + struct.pack("<I", clear) + raw[:clear],
                        b"\x80\x02" + struct.pack("<I", crypt) + raw[clear : clear + crypt],
                        b"\x80\x01" + struct.pack("<I", len(raw) - clear - crypt)
                        + raw[clear + crypt :],
                        b"\x80\x03",
                    )
                )  # fmt: skip
                with tempfile.NamedTemporaryFile(suffix=".pfb") as handle:
                    handle.write(pfb)
                    handle.flush()
                    t1 = t1Lib.T1Font(handle.name)
                    t1.parse()
                encoding, glyphs = t1.font["Encoding"], t1.font["CharStrings"]
                cmap = font.ToUnicode.read_bytes().decode("latin-1")
                for code, unicode in re.findall(r"<([0-9A-F]{2})> <([0-9A-F]{4})>", cmap):
                    pen = BoundsPen(None)
                    glyphs[encoding[int(code, 16)]].draw(pen)
                    if pen.bounds is not None:
                        found[chr(int(unicode, 16))] = tuple(pen.bounds)
    return found


@pytest.mark.skipif(not NOTO_SERIF.exists(), reason="fonts-noto-cjk 未安装")
def test_fonts_are_simplified_chinese_serif_not_japanese(rendered: Workspace) -> None:
    """Without docgen's font rules LibreOffice took Noto Sans CJK JP for 仿宋_GB2312: Japanese
    glyph shapes, and a sans face. The body must be Noto Serif CJK, and its glyphs those of the
    SC face. The PostScript name of every Noto CJK face says "jp" (one CFF shared by the
    regions), so the glyphs themselves are compared with the collection's SC and JP faces."""
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTCollection

    _record, _docx, pdf = _letters(rendered)[0]
    fonts = _run("pdffonts", str(pdf))
    assert "NotoSerifCJK" in fonts  # the serif body and title
    assert "DejaVu" not in fonts
    drawn = _embedded_glyph_bounds(pdf, "NotoSerifCJKjp-Regular")
    faces = TTCollection(str(NOTO_SERIF)).fonts
    by_region = {face["name"].getDebugName(4): face for face in faces}
    sc, jp = by_region["Noto Serif CJK SC"], by_region["Noto Serif CJK JP"]

    def bounds(face: object, char: str) -> tuple[float, ...]:
        glyphs = face.getGlyphSet()  # type: ignore[attr-defined]
        pen = BoundsPen(glyphs)
        glyphs[face.getBestCmap()[ord(char)]].draw(pen)  # type: ignore[attr-defined]
        return tuple(pen.bounds)

    differing = [
        char
        for char in drawn
        if ord(char) in sc.getBestCmap()
        and ord(char) in jp.getBestCmap()
        and bounds(sc, char) != bounds(jp, char)
    ]
    assert len(differing) >= 5, "the letter should use characters whose SC and JP forms differ"
    for char in differing:
        assert drawn[char] == bounds(sc, char), f"{char}: not the Simplified Chinese glyph"


def test_page_renders(rendered: Workspace, tmp_path: Path) -> None:
    """Page 1 renders (pdftoppm) with ink on it; the PNG was looked at by eye as well."""
    from PIL import Image

    _record, _docx, pdf = _letters(rendered)[0]
    _run("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(tmp_path / "page"))  # fmt: skip
    image = Image.open(tmp_path / "page.png").convert("L")
    dark = sum(image.histogram()[:128])
    assert image.size[0] < image.size[1]  # A4 portrait
    assert dark > image.size[0] * image.size[1] // 200


# --- determinism ----------------------------------------------------------------------------------


def test_two_conversions_of_one_letter_give_identical_bytes(
    rendered: Workspace, tmp_path: Path
) -> None:
    """One letter converted alone by one LibreOffice, and in a batch by another with a profile of
    its own: LibreOffice's own bytes differ (clock, counters); the renditions do not."""
    letters = _letters(rendered)
    _record, docx, pdf = letters[3]
    data = docx.read_bytes()
    soffice = find_soffice()
    assert soffice is not None
    alone = Converter(soffice, tmp_path / "one").convert([("alone", data)])[0]
    others = [(str(d), d.read_bytes()) for _r, d, _p in letters[:3]]
    batch = Converter(soffice, tmp_path / "two").convert([*others, ("batched", data)])[-1]
    assert alone != batch  # what LibreOffice writes is not deterministic ...
    when, ident = datetime(YEAR, 1, 1, tzinfo=UTC), bytes.fromhex(_sha(docx))[:16]
    first = normalize_pdf(alone, when=when, ident=ident, label="alone")
    second = normalize_pdf(batch, when=when, ident=ident, label="batched")
    assert first == second == pdf.read_bytes()  # ... the rendition is


# --- registration ---------------------------------------------------------------------------------


def test_each_rendition_is_registered_with_its_hashes(rendered: Workspace) -> None:
    with open_registry(rendered) as registry:
        for record, docx, pdf in _letters(rendered):
            found = registered_rendition(registry, str(record["doc_id"]))
            assert found is not None
            assert found["type"] == "rendition"
            assert found["docx_sha256"] == record["sha256"] == _sha(docx)
            assert found["pdf_sha256"] == _sha(pdf)
            assert found["pdf_size"] == pdf.stat().st_size
            assert found["path"] == rendition_relpath(str(record["path"]))
            assert found["format"] == "PDF/A-2b"
            assert any("NotoSerifCJK" in name for name in found["fonts"])
        assert registered_rendition(registry, "2027-XX-NOBODY") is None


def test_proof_bundle_carries_the_rendition_entry(rendered: Workspace) -> None:
    """The letter's .proof.json proves the rendition entry offline, as it does the letter's."""
    with open_registry(rendered) as registry:
        key = registry.verifier_key
    for record, docx, _pdf in _letters(rendered):
        bundle = json.loads(Path(f"{docx}.proof.json").read_text(encoding="utf-8"))
        entries = [verify_proof_bundle(item, key) for item in bundle["entries"]]
        renditions = [e.record for e in entries if e.record["type"] == "rendition"]
        assert len(renditions) == 1
        assert renditions[0]["doc_id"] == record["doc_id"]
        assert renditions[0]["docx_sha256"] == record["sha256"]


def test_letters_with_renditions_still_verify(rendered: Workspace) -> None:
    done = run_docgen("verify", str(rendered.year_dir(YEAR)), "-w", str(rendered.root))
    assert done.code == 0, done.text
    assert "验证通过 11 份" in done.out


def test_a_bundle_with_a_rendition_of_other_bytes_fails(
    rendered: Workspace, tmp_path: Path
) -> None:
    """A rendition entry in the letter's bundle that was not made from the letter's registered
    bytes (here a registered one, of other bytes) must not pass as the letter's."""
    from docgen.records.proofs import letter_proof_from_bundles, proof_bytes
    from docgen.records.renditions import rendition_record

    ws = copy_workspace(rendered.root, tmp_path / "ws")
    record, docx, pdf = _letters(ws)[0]
    doc_id = str(record["doc_id"])
    stale = rendition_record(doc_id, str(pdf.name), "0" * 64, pdf.read_bytes(), [])
    proof = Path(f"{docx}.proof.json")
    with open_registry(ws) as registry:
        registry.append([stale], now=datetime(2027, 1, 8, tzinfo=UTC))
        bundle = json.loads(proof.read_text(encoding="utf-8"))
        indices = sorted({item["index"] for item in bundle["entries"]} | {registry.size() - 1})
        forged = letter_proof_from_bundles(
            doc_id, registry.verifier_key, registry.proof_bundles(indices)
        )
    proof.write_bytes(proof_bytes(forged))
    done = run_docgen("verify", str(docx), "-w", str(ws.root))
    assert done.code == 1
    assert "(PDF 副本)不是由本文书登记的内容生成的" in done.out


def test_docgen_pdf_again_changes_nothing(rendered: Workspace) -> None:
    year_dir = rendered.year_dir(YEAR)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(year_dir.rglob("*"))
              if p.is_file()}  # fmt: skip
    with open_registry(rendered) as registry:
        size = registry.size()
    done = run_docgen("pdf", "--year", str(YEAR), "-w", str(rendered.root))
    assert done.code == 0, done.text
    assert "新生成 0 份" in done.out and "已有 11 份未变化" in done.out
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(year_dir.rglob("*"))
             if p.is_file()}  # fmt: skip
    assert after == before
    with open_registry(rendered) as registry:
        assert registry.size() == size


def test_a_deleted_rendition_is_restored_byte_for_byte(rendered: Workspace, tmp_path: Path) -> None:
    ws = copy_workspace(rendered.root, tmp_path / "ws")
    _record, _docx, pdf = _letters(ws)[5]
    registered = pdf.read_bytes()
    pdf.unlink()
    with open_registry(ws) as registry:
        size = registry.size()
    done = run_docgen("pdf", "--year", str(YEAR), "-w", str(ws.root))
    assert done.code == 0, done.text
    assert "恢复 1 份" in done.out
    assert pdf.read_bytes() == registered  # converted alone now, in a batch of 11 before
    with open_registry(ws) as registry:
        assert registry.size() == size  # nothing new to register


def test_a_signed_rendition_is_left_alone(rendered: Workspace, tmp_path: Path) -> None:
    """A PDF signature is an incremental update: the registered bytes, then more. That is the
    rendition still (what was appended is the PDF signature check's to judge)."""
    ws = copy_workspace(rendered.root, tmp_path / "ws")
    _record, _docx, pdf = _letters(ws)[0]
    grown = pdf.read_bytes() + b"\n% an incremental update\n"
    pdf.write_bytes(grown)
    done = run_docgen("pdf", "--year", str(YEAR), "-w", str(ws.root))
    assert done.code == 0, done.text
    assert "已有 11 份未变化" in done.out
    assert pdf.read_bytes() == grown


# --- generate, with and without LibreOffice -------------------------------------------------------


def _plain_workspace(root: Path) -> Workspace:
    init_workspace(
        root, institution="庆城县人民检察院", year=YEAR, roster_yaml=example_roster_yaml()
    )
    return find_workspace(root)


def test_generate_makes_the_renditions_and_names_missing_fonts_once(tmp_path: Path) -> None:
    """generate makes the PDFs where LibreOffice is installed. docgen.toml asks for 仿宋_GB2312
    and others; where they are missing (as on this machine and CI), the run names each one and
    the face used instead, once."""
    from docgen.letters.soffice import font_uses

    ws = _plain_workspace(tmp_path / "ws")
    done = run_docgen("generate", "--year", str(YEAR), "-w", str(ws.root))
    assert done.code == 0, done.text
    assert "PDF 副本:新生成 11 份" in done.out
    assert all(pdf.is_file() for _r, _d, pdf in _letters(ws))
    uses = font_uses(list(vars(ws.config.fonts).values()), tmp_path)
    assert uses is not None
    missing = [use for use in uses if use.substituted]
    if not missing:
        assert "未安装 docgen.toml 中配置的字体" not in done.out
        return
    assert done.out.count("未安装 docgen.toml 中配置的字体") == 1
    for use in missing:
        assert f"{use.requested}→{use.used}" in done.out
        assert use.used in ("Noto Serif CJK SC", "Noto Sans CJK SC")


def test_generate_without_libreoffice_works_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _plain_workspace(tmp_path / "ws")
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no soffice there
    done = run_docgen("generate", "--year", str(YEAR), "-w", str(ws.root))
    assert done.code == 0, done.text
    assert "共 11 份" in done.out
    assert done.text.count("未找到 LibreOffice") == 1
    assert "apt install libreoffice-writer-nogui fonts-noto-cjk" in done.out
    assert f"docgen pdf --year {YEAR}" in done.out
    assert not list(ws.year_dir(YEAR).rglob("*.pdf"))
    refused = run_docgen("pdf", "--year", str(YEAR), "-w", str(ws.root))
    assert refused.code == 1
    assert "未找到 LibreOffice" in refused.err and "apt install" in refused.err


def test_an_altered_letter_gets_no_rendition(tmp_path: Path) -> None:
    """The attack: change a registered .docx, then have docgen make a PDF of it (to be signed as
    the letter). The PDF must come only from the registered bytes."""
    ws = _plain_workspace(tmp_path / "ws")
    generate(ws, YEAR, now=datetime(2027, 1, 5, 9, tzinfo=UTC))
    letters = _letters(ws)
    record, docx, pdf = letters[2]
    docx.write_bytes(docx.read_bytes().replace(b"word/document.xml", b"word/document.xmL", 1))
    done = run_docgen("pdf", "--year", str(YEAR), "-w", str(ws.root))
    assert done.code == 1
    assert "1 份文书的 .docx 与登记不符,未生成 PDF" in done.err
    assert str(record["doc_id"]) in done.err and docx.name in done.err
    assert "登记后被改动过" in done.err
    assert not pdf.exists()
    assert all(p.is_file() for _r, _d, p in letters if p != pdf)  # the others are made
    with open_registry(ws) as registry:
        assert registered_rendition(registry, str(record["doc_id"])) is None
    assert not list(ws.year_dir(YEAR).rglob("*.tmp"))


def test_a_voided_letter_gets_no_rendition(tmp_path: Path) -> None:
    ws = _plain_workspace(tmp_path / "ws")
    generate(ws, YEAR, now=datetime(2027, 1, 5, 9, tzinfo=UTC))
    record, _docx, pdf = _letters(ws)[0]
    voided = run_docgen("void", str(record["doc_id"]), "--reason", "测试", "-w", str(ws.root))
    assert voided.code == 0, voided.text
    done = run_docgen("pdf", "--year", str(YEAR), "-w", str(ws.root))
    assert done.code == 0, done.text
    assert "新生成 10 份" in done.out and "作废的文书 1 份不生成" in done.out
    assert not pdf.exists()
