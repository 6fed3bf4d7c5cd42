"""The visible stamp of a PAdES signature: its Chinese text, its embedded font, the handwriting.

The stamp shows who signed (name, 职务), when (Beijing time, to the minute) and with which
certificate (its serial), and the person's handwritten signature when they registered one
(``keys/people/<id>/signature.png``). Chinese text needs an embedded CJK font: Noto Sans CJK SC
from Debian's fonts-noto-cjk, a collection (.ttc) of ten faces, 65,535 glyphs each.

Why the font is prepared, not loaded per signature: pyHanko's :class:`GlyphAccumulator` reads a
whole font and subsets it with fontTools at every signature; for this collection that is ≈1 s
(parsing the charset, FDSelect and metrics of 65,535 glyphs), ten times the budget of a
signature. So, once per process, the SC face is read from the collection and cut down to the
characters stamps need (:meth:`StampFont.warm` adds names and 职务 up front, so a bulk run cuts it
once); each distinct stamp text then gets its own small subset of that (a few ms, cached), whose
CFF program is compiled once; a signature only shapes its text and embeds those cached bytes.
The font embedded in a PDF holds only the glyphs of its stamp.

This leans on two internals of pyHanko's OpenType engine (``_subset_created`` and the
``cidfont_obj`` it builds), hence the pinned ``pyhanko~=0.38`` in pyproject.toml.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils import content, generic, layout
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import CIDFontType0, GlyphAccumulator
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import TextStampStyle

from docgen.core.errors import DocgenError, Location, ValidationError

FACE_NAME = "Noto Sans CJK SC"
FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/local/share/fonts"),
)
FONT_PATTERNS = ("NotoSansCJK*-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")
SIGNATURE_IMAGE = "signature.png"

BEIJING = timezone(timedelta(hours=8), "北京时间")
# Every stamp uses these: labels, digits, the hex of serials, the date's units.
_FIXED_CHARS = frozenset(
    "0123456789abcdefABCDEF :：()()、·-年月日时分秒北京时间职务证书序列号数字签名电子"
)
FONT_SIZE = 8
INK = (0.70, 0.07, 0.07)  # the red of a seal
IMAGE_SHARE = 0.4  # of the stamp's width, for the handwritten signature


class StampFontMissingError(DocgenError):
    """No CJK font for the stamp: the PDF cannot be signed with a visible stamp."""


def beijing_time(moment: datetime) -> str:
    """``2027年1月5日 09:30`` — the moment in Beijing time (UTC+8, no daylight saving)."""
    local = moment.astimezone(BEIJING)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


@dataclass(frozen=True)
class StampText:
    """What a stamp says."""

    name: str
    title: str
    signed_at: datetime
    serial: str

    def text(self) -> str:
        # The serial (up to 40 hex digits) on two lines: on one it would set the stamp's width
        # and shrink all its text.
        half = (len(self.serial) + 1) // 2
        return "\n".join(
            (
                f"{self.name}(数字签名)",
                f"职务:{self.title}",
                f"{beijing_time(self.signed_at)}(北京时间)",
                f"证书序列号 {self.serial[:half]}",
                self.serial[half:],
            )
        )


def find_font() -> tuple[Path, int]:
    """The file and face index of Noto Sans CJK SC (fonts-noto-cjk)."""
    for folder in FONT_DIRS:
        for pattern in FONT_PATTERNS:
            for path in sorted(folder.glob(pattern)):
                index = _face_index(path)
                if index is not None:
                    return path, index
    raise StampFontMissingError(
        f"找不到签章所需的中文字体 {FACE_NAME}",
        location=Location(file=str(FONT_DIRS[0])),
        hint="请安装:apt install fonts-noto-cjk",
    )


def _face_index(path: Path) -> int | None:
    if path.suffix.lower() != ".ttc":
        return 0 if FACE_NAME in str(TTFont(path, lazy=True)["name"].getDebugName(4)) else None
    collection = TTCollection(path, lazy=True)
    for index, face in enumerate(collection.fonts):
        if face["name"].getDebugName(4) == FACE_NAME:
            return index
    return None


def _subset_options() -> subset.Options:
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True  # plain charstrings: later subsets need no subroutine closure
    options.notdef_outline = True
    options.drop_tables += ["GPOS", "GDEF", "GSUB", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    return options


def _cut(font: TTFont, chars: Iterable[str]) -> bytes:
    cutter = subset.Subsetter(_subset_options())
    cutter.populate(unicodes=sorted({ord(c) for c in chars}))
    cutter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class PreparedFont:
    """A small OpenType font (the glyphs of one stamp text) and its compiled CFF program."""

    otf: bytes
    program: bytes


def _prepare(otf: bytes) -> PreparedFont:
    font = TTFont(io.BytesIO(otf))
    out = io.BytesIO()
    font["CFF "].cff.compile(out, font)
    return PreparedFont(otf, out.getvalue())


class StampFont:
    """Noto Sans CJK SC, read from its collection once and kept small (see the module's doc)."""

    def __init__(self, path: Path, index: int) -> None:
        self.path = path
        self.index = index
        self._lock = threading.Lock()
        self._chars: frozenset[str] = frozenset()
        self._base = b""
        self._per_text: dict[frozenset[str], PreparedFont] = {}

    def warm(self, texts: Iterable[str]) -> None:
        """Make sure the working font has every character of ``texts`` (one cut of the
        collection for all of them, instead of one per new name)."""
        wanted = _FIXED_CHARS.union(*(set(t) for t in texts)) - {"\n"}
        with self._lock:
            if wanted <= self._chars:
                return
            chars = self._chars | wanted
            face = TTCollection(self.path, lazy=True).fonts[self.index]
            base = _cut(face, chars)
            self._chars, self._base = frozenset(chars), base
            self._per_text.clear()

    def prepared(self, text: str) -> PreparedFont:
        """The small font for one stamp text (cached by its characters)."""
        key = frozenset(text) - {"\n"}
        found = self._per_text.get(key)
        if found is not None:
            return found
        self.warm([text])
        with self._lock:
            font = TTFont(io.BytesIO(self._base))
            prepared = _prepare(_cut(font, key | {" "}))
            if len(self._per_text) >= 4096:
                self._per_text.clear()
            self._per_text[key] = prepared
        return prepared


@functools.cache
def stamp_font() -> StampFont:
    """The process's stamp font (found and opened once)."""
    return StampFont(*find_font())


class _CachedCff(CIDFontType0):
    """pyHanko's CID-keyed CFF font, embedding a program compiled once instead of per PDF."""

    def __init__(self, tt: TTFont, ps_name: str, prefix: str, program: bytes) -> None:
        super().__init__(tt, ps_name, prefix)
        self._program = program

    def set_font_file(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        stream = generic.StreamObject(
            {generic.pdf_name("/Subtype"): generic.pdf_name("/CIDFontType0C")},
            stream_data=self._program,
        )
        stream.compress()  # type: ignore[no-untyped-call]
        ref = writer.add_object(stream)
        self._font_descriptor[generic.pdf_name("/FontFile3")] = ref
        return ref


class _PreparedEngine(GlyphAccumulator):
    """A glyph accumulator over an already subset font: nothing left to cut at write time."""

    def __init__(
        self, writer: BasePdfFileWriter, font: PreparedFont, size: int, obj_stream: Any
    ) -> None:
        super().__init__(writer, io.BytesIO(font.otf), size, obj_stream=obj_stream)
        ps_name = str(self.cidfont_obj.name).split("+", 1)[1]
        self.cidfont_obj = _CachedCff(self.tt, ps_name, self.subset_prefix, font.program)
        self._subset_created = True


class _PreparedFactory(FontEngineFactory):
    def __init__(self, font: PreparedFont, size: int) -> None:
        self.font = font
        self.size = size

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: Any = None
    ) -> GlyphAccumulator:
        return _PreparedEngine(writer, self.font, self.size, obj_stream)


@functools.lru_cache(maxsize=64)
def _signature_image(path: Path, mtime_ns: int, size: int) -> Image.Image:
    del mtime_ns, size  # part of the cache key only: a replaced image is read again
    with Image.open(path) as image:
        image.load()
        return image.convert("RGBA")


def signature_image(people_dir: Path, person_id: str) -> Image.Image | None:
    """The person's handwritten signature (``keys/people/<id>/signature.png``), if registered."""
    path = people_dir / person_id / SIGNATURE_IMAGE
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    try:
        return _signature_image(path, info.st_mtime_ns, info.st_size)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(
            "手写签名图片无法读取",
            location=Location(file=str(path)),
            hint="请换成 PNG 图片,或删除该文件后再签",
        ) from exc


class _Backdrop(content.PdfContent):
    """The stamp's ground: opaque white, so the blank line and the 日期 blanks under it do not show
    through, and the handwritten signature, if any, fitted into the left part."""

    def __init__(self, width: float, height: float, image: Image.Image | None) -> None:
        super().__init__(box=layout.BoxConstraints(width, height))
        self.image = image

    def render(self) -> bytes:
        width, height = self.box.width, self.box.height
        commands = [b"q 1 1 1 rg 0 0 %g %g re f Q" % (width, height)]
        if self.image is not None:
            room_w, room_h = IMAGE_SHARE * width - 4, height - 4
            scale = min(room_w / self.image.width, room_h / self.image.height)
            draw_w, draw_h = self.image.width * scale, self.image.height * scale
            picture = PdfImage(self.image, box=layout.BoxConstraints(draw_w, draw_h))
            picture.set_writer(self.writer)  # type: ignore[no-untyped-call]
            drawn = picture.render()
            self.import_resources(picture.resources)
            x, y = 2 + (room_w - draw_w) / 2, 2 + (room_h - draw_h) / 2
            commands.append(b"q 1 0 0 1 %g %g cm %s Q" % (x, y, drawn))
        return b" ".join(commands)


def stamp_style(
    text: StampText,
    width: float,
    height: float,
    *,
    image: Image.Image | None = None,
    font: StampFont | None = None,
) -> tuple[TextStampStyle, dict[str, str]]:
    """The pyHanko stamp style for ``text`` in a box of ``width`` × ``height`` points, and its
    text parameters. A handwritten ``image`` takes the left part of the box, the text the rest;
    text too large for the box is shrunk to fit."""
    words = text.text()
    prepared = (font or stamp_font()).prepared(words)
    box_style = TextBoxStyle(
        font=_PreparedFactory(prepared, FONT_SIZE),
        font_size=FONT_SIZE,
        leading=FONT_SIZE + 2,
        text_color=INK,
        # No inner margin of the text box (pyHanko's default is 10 pt on each side, which in a
        # stamp one line pitch high would shrink the text by half); the stamp keeps 3 pt.
        box_layout_rule=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(),
        ),
    )
    left = round(IMAGE_SHARE * width) + 2 if image is not None else 3
    style = TextStampStyle(
        stamp_text="%(stamp)s",
        text_box_style=box_style,
        border_width=1,
        border_color=INK,
        background=_Backdrop(width, height, image),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(),
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(left=left, right=3, top=3, bottom=3),
        ),
    )
    return style, {"stamp": words}
