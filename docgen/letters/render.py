"""Render one letter from a ``.docx`` template, reproducibly to the byte.

The letter text lives in Word templates (``templates/*.docx``) that a clerk can edit; docxtpl fills
the ``{{ … }}`` placeholders with ``autoescape=True``.  Two renders of the same template, context
and year give identical bytes: every zip member is written in a fixed order with a fixed timestamp
and compression level, and the core properties (created, modified, last modified by, revision) come
from the year, never from the clock.  :mod:`docgen.letters.fastrender` reuses the same zip writer
and
context preparation so that its output is byte-identical to :func:`render_letter`.

Values are inserted literally.  Before rendering, each string value is cleaned:

* C0 control characters (U+0000–U+001F, including tab and line feed), DEL and the C1 controls
  (U+007F–U+009F), unpaired surrogates and the non-characters U+FFFE/U+FFFF are removed — XML 1.0
  forbids most of them, and docxtpl would turn tab and line feed into layout;
* everything else (``&``, ``<``, ``·``, characters outside the BMP such as 𠮷, right-to-left marks,
  text that looks like ``{{ x }}`` or ``{% if %}``) is kept as typed: it is XML-escaped, braces
  included, so neither Jinja nor docxtpl's ``{_{`` post-processing can touch it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jinja2
from docxtpl import DocxTemplate
from markupsafe import Markup, escape

from docgen.core.errors import Location, ValidationError
from docgen.core.glossary import LetterKind
from docgen.core.workspace import Fonts
from docgen.records.letter_code import qr_png

TEMPLATE_PACKAGE = "docgen.templates"
COMPRESS_LEVEL = 6
LAST_MODIFIED_BY = "docgen"
CONTENT_TYPES = "[Content_Types].xml"

# The parts docxtpl renders; everything else in a package is copied through python-docx.
BODY_PART = "word/document.xml"
# The name (``wp:docPr``) of the template's placeholder picture for the letter's QR code, and the
# context variable holding the code's text (docgen.records.letter_code).
QR_PICTURE_NAME = "docgen-qr"
QR_PAYLOAD = "verify_payload"

_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FONT_ATTR = re.compile(r'(w:(?:ascii|hAnsi|eastAsia|cs)=")([^"]*)(")')
_FONT_PARTS = re.compile(r"word/(document|styles|header\d*|footer\d*)\.xml")
_STRING_CORE_PROPS = ("author", "comments", "identifier", "language", "subject", "title")
_STORY_PART = re.compile(r"word/(document|header\d*|footer\d*)\.xml")
_WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
_A_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_R_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


# --------------------------------------------------------------------------- context


def clean_text(value: str) -> str:
    """Remove the characters that cannot appear in a letter (see the module docstring)."""
    return _FORBIDDEN.sub("", value)


def literal_markup(value: str) -> Markup:
    """``value`` cleaned and escaped for XML text, braces included (see the module docstring)."""
    text = str(escape(clean_text(value)))
    return Markup(text.replace("{", "&#123;").replace("}", "&#125;"))


def _prepare_value(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return literal_markup(value)
    if isinstance(value, Mapping):
        return {k: _prepare_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_prepare_value(v) for v in value]
    return value


def prepare_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Clean and pre-escape every string in ``context`` so it renders literally."""
    return {str(key): _prepare_value(value) for key, value in context.items()}


def jinja_environment() -> jinja2.Environment:
    """The one Jinja environment both render paths use.

    ``StrictUndefined`` turns a mistyped placeholder in an edited template into an error instead of
    an empty gap in a signed letter.
    """
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def template_error(exc: Exception, source: str | None) -> ValidationError:
    """A Chinese message for a template that Jinja cannot render."""
    where = Location(file=source) if source else None
    if isinstance(exc, jinja2.UndefinedError):
        return ValidationError(
            f"模板使用了未知的占位符({exc.message})",
            location=where,
            hint="可用的占位符见 templates/README.md,请在 Word 中改正后重新生成",
        )
    return ValidationError(
        f"模板中的占位符写法有误:{exc}",
        location=where,
        hint="请在 Word 中检查 {{ }} 与 {% %} 是否成对、是否写在同一段落里",
    )


