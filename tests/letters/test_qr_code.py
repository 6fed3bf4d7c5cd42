"""The verification QR code and 核验码 of each letter: what they hold, that they read back, that
they find and verify their letter (and nothing else), and that they change no other byte."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from docgen.core.errors import UsageError, ValidationError, VerificationError
from docgen.core.glossary import LetterKind
from docgen.core.workspace import Workspace, find_workspace
from docgen.letters.fastrender import CompiledTemplate
from docgen.letters.generate import Change, generate, void_record
from docgen.letters.render import (
    ZipMember,
    assemble_zip,
    load_template,
    qr_media_members,
    render_letter,
    split_package,
)
from docgen.letters.soffice import Converter, find_soffice
from docgen.letters.workspace_init import init_workspace
from docgen.records.letter_code import (
    RegistryIdentity,
    code_context,
    code_of_payload,
    find_letter,
    ids_with_code,
    letter_code,
    normalise_code,
    only_letter,
    parse_payload,
    payload_of,
    qr_png,
)
from docgen.registry import open_registry
from docgen.registry.note import parse_verifier_key
from docgen.roster.example import demo_roster_yaml
from tests.helpers import run_docgen
from tests.letters.test_render import YEAR, context
from tests.signed_year import GENERATED_AT, SIGNED_AT, copy_workspace, flip_byte

QR_MEDIA = "word/media/qr.png"
CROCKFORD = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
IDENTITY = RegistryIdentity("庆城县人民检察院/党风廉政建设登记簿", bytes.fromhex("1a2b3c4d"))
NEEDS_ZBAR = pytest.mark.skipif(
    shutil.which("zbarimg") is None, reason="zbarimg 未安装:apt install zbar-tools"
)
NEEDS_PDF = pytest.mark.skipif(
    find_soffice() is None or shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice 或 poppler-utils 未安装:apt install libreoffice-writer-nogui poppler-utils",
)


def zbar(png: Path) -> list[str]:
    """Every QR code zbarimg finds in ``png`` (its own decoder, not ours)."""
    done = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sbinary", str(png)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode in (0, 4), done.stderr  # 4: no code found
    return [line for line in done.stdout.decode("utf-8").split("\n") if line]


def registry_identity(ws: Workspace) -> RegistryIdentity:
    with open_registry(ws) as registry:
        return RegistryIdentity.of_registry(registry)


def registered_letters(ws: Workspace) -> dict[str, Path]:
    """doc id → registered file of every letter of the year."""
    with open_registry(ws) as registry:
        records = [e.record for e in registry.entries(type="document")]
    return {r["doc_id"]: ws.year_dir(YEAR) / r["path"] for r in records}


@pytest.fixture
def year(signed_year: Path, tmp_path: Path) -> Workspace:
    return copy_workspace(signed_year, tmp_path / "ws")


# --------------------------------------------------------------------------- payload and code


def test_payload_names_origin_letter_and_key_and_parses_back() -> None:
    payload = payload_of(IDENTITY, "2027-ZR-P001-P002-R2")
    assert payload == "DOCGEN1:庆城县人民检察院/党风廉政建设登记簿:2027-ZR-P001-P002-R2:1a2b3c4d"
    scanned = parse_payload(payload)
    assert scanned is not None
    assert (scanned.identity, scanned.doc_id) == (IDENTITY, "2027-ZR-P001-P002-R2")
    # an origin may hold ":" (a C2SP key name only excludes blanks and "+"): split from the right
    odd = RegistryIdentity("log.example:8443/docgen", bytes.fromhex("00ff00ff"))
    back = parse_payload(payload_of(odd, "2027-LJ-a_b-c-d"))
    assert back is not None and (back.identity, back.doc_id) == (odd, "2027-LJ-a_b-c-d")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "DOCGEN1:",
        "DOCGEN2:o:2027-ZR-P001-P002:1a2b3c4d",  # another format
        "docgen1:o:2027-ZR-P001-P002:1a2b3c4d",
        "DOCGEN1:o:2027-ZR-P001-P002:1A2B3C4D",  # key ids are lower-case hex
        "DOCGEN1:o:2027-ZR-P001-P002:1a2b3c4",
        "DOCGEN1::2027-ZR-P001-P002:1a2b3c4d",  # no origin
        "DOCGEN1:o:2027 ZR:1a2b3c4d",  # not a doc id
        "DOCGEN1:o:1a2b3c4d",
        "https://example.org/?DOCGEN1:o:2027-ZR-P001-P002:1a2b3c4d",
    ],
)
def test_malformed_payloads_are_not_read(text: str) -> None:
    assert parse_payload(text) is None


def test_code_is_twelve_crockford_symbols_in_groups_of_four() -> None:
    codes = {letter_code(IDENTITY, f"2027-LJ-P{i:03d}-P999") for i in range(2000)}
    assert len(codes) == 2000  # 60 bits: no two of these share a code
    for code in codes:
        assert CROCKFORD.fullmatch(code), code
    payload = payload_of(IDENTITY, "2027-ZR-P001-P002")
    assert letter_code(IDENTITY, "2027-ZR-P001-P002") == code_of_payload(payload)
    # bound to the registry: the same letter id in another registry has another code
    other = RegistryIdentity(IDENTITY.origin, bytes.fromhex("1a2b3c4e"))
    assert letter_code(other, "2027-ZR-P001-P002") != letter_code(IDENTITY, "2027-ZR-P001-P002")


def test_typed_codes_are_read_as_crockford_says() -> None:
    code = "7K3M-Q9XD-2PWA"
    for typed in ("7k3m-q9xd-2pwa", "7K3MQ9XD2PWA", " 7K3M Q9XD 2PWA ", "7K3M－Q9XD—2PWA"):
        assert normalise_code(typed) == code
    assert normalise_code("0O1I-L0O1-IL00") == "0011-1001-1100"
    for bad in ("7K3M-Q9XD-2PW", "7K3M-Q9XD-2PWAX", "7K3M-Q9XD-2PWU", "7K3M-Q9XD-2PW*", ""):
        assert normalise_code(bad) is None


# --------------------------------------------------------------------------- the picture


@NEEDS_ZBAR
def test_qr_png_reads_back_with_zbar(tmp_path: Path) -> None:
    payload = payload_of(IDENTITY, "2027-ZR-P001-P002")
    png = tmp_path / "qr.png"
    png.write_bytes(qr_png(payload))
    assert zbar(png) == [payload]
    assert qr_png(payload) == png.read_bytes()  # the same bytes every time


# Payloads of every shape a letter can have: ASCII and Chinese origins, an origin with colons,
# revisions, the longest doc id (100 characters), a run of characters Shift JIS also has (which
# zxing-cpp, given text, put in Kanji mode: zbar then returned Shift JIS bytes), versions 2 to 10.
MANY_PAYLOADS = [
    payload_of(RegistryIdentity(origin, bytes.fromhex(key)), doc_id)
    for origin, key, doc_id in [
        ("docgen-demo", "00000000", "2027-ZR-P001-P002"),
        ("docgen-demo", "ffffffff", "2027-ZR-P001-P002-R2"),
        ("某某县人民检察院/党风廉政建设登记簿", "1a2b3c4d", "2027-CN-P0042-P1234"),
        ("庆城县人民检察院/党风廉政建设登记簿", "deadbeef", "2027-GZ-P0001-P0002-R12"),
        ("https://jcy.example.cn:8443/log", "0123abcd", "2028-ZR-P9-P10"),
        ("a", "abcdef01", "X"),
        ("某某县人民检察院/党风廉政建设登记簿", "89abcdef", "2027-" + "Z" * 95),
        ("一二三四五六七八九十" * 4, "13572468", "2027-" + "9" * 95),
    ]
]


@NEEDS_ZBAR
def test_qr_png_of_every_shape_of_payload_reads_back_with_zbar(tmp_path: Path) -> None:
    """zbar, an independent decoder, reads each picture back to exactly its payload: the UTF-8
    text in byte mode, whatever the origin's script, the id's length or the symbol's version."""
    files = []
    for number, payload in enumerate(MANY_PAYLOADS):
        files.append(tmp_path / f"qr{number}.png")
        files[-1].write_bytes(qr_png(payload))
    for file, payload in zip(files, MANY_PAYLOADS, strict=True):
        assert zbar(file) == [payload], payload
    assert len({f.read_bytes() for f in files}) == len(files)


def test_qr_png_is_a_one_bit_picture_of_the_symbol_with_its_quiet_zone() -> None:
    """The PNG written here from the module matrix, read back by Pillow: one bit a pixel, four
    pixels a module, a light quiet zone of four modules, the symbol's three finder patterns in
    their corners — and the same bytes from a fresh process (no state, no clock, no address)."""
    from PIL import Image

    payload = MANY_PAYLOADS[2]
    image = Image.open(io.BytesIO(qr_png(payload)))
    assert image.mode == "1"
    side = image.size[0]
    assert image.size == (side, side) and side % 4 == 0
    modules = side // 4 - 8
    assert (modules - 17) % 4 == 0 and 21 <= modules <= 177  # a QR version's size
    pixels = image.load()
    assert pixels is not None
    edge = [(x, y) for x in range(side) for y in range(side) if min(x, y) < 16]
    edge += [(side - 1 - x, side - 1 - y) for x, y in edge]
    assert all(pixels[x, y] == 255 for x, y in edge)
    finder = [16 + 4 * i + 1 for i in (0, 6)]  # the outer ring of the finder pattern, top left
    far = [16 + 4 * (modules - 7) + 1, 16 + 4 * (modules - 1) + 1]
    for xs, ys in ((finder, finder), (far, finder), (finder, far)):
        assert all(pixels[x, y] == 0 for x in xs for y in ys)
    fresh = subprocess.run(
        [sys.executable, "-c",
         "import sys, hashlib; from docgen.records.letter_code import qr_png;"
         " print(hashlib.sha256(qr_png(sys.argv[1])).hexdigest())", payload],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert fresh.stdout.strip() == hashlib.sha256(qr_png(payload)).hexdigest()


@pytest.mark.parametrize("kind", list(LetterKind))
def test_each_letter_carries_its_own_qr_and_both_paths_agree(kind: LetterKind) -> None:
    template = load_template(None, kind)
    assert qr_media_members(split_package(template)) == {QR_MEDIA}
    compiled = CompiledTemplate.from_bytes(template, year=YEAR)
    tier = "staff" if kind is LetterKind.INTEGRITY_PLEDGE else "leadership"
    seen: set[bytes] = set()
    for doc_id in ("2027-XX-P001-P002", "2027-XX-P001-P003", "2027-XX-P001-P002-R2"):
        ctx = context(kind, tier, doc_id=doc_id)
        fast, plain = compiled.render(ctx), render_letter(template, ctx, year=YEAR)
        assert fast == plain
        members = split_package(fast)
        assert members[QR_MEDIA] == qr_png(ctx["verify_payload"])
        footers = members["word/footer1.xml"] + members["word/footer2.xml"]
        assert footers.count(ctx["verify_code"].encode()) == 2  # odd and even pages
        seen.add(members[QR_MEDIA])
    assert len(seen) == 3


def test_a_template_with_the_picture_needs_the_payload() -> None:
    ctx = context(LetterKind.INTEGRITY_PLEDGE, "staff")
    del ctx["verify_payload"]
    template = load_template(None, LetterKind.INTEGRITY_PLEDGE)
    with pytest.raises(ValidationError, match="二维码"):
        render_letter(template, ctx, year=YEAR)
    with pytest.raises(ValidationError, match="二维码"):
        CompiledTemplate.from_bytes(template, year=YEAR).render(ctx)


def _without_qr(template: bytes) -> bytes:
    """``template`` as an older workspace has it: no QR picture, no 核验码 placeholder."""
    members = split_package(template)
    for name in ("word/footer1.xml", "word/footer2.xml"):
        xml = members[name].decode("utf-8")
        xml = re.sub(r"<w:r><w:rPr>(?:(?!</w:r>).)*?<w:drawing>.*?</w:drawing></w:r>", "", xml)
        members[name] = xml.replace("核验码\uff1a{{ verify_code }}", "").encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_generate_says_when_a_workspace_template_has_no_qr(demo_workspace: Path) -> None:
    ws = find_workspace(demo_workspace)
    own = ws.templates_dir / "integrity_pledge.docx"
    own.write_bytes(_without_qr(own.read_bytes()))
    result = generate(ws, YEAR, now=GENERATED_AT)
    (note,) = [n for n in result.notes if "二维码" in n]
    assert "integrity_pledge.docx" in note and "《廉洁从检承诺书》不带二维码和核验码" in note
    letters = registered_letters(ws)
    pledges = [p for d, p in letters.items() if "-LJ-" in d]
    others = [p for d, p in letters.items() if "-LJ-" not in d]
    assert pledges and others
    assert not any(qr_media_members(split_package(p.read_bytes())) for p in pledges)
    assert all(qr_media_members(split_package(p.read_bytes())) for p in others)
    identity = registry_identity(ws)
    for doc_id, path in letters.items():
        footer = split_package(path.read_bytes())["word/footer1.xml"]
        assert (letter_code(identity, doc_id).encode() in footer) is ("-LJ-" not in doc_id)


def test_an_older_template_without_the_picture_still_renders() -> None:
    old = _without_qr(load_template(None, LetterKind.INTEGRITY_PLEDGE))
    assert b"docgen-qr" not in b"".join(split_package(old).values())
    assert qr_media_members(split_package(old)) == frozenset()
    ctx = context(LetterKind.INTEGRITY_PLEDGE, "staff")
    fast = CompiledTemplate.from_bytes(old, year=YEAR).render(ctx)
    assert fast == render_letter(old, ctx, year=YEAR)
    assert ctx["verify_code"].encode() not in b"".join(split_package(fast).values())


@NEEDS_ZBAR
def test_registered_letters_hold_their_id_origin_and_key(year: Workspace, tmp_path: Path) -> None:
    verifier = parse_verifier_key(
        (year.keys_dir / "registry" / "registry.vkey").read_text(encoding="utf-8").strip()
    )
    letters = registered_letters(year)
    assert letters
    for doc_id, path in letters.items():
        members = split_package(path.read_bytes())
        png = tmp_path / f"{doc_id}.png"
        png.write_bytes(members[QR_MEDIA])
        (text,) = zbar(png)
        scanned = parse_payload(text)
        assert scanned is not None, text
        assert scanned.doc_id == doc_id
        assert scanned.identity.origin == year.config.registry_name
        assert scanned.identity.key_id == verifier.key_id
        code = code_of_payload(text)
        assert code.encode() in members["word/footer1.xml"]


def _page_texts(pdf: Path) -> list[str]:
    """Each page's text, blanks collapsed, the 核验码 (absent from a bare letter) taken out."""
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, check=True, timeout=120
    ).stdout.decode("utf-8")
    return [" ".join(re.sub(r"核验码\S*", "", page).split()) for page in text.split("\f")]