# --------------------------------------------------------------------------- fonts


def _font_mapping(fonts: Fonts | None) -> dict[str, str]:
    if fonts is None:
        return {}
    default = Fonts()
    mapping: dict[str, str] = {}
    for name in vars(default):
        old, new = getattr(default, name), getattr(fonts, name)
        if old != new:
            mapping[old] = new
    return mapping


def _xml_attr(value: str) -> str:
    return str(escape(clean_text(value)))


def substitute_fonts(template: bytes, fonts: Fonts | None) -> bytes:
    """Replace the default font names by the configured ones in styles, body, headers, footers.

    One pass over each part with a name→name table, so swapping two fonts works. Returns the
    template unchanged when the configured fonts are the defaults.
    """
    mapping = _font_mapping(fonts)
    if not mapping:
        return template

    def swap(match: re.Match[str]) -> str:
        name = match.group(2)
        replaced = _xml_attr(mapping[name]) if name in mapping else name
        return match.group(1) + replaced + match.group(3)

    source = _open_zip(template, None)
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if _FONT_PARTS.fullmatch(info.filename):
                data = _FONT_ATTR.sub(swap, data.decode("utf-8")).encode("utf-8")
            target.writestr(info, data)
    return out.getvalue()


# --------------------------------------------------------------------------- zip


@dataclass(frozen=True)
class ZipMember:
    """One compressed member of a package, ready to be written."""

    name: str
    crc: int
    size: int
    compressed: bytes

    @classmethod
    def deflate(cls, name: str, data: bytes) -> ZipMember:
        packer = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        compressed = packer.compress(data) + packer.flush()
        return cls(name=name, crc=zlib.crc32(data), size=len(data), compressed=compressed)


def member_order(name: str) -> tuple[bool, str]:
    """``[Content_Types].xml`` first, then every other member by name."""
    return (name != CONTENT_TYPES, name)


def _dos_date(year: int) -> int:
    if not 1980 <= year <= 2107:
        raise ValidationError(
            f"年度 {year} 超出可写入文件的范围(1980–2107)", hint="请检查 --year 参数"
        )
    return ((year - 1980) << 9) | (1 << 5) | 1


_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")