def _page_codes(pdf: Path, pages: int, tmp_path: Path) -> list[list[str]]:
    """What zbar reads on a 150 dpi picture of each page (pdftoppm)."""
    found = []
    for number in range(1, pages + 1):
        png = tmp_path / f"{pdf.stem}-{number}"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "150", "-f", str(number), "-l", str(number),
             "-singlefile", str(pdf), str(png)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        found.append(zbar(png.with_suffix(".png")))
    return found


@NEEDS_ZBAR
@NEEDS_PDF
@pytest.mark.slow
def test_pdf_pages_show_a_readable_qr_and_the_layout_is_unchanged(
    year: Workspace, tmp_path: Path
) -> None:
    """Through LibreOffice (the PDF/A converter of docgen pdf), pdftoppm and zbar: every page
    of a letter's PDF shows its QR code, readable; and each kind's pages hold exactly the text of
    the same letter rendered without the picture — the picture floats in the bottom margin and
    moves no line, so the signature block stays on its page."""
    renders: list[tuple[str, bytes]] = []
    payloads: dict[str, str] = {}
    for kind in LetterKind:
        tier = "staff" if kind is LetterKind.INTEGRITY_PLEDGE else "leadership"
        ctx = context(kind, tier, doc_id=f"2027-{kind.code}-P0012-P0045")
        template = load_template(None, kind)
        renders.append((f"{kind.value}-qr", render_letter(template, ctx, year=YEAR)))
        bare = render_letter(_without_qr(template), ctx, year=YEAR)
        renders.append((f"{kind.value}-bare", bare))
        payloads[f"{kind.value}-qr"] = ctx["verify_payload"]
    doc_id, path = sorted(registered_letters(year).items())[0]
    renders.append(("registered", path.read_bytes()))
    payloads["registered"] = payload_of(registry_identity(year), doc_id)
    soffice = find_soffice()
    assert soffice is not None
    pdfs = Converter(soffice, tmp_path / "lo").convert(renders)
    for (label, _docx), pdf in zip(renders, pdfs, strict=True):
        (tmp_path / f"{label}.pdf").write_bytes(pdf)
    for kind in LetterKind:
        with_qr = _page_texts(tmp_path / f"{kind.value}-qr.pdf")
        assert with_qr == _page_texts(tmp_path / f"{kind.value}-bare.pdf"), kind
        assert "签名" in with_qr[-2]  # the signature block on the last page (then the final \f)
    for label, payload in payloads.items():
        pages = len(_page_texts(tmp_path / f"{label}.pdf")) - 1
        assert _page_codes(tmp_path / f"{label}.pdf", pages, tmp_path) == [[payload]] * pages


# --------------------------------------------------------------------------- determinism


def test_letters_depend_on_the_registry_key_only_through_the_code(tmp_path: Path) -> None:
    """Same roster, year, templates, origin and key: identical letters (tests/letters/
    test_generate.py). Another key: only the QR picture and the footers' 核验码 differ."""
    roots = [tmp_path / "a", tmp_path / "b"]
    for root in roots:
        init_workspace(
            root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml()
        )
        generate(find_workspace(root), YEAR, now=GENERATED_AT)
    first, second = (registered_letters(find_workspace(root)) for root in roots)
    assert first.keys() == second.keys()
    for doc_id in first:
        a, b = split_package(first[doc_id].read_bytes()), split_package(second[doc_id].read_bytes())
        assert a.keys() == b.keys()
        differ = {name for name in a if a[name] != b[name]}
        assert differ == {QR_MEDIA, "word/footer1.xml", "word/footer2.xml"}, doc_id


# --------------------------------------------------------------------------- finding a letter


def test_find_letter_by_code_or_payload_and_refuse_the_rest(year: Workspace) -> None:
    identity = registry_identity(year)
    letters = registered_letters(year)
    with open_registry(year) as registry:
        for doc_id in letters:
            code = letter_code(identity, doc_id)
            assert ids_with_code(registry, identity, code) == [doc_id]
            by_code = find_letter(registry, code.lower().replace("-", " "))
            by_payload = find_letter(registry, payload_of(identity, doc_id))
            assert (by_code.doc_id, by_code.by_payload) == (doc_id, False)
            assert (by_payload.doc_id, by_payload.by_payload) == (doc_id, True)
            assert by_code.record == by_payload.record
            assert year.year_dir(by_code.year) / by_code.path == letters[doc_id]
        with pytest.raises(VerificationError, match="没有核验码为 "):
            find_letter(registry, letter_code(identity, "2027-ZR-NOBODY-NONE"))
        with pytest.raises(VerificationError, match="没有二维码所指的文书"):
            find_letter(registry, payload_of(identity, "2027-ZR-NOBODY-NONE"))
        some = next(iter(letters))
        stranger = RegistryIdentity(identity.origin, bytes(4))
        with pytest.raises(VerificationError, match="另一个登记簿"):
            find_letter(registry, payload_of(stranger, some))
        with pytest.raises(VerificationError, match="没有核验码为 "):
            find_letter(registry, letter_code(stranger, some))  # that registry's code: not here
        with pytest.raises(UsageError, match="既不是核验码也不是"):
            find_letter(registry, "hello")