def assemble_zip(members: Iterable[ZipMember], *, year: int) -> bytes:
    """Write a zip archive with fixed timestamps (``year``-01-01 00:00:00) and no extra fields.

    Hand-written because :mod:`zipfile` cannot store data that is already compressed; the fast
    path needs that to reuse the unchanged members of a template for every letter.
    """
    date = _dos_date(year)
    ordered = sorted(members, key=lambda m: member_order(m.name))
    body: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for member in ordered:
        name = member.name.encode("utf-8")
        flags = 0 if member.name.isascii() else 0x800
        local = _LOCAL_HEADER.pack(
            0x04034B50,
            20,
            flags,
            zipfile.ZIP_DEFLATED,
            0,
            date,
            member.crc,
            len(member.compressed),
            member.size,
            len(name),
            0,
        )
        body += (local, name, member.compressed)
        central.append(
            _CENTRAL_HEADER.pack(
                0x02014B50,
                20,
                20,
                flags,
                zipfile.ZIP_DEFLATED,
                0,
                date,
                member.crc,
                len(member.compressed),
                member.size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.append(name)
        offset += len(local) + len(name) + len(member.compressed)
    directory = b"".join(central)
    end = _END_RECORD.pack(0x06054B50, 0, 0, len(ordered), len(ordered), len(directory), offset, 0)
    return b"".join((*body, directory, end))


def _open_zip(data: bytes, source: str | None) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValidationError(
            "模板不是有效的 Word(.docx)文件",
            location=Location(file=source) if source else None,
            hint="请用 Word 或 WPS 另存为 .docx 格式,或删除工作目录中的模板以使用内置模板",
        ) from exc


def normalize_package(docx: bytes, *, year: int) -> bytes:
    """Rewrite a saved package deterministically (member order, timestamps, compression)."""
    with _open_zip(docx, None) as archive:
        members = [ZipMember.deflate(i.filename, archive.read(i)) for i in archive.infolist()]
    return assemble_zip(members, year=year)


def split_package(docx: bytes) -> dict[str, bytes]:
    """Member name → uncompressed bytes of a package."""
    with _open_zip(docx, None) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


# --------------------------------------------------------------------------- QR code


def qr_media_members(members: Mapping[str, bytes]) -> frozenset[str]:
    """The media members that the template's QR placeholder pictures show (usually one).

    The pictures are found by their ``wp:docPr`` name, which Word and WPS keep when a clerk
    edits the template (they may rename the media part itself); a template without one — made
    before letters carried a QR code — gives none, and its letters carry no QR code.
    """
    found: set[str] = set()
    for name, data in members.items():
        if not _STORY_PART.fullmatch(name) or QR_PICTURE_NAME.encode() not in data:
            continue
        embeds = [
            blip.get(_R_EMBED, "")
            for kind in ("anchor", "inline")
            for drawing in ElementTree.fromstring(data).iter(_WP + kind)
            if any(d.get("name") == QR_PICTURE_NAME for d in drawing.iter(_WP + "docPr"))
            for blip in drawing.iter(_A_BLIP)
        ]
        folder, base = posixpath.split(name)
        rels = ElementTree.fromstring(members[posixpath.join(folder, "_rels", base + ".rels")])
        for rel in rels.iter(_REL):
            target = rel.get("Target", "")
            if rel.get("Id") in embeds and target:
                path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
                found.add(posixpath.normpath(path))
    return frozenset(found)


def qr_members(
    qr: frozenset[str],
    context: Mapping[str, Any],
    source: str | None,
    picture: bytes | None = None,
) -> list[ZipMember]:
    """The QR picture members of one letter: each of ``qr`` holds the code of ``context`` —
    drawn now, or ``picture`` when the caller has it already (see :func:`qr_picture_of`)."""
    if not qr:
        return []
    payload = context.get(QR_PAYLOAD)
    if not isinstance(payload, str) or not payload:
        raise ValidationError(
            "模板中有核验二维码,但没有给出二维码的内容",
            location=Location(file=source) if source else None,
            hint="这是程序错误:生成文书时应提供 verify_payload,请报告",
        )
    png = qr_png(payload) if picture is None else picture
    return [ZipMember.deflate(name, png) for name in sorted(qr)]


def qr_picture_of(letter: bytes, qr: frozenset[str]) -> bytes | None:
    """The QR picture in ``letter``'s members ``qr`` (all the same), or None.

    Drawing a QR code is most of a letter's rendering time (segno is pure Python). Whoever
    checks that a registered letter is still what the templates make may render it with the
    registered letter's own picture: if every byte then comes out the same, the letter is
    unchanged — its footers carry the same 核验码, so the picture is of the same payload — and
    nothing new was made. Any letter that does come out different is rendered again with its
    picture drawn afresh (docgen.letters.generate does both)."""
    if not qr:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(letter)) as archive:
            pictures = {archive.read(name) for name in qr}
    except (KeyError, zipfile.BadZipFile):
        return None
    return pictures.pop() if len(pictures) == 1 else None


# --------------------------------------------------------------------------- render


def fixed_time(year: int) -> datetime:
    """The moment every letter of ``year`` claims to be created and modified."""
    return datetime(year, 1, 1, tzinfo=UTC)


def stamp_core_properties(document: Any, *, year: int, raw: Mapping[str, str]) -> None:
    """Set the core properties from the year and the template's own text, never the clock.

    The template's comments (the built-in ones hold an editing note for the clerk) describe the
    template, not the letter: a letter's are empty."""
    props = document.core_properties
    for name, value in raw.items():
        setattr(props, name, "" if name == "comments" else value)
    props.created = fixed_time(year).replace(tzinfo=None)
    props.modified = fixed_time(year).replace(tzinfo=None)
    props.last_modified_by = LAST_MODIFIED_BY
    props.revision = 1


def open_docx_template(template: bytes, source: str | None = None) -> DocxTemplate:
    """Load ``template`` into docxtpl, with a Chinese error for files Word would not open."""
    _open_zip(template, source).close()
    tpl = DocxTemplate(io.BytesIO(template))
    try:
        tpl.init_docx()
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValidationError(
            f"模板无法作为 Word 文档打开:{exc}",
            location=Location(file=source) if source else None,
            hint="请用 Word 或 WPS 打开并另存为 .docx",
        ) from exc
    return tpl


def raw_core_properties(tpl: DocxTemplate) -> dict[str, str]:
    props = tpl.docx.core_properties
    return {name: getattr(props, name) for name in _STRING_CORE_PROPS}


def render_members(
    template: bytes, context: Mapping[str, Any], *, year: int, source: str | None = None
) -> dict[str, bytes]:
    """docxtpl's rendering of ``template`` (fonts already substituted), member → bytes."""
    tpl = open_docx_template(template, source)
    raw = raw_core_properties(tpl)
    # docxtpl would render these through Jinja too; they are kept as the template has them.
    for name in raw:
        setattr(tpl.docx.core_properties, name, "")
    try:
        tpl.render(prepare_context(context), jinja_env=jinja_environment(), autoescape=True)
    except jinja2.TemplateError as exc:
        raise template_error(exc, source) from exc
    stamp_core_properties(tpl.docx, year=year, raw=raw)
    out = io.BytesIO()
    tpl.save(out)
    return split_package(out.getvalue())


def render_letter(
    template: bytes,
    context: Mapping[str, Any],
    *,
    year: int,
    fonts: Fonts | None = None,
    source: str | None = None,
    qr_picture: bytes | None = None,
) -> bytes:
    """Render one letter; the same inputs always give the same bytes.

    ``source`` names the template file in error messages; ``qr_picture`` is the letter's QR
    picture when the caller has it already (:func:`qr_picture_of`), else it is drawn.
    """
    members = render_members(substitute_fonts(template, fonts), context, year=year, source=source)
    qr = qr_media_members(members)
    return assemble_zip(
        [
            *(ZipMember.deflate(name, data) for name, data in members.items() if name not in qr),
            *qr_members(qr, context, source, qr_picture),
        ],
        year=year,
    )


# --------------------------------------------------------------------------- templates


def _packaged_templates() -> Traversable | None:
    try:
        return importlib.resources.files(TEMPLATE_PACKAGE)
    except ModuleNotFoundError:
        # A source checkout that is not installed: templates/ sits next to docgen/.
        checkout = Path(__file__).resolve().parent.parent / "templates"
        return checkout if checkout.is_dir() else None


def template_filename(kind: LetterKind) -> str:
    return f"{kind.value}.docx"


def load_template(ws_templates_dir: Path | None, kind: LetterKind) -> bytes:
    """The workspace's own ``templates/<kind>.docx`` if there is one, else the built-in template."""
    name = template_filename(kind)
    if ws_templates_dir is not None:
        own = ws_templates_dir / name
        if own.is_file():
            return own.read_bytes()
    packaged = _packaged_templates()
    if packaged is None or not packaged.joinpath(name).is_file():
        raise ValidationError(
            f"找不到《{kind.title}》的内置模板 {name}",
            hint="安装包不完整,请重新安装 docgen,或把模板放到工作目录的 templates/ 下",
        )
    return packaged.joinpath(name).read_bytes()


def template_digest(template: bytes) -> str:
    """SHA-256 (hex) of a template's bytes, to record which template a letter came from."""
    return hashlib.sha256(template).hexdigest()