def test_two_letters_sharing_a_code_are_both_named() -> None:
    """60 bits make it astronomically unlikely (no such pair can be made to order); if it
    happened, neither letter is chosen and both are named."""
    code = letter_code(IDENTITY, "2027-ZR-P001-P002")
    assert only_letter(["2027-ZR-P001-P002"], code) == "2027-ZR-P001-P002"
    with pytest.raises(VerificationError, match="同时对应 2 份文书") as raised:
        only_letter(["2027-ZR-P001-P002", "2027-LJ-P003-P004"], code)
    assert "2027-ZR-P001-P002、2027-LJ-P003-P004" in str(raised.value)
    with pytest.raises(VerificationError, match=f"没有核验码为 {code}"):
        only_letter([], code)


# --------------------------------------------------------------------------- the command


def test_verify_code_finds_and_verifies_the_letter(year: Workspace) -> None:
    identity = registry_identity(year)
    doc_id, path = sorted(registered_letters(year).items())[0]
    for given in (letter_code(identity, doc_id), payload_of(identity, doc_id)):
        done = run_docgen("verify", "--code", given, "-w", str(year.root))
        assert done.code == 0, done.text
        assert doc_id in done.out and path.name in done.out
        assert "核验码" in done.out and "通过" in done.out


def test_verify_code_of_a_voided_letter_says_the_paper_is_not_in_force(year: Workspace) -> None:
    identity = registry_identity(year)
    doc_id = sorted(registered_letters(year))[1]
    code = letter_code(identity, doc_id)
    done = run_docgen("verify", "--code", code, "-w", str(year.root))
    assert done.code == 0 and "作废" not in done.out
    with open_registry(year) as registry:
        registry.append([void_record(doc_id, "人员变动", None)], now=SIGNED_AT)
    done = run_docgen("verify", "--code", code, "-w", str(year.root))
    assert "注意:该文书已作废(原因:人员变动),纸面文书不再有效" in done.out, done.text
    assert "已作废" in done.out.split("注意:")[1]  # and verify reports it voided too


def test_verify_code_of_a_missing_letter_fails(year: Workspace) -> None:
    identity = registry_identity(year)
    doc_id, path = sorted(registered_letters(year).items())[0]
    path.unlink()
    done = run_docgen("verify", "--code", letter_code(identity, doc_id), "-w", str(year.root))
    assert done.code == 1, done.text
    assert "不存在" in done.out


def test_verify_code_of_an_altered_letter_fails(year: Workspace) -> None:
    """The attack: a letter changed after signing, looked up by the code on its paper. The code
    still finds it — and the verification it runs must fail, not print ✓."""
    identity = registry_identity(year)
    doc_id, path = sorted(registered_letters(year).items())[0]
    flip_byte(path)
    done = run_docgen("verify", "--code", letter_code(identity, doc_id), "-w", str(year.root))
    assert done.code == 1, done.text
    assert doc_id in done.out


def test_verify_code_refuses_unknown_and_malformed_codes(year: Workspace) -> None:
    identity = registry_identity(year)
    unknown = letter_code(identity, "2027-ZR-NOBODY-NONE")
    done = run_docgen("verify", "--code", unknown, "-w", str(year.root))
    assert done.code == 1
    assert f"登记簿中没有核验码为 {unknown} 的文书" in done.err
    assert "通过" not in done.out
    other = payload_of(RegistryIdentity("别的单位/登记簿", bytes(4)), "2027-ZR-P001-P002")
    done = run_docgen("verify", "--code", other, "-w", str(year.root))
    assert done.code == 1 and "另一个登记簿" in done.err
    done = run_docgen("verify", "--code", "12345", "-w", str(year.root))
    assert done.code == 2 and "既不是核验码也不是文书二维码的内容" in done.err


def test_verify_needs_a_path_or_a_code(year: Workspace) -> None:
    done = run_docgen("verify", "-w", str(year.root))
    assert done.code == 2 and "没有给出要核验的文书" in done.err and "--code" in done.err


def test_verify_code_as_json_prints_only_json(year: Workspace) -> None:
    import json

    identity = registry_identity(year)
    doc_id = sorted(registered_letters(year))[0]
    done = run_docgen(
        "verify", "--json", "--code", letter_code(identity, doc_id), "-w", str(year.root)
    )
    assert done.code == 0, done.text
    assert doc_id in json.dumps(json.loads(done.out), ensure_ascii=False)


def test_verify_code_does_not_create_a_registry(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    init_workspace(root, institution="庆城县人民检察院", year=YEAR, roster_yaml=demo_roster_yaml())
    done = run_docgen("verify", "--code", "7K3M-Q9XD-2PWA", "-w", str(root))
    assert done.code == 2 and "还没有登记簿" in done.err
    assert not find_workspace(root).registry_path.exists()


def test_code_context_is_what_templates_get() -> None:
    values = code_context(IDENTITY, "2027-ZR-P001-P002")
    assert values == {
        "verify_code": letter_code(IDENTITY, "2027-ZR-P001-P002"),
        "verify_payload": payload_of(IDENTITY, "2027-ZR-P001-P002"),
    }


# --------------------------------------------------------------------------- generate again


def _reregister(ws: Workspace, doc_id: str, path: Path, data: bytes) -> None:
    """Put ``data`` in place of an unsigned letter and register it, as generate does when an
    unsigned letter changes (a ``document`` entry with the same id and the new hash)."""
    import hashlib

    with open_registry(ws) as registry:
        records = [e.record for e in registry.entries(type="document", doc_id=doc_id)]
        record = dict(records[-1], sha256=hashlib.sha256(data).hexdigest())
        registry.append([record], now=GENERATED_AT)
    path.write_bytes(data)


def _with_picture(letter: bytes, picture: bytes) -> bytes:
    """``letter`` with another QR picture, written as docgen writes letters."""
    members = split_package(letter)
    members[QR_MEDIA] = picture
    return assemble_zip([ZipMember.deflate(n, d) for n, d in members.items()], year=YEAR)


def test_generate_again_keeps_a_registered_picture_but_draws_a_changed_letters_afresh(
    demo_workspace: Path,
) -> None:
    """Generate again checks each registered letter with the QR picture it already has (drawing
    is the costly part): a letter whose picture came from another encoder (another segno) is
    still unchanged — but a letter that changes gets its picture drawn now, never the old one."""
    import segno

    ws = find_workspace(demo_workspace)
    generate(ws, YEAR, now=GENERATED_AT)
    identity = registry_identity(ws)
    letters = registered_letters(ws)
    kept = sorted(letters)[0]
    # a letter with neither of the first one's parties: renaming its superior leaves that alone
    changed = next(
        d for d in sorted(letters) if not set(d.split("-")[2:4]) & set(kept.split("-")[2:4])
    )
    older = {}
    for doc_id in (kept, changed):
        out = io.BytesIO()  # the same code drawn otherwise: 5 pixels a module instead of 4
        segno.make_qr(payload_of(identity, doc_id), error="M").save(out, kind="png", scale=5)
        older[doc_id] = out.getvalue()
        assert older[doc_id] != qr_png(payload_of(identity, doc_id))
        _reregister(
            ws, doc_id, letters[doc_id], _with_picture(letters[doc_id].read_bytes(), older[doc_id])
        )
    # the second letter's superior is renamed in the roster: its text changes
    with open_registry(ws) as registry:
        record = next(iter(registry.entries(type="document", doc_id=changed))).record
    entry = f"name: {record['parties'][0]['name']},"
    roster = ws.roster_path.read_text(encoding="utf-8")
    assert roster.count(entry) == 1
    ws.roster_path.write_text(roster.replace(entry, entry[:-1] + "某,"), encoding="utf-8")

    again = generate(ws, YEAR, now=GENERATED_AT)
    outcome = {o.doc_id: o.change for o in again.outcomes}
    assert outcome[kept] is Change.UNCHANGED
    assert split_package(letters[kept].read_bytes())[QR_MEDIA] == older[kept]
    assert outcome[changed] is Change.UPDATED
    fresh = split_package((ws.year_dir(YEAR) / registered_letters(ws)[changed]).read_bytes())
    assert fresh[QR_MEDIA] == qr_png(payload_of(identity, changed))
