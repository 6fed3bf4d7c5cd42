"""Bulk rendering: compile a template once, then each letter costs little more than a Jinja render.

:func:`docgen.letters.render.render_letter` runs docxtpl from scratch for every letter: unzip,
parse every part, patch the XML, compile Jinja, serialise, zip.  For 10⁵ letters that is too slow,
and almost all of the work is the same each time.  :class:`CompiledTemplate` does docxtpl's
preprocessing once — the patched ``document.xml`` body and the header, footer and footnote parts
become compiled Jinja templates in the same environment — and keeps every other zip member already
compressed, but for the picture of the letter's QR code, made and compressed for each letter as
:func:`docgen.letters.render.render_letter` does.

docxtpl's post-processing of the rendered XML (its regular expressions, ``fix_tables``, the lxml
parse and serialisation) depends on the shape of the rendered text, not on the names in it.  So a
letter is rendered twice by Jinja — once as docxtpl would, once with every inserted value wrapped
in two marker characters that no value can contain (:func:`docgen.letters.render.clean_text` removes
them).  The marked text with the values cut out is the letter's *skeleton*.  The first letter of
each skeleton goes through the whole post-processing with stand-in values; the result, split at
the stand-ins, is kept as fixed fragments, and every later letter of that skeleton is the fragments
joined with its values written as lxml writes text.  A skeleton is only used that way after it was
checked: each value sits in element text (not in a tag, attribute or comment), next to nothing
docxtpl's ``{_{`` clean-up could join it with, the skeleton has no characters docxtpl's listing
clean-up rewrites, the stand-ins come out once each and in order, and a second render with hostile
stand-ins (``&<>'"{}`` and ``_%``) gives exactly the bytes the fragments predict.  Per letter
the values must be text as :func:`docgen.letters.render.literal_markup` escapes it and the marked
render, with the markers removed, must equal the plain render.  Whatever fails a check is
post-processed in full as before, so the output is byte-identical to :func:`render_letter` in
every case (the tests check it for every built-in template and for awkward names).

A template whose layout this class does not reproduce exactly (footnotes in a document with several
sections, where docxtpl renders the footnotes once per section) is rendered through
:func:`render_letter` instead, still correctly.

A :class:`CompiledTemplate` may serve several threads (the fragment cache only ever gains complete
entries); pickling it (to hand it to worker processes) sends the template bytes, and the worker
compiles its own copy.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import nsmap
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate
from jinja2 import nodes
from markupsafe import Markup

from docgen.core.workspace import Fonts
from docgen.letters.render import (
    BODY_PART,
    ZipMember,
    assemble_zip,
    jinja_environment,
    literal_markup,
    open_docx_template,
    prepare_context,
    qr_media_members,
    qr_members,
    qr_picture_of,
    raw_core_properties,
    render_letter,
    split_package,
    stamp_core_properties,
    substitute_fonts,
    template_error,
)

_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_PARAGRAPH_OPEN = re.compile(r"<w:p([ >])")
_PARAGRAPH_MARK = re.compile(r"\n<w:p([ >])")
_DOCX_IDS_START = 1000

# Markers around each value in the marked render; clean_text removes both from every value.
_OPEN, _CLOSE = "\x01", "\x02"
# Stand-ins for the values while a skeleton is learnt: private-use characters of plane 15.
_STAND_IN_BASE = 0xF0000
_STAND_IN_LIMIT = 0x10000
_STAND_IN = re.compile("([\U000f0000-\U000fffff])")
_PRIVATE_PLANES = re.compile("[\U000f0000-\U0010ffff]")
_LISTING_CHARS = re.compile("[\t\x07\n\x0c]")
_HOSTILE = "_%A&B<C>'\"{{ x }}{% y %}𠮷·"
_MAX_SKELETONS = 64
_ENTITIES = (
    ("&#123;", "{"),
    ("&#125;", "}"),
    ("&#39;", "'"),
    ("&#34;", '"'),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&amp;", "&"),
)


def _jinja_source(patched: str) -> str:
    """docxtpl puts each paragraph on its own line before compiling (render_xml_part)."""
    return _PARAGRAPH_OPEN.sub(r"\n<w:p\1", patched)


def _after_jinja(tpl: DocxTemplate, rendered: str) -> str:
    """docxtpl's clean-up of rendered XML (render_xml_part), in the same order."""
    xml = _PARAGRAPH_MARK.sub(r"<w:p\1", rendered)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    return str(tpl.resolve_listing(xml))


class _Slot(Markup):
    """A context value that Jinja writes between the two markers (the marked render)."""

    # Plain Markup on purpose: Markup(x) calls x.__html__() again, which must not add markers.
    def __html__(self) -> Markup:  # type: ignore[override]
        return Markup("".join((_OPEN, self, _CLOSE)))

    def __repr__(self) -> str:
        # As Markup's: a list written whole (``{{ names }}``) reads the same in both renders.
        return f"Markup({str.__repr__(self)})"


def _slot_value(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return _Slot(literal_markup(value))
    if isinstance(value, Mapping):
        return {k: _slot_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_slot_value(v) for v in value]
    return value


def _slot_context(context: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): _slot_value(value) for key, value in context.items()}


def _unescape(value: str) -> str:
    """The text that escaped ``value`` stands for (the entities ``literal_markup`` writes)."""
    if "&" not in value:
        return value
    for entity, char in _ENTITIES:
        value = value.replace(entity, char)
    return value


def _is_escaped_text(value: str) -> bool:
    """True when ``value`` is exactly what ``literal_markup`` writes for some text."""
    return str(literal_markup(_unescape(value))) == value


def _lxml_text(value: str) -> str:
    """How lxml writes the text that escaped ``value`` stands for, in element content."""
    if "&" not in value:
        return value
    return _unescape(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _split_marked(marked: str) -> tuple[str, list[str]] | None:
    """The skeleton (each non-empty value replaced by ``_OPEN``) and the values, or None."""
    pieces = marked.split(_OPEN)
    head = pieces[0]
    if _CLOSE in head:
        return None
    skeleton = [head]
    values: list[str] = []
    for piece in pieces[1:]:
        value, found, rest = piece.partition(_CLOSE)
        if not found or _CLOSE in rest:
            return None
        if value:
            skeleton.append(_OPEN)
            values.append(value)
        skeleton.append(rest)
    return "".join(skeleton), values


def _fill(skeleton: str, values: list[str]) -> str:
    pieces = skeleton.split(_OPEN)
    out = [pieces[0]]
    for value, piece in zip(values, pieces[1:], strict=True):
        out.append(value)
        out.append(piece)
    return "".join(out)


def _in_element_text(skeleton: str) -> bool:
    """Every value slot of ``skeleton`` lies in element text, out of reach of docxtpl's clean-up."""
    start = 0
    while (slot := skeleton.find(_OPEN, start)) >= 0:
        start = slot + 1
        if skeleton.rfind("<", 0, slot) > skeleton.rfind(">", 0, slot):
            return False
        after_lt, after_gt = skeleton.find("<", start), skeleton.find(">", start)
        if after_gt >= 0 and (after_lt < 0 or after_gt < after_lt):
            return False
        if skeleton.endswith(("{", "{_"), 0, slot) or skeleton.startswith(("}", "_}"), start):
            return False
    return True


def _plain_test(node: nodes.Node) -> bool:
    """A condition that reads values without asking Jinja to escape them."""
    if isinstance(node, (nodes.Name, nodes.Const)):
        return True
    if isinstance(node, nodes.Compare):
        return _plain_test(node.expr) and all(_plain_test(op.expr) for op in node.ops)
    if isinstance(node, (nodes.And, nodes.Or)):
        return _plain_test(node.left) and _plain_test(node.right)
    if isinstance(node, nodes.Not):
        return _plain_test(node.node)
    if isinstance(node, nodes.Getattr):
        return _plain_test(node.node)
    if isinstance(node, nodes.Test):
        return _plain_test(node.node) and not (
            node.args or node.kwargs or node.dyn_args or node.dyn_kwargs
        )
    return False


def _plain_output(node: nodes.Node) -> bool:
    """Output that escapes a value only to write it: ``{{ name }}`` or ``{{ list|join(sep) }}``."""
    if isinstance(node, (nodes.TemplateData, nodes.Name, nodes.Const)):
        return True
    return (
        isinstance(node, nodes.Filter)
        and node.name == "join"
        and isinstance(node.node, nodes.Name)
        and all(isinstance(arg, nodes.Const) for arg in node.args)
        and not (node.kwargs or node.dyn_args or node.dyn_kwargs)
    )


def _plain_statements(body: list[nodes.Node]) -> bool:
    for node in body:
        if isinstance(node, nodes.Output):
            if not all(map(_plain_output, node.nodes)):
                return False
        elif isinstance(node, nodes.If):
            if not (
                _plain_test(node.test)
                and _plain_statements(node.body)
                and _plain_statements(list(node.elif_))
                and _plain_statements(node.else_)
            ):
                return False
        elif isinstance(node, nodes.For):
            if not (
                isinstance(node.target, nodes.Name)
                and isinstance(node.iter, nodes.Name)
                and node.test is None
                and not node.recursive
                and _plain_statements(node.body)
                and _plain_statements(node.else_)
            ):
                return False
        else:
            return False
    return True


def _writes_values_directly(env: jinja2.Environment, source: str) -> bool:
    """True when the template escapes a value only to write it out, never to compute with it.

    Then the marked render is the plain render with markers around each value, so one render
    serves both, and every marked value is exactly ``literal_markup`` of a context string.
    """
    return _plain_statements(env.parse(source).body)


@dataclass(frozen=True)
class _Part:
    """A zip member rebuilt for every letter from a compiled Jinja template.

    ``reserialized``: ``finish`` parses and re-serialises the XML with lxml, so values come out
    as lxml writes text; otherwise they come out as rendered.  ``skeletons`` maps a skeleton to its
    fixed fragments (UTF-8), or to None when it failed a check.
    """

    name: str
    template: jinja2.Template
    finish: Callable[[str], bytes]
    reserialized: bool
    direct: bool
    skeletons: dict[str, tuple[bytes, ...] | None] = field(default_factory=dict)

    def render(self, plain: Mapping[str, Any] | None, marked: Mapping[str, Any]) -> bytes:
        """The part's bytes; ``plain`` (the context as docxtpl gets it) is needed unless direct."""
        marked_text = self.template.render(marked)
        stripped = marked_text.replace(_OPEN, "").replace(_CLOSE, "")
        if self.direct:
            rendered = stripped
        else:
            assert plain is not None
            rendered = self.template.render(plain)
            if stripped != rendered:
                return self.finish(rendered)
        fast = self._join(marked_text)
        return fast if fast is not None else self.finish(rendered)

    def _out(self, value: str) -> str:
        return _lxml_text(value) if self.reserialized else value

    def _join(self, marked: str) -> bytes | None:
        split = _split_marked(marked)
        if split is None:
            return None
        skeleton, values = split
        if not self.direct and not all(map(_is_escaped_text, values)):
            return None
        try:
            fragments = self.skeletons[skeleton]
        except KeyError:
            # A template that makes a new skeleton for (almost) every letter stops learning here:
            # learning costs two full post-processings.
            if len(self.skeletons) >= _MAX_SKELETONS:
                return None
            fragments = self._learn(skeleton)
            self.skeletons[skeleton] = fragments
        if fragments is None:
            return None
        out = [fragments[0]]
        for value, fragment in zip(values, fragments[1:], strict=True):
            out.append(self._out(value).encode("utf-8"))
            out.append(fragment)
        return b"".join(out)

    def _learn(self, skeleton: str) -> tuple[bytes, ...] | None:
        """The fixed fragments of ``skeleton``, or None when they cannot be proved right."""
        count = skeleton.count(_OPEN)
        if count >= _STAND_IN_LIMIT or _PRIVATE_PLANES.search(skeleton):
            return None
        if not _in_element_text(skeleton):
            return None
        if _LISTING_CHARS.search(_PARAGRAPH_MARK.sub(r"<w:p\1", skeleton)):
            return None
        stand_ins = [chr(_STAND_IN_BASE + i) for i in range(count)]
        learnt = self.finish(_fill(skeleton, stand_ins)).decode("utf-8")
        pieces = _STAND_IN.split(learnt)
        if pieces[1::2] != stand_ins:
            return None
        fragments = tuple(piece.encode("utf-8") for piece in pieces[0::2])
        hostile = [str(literal_markup(f"{_HOSTILE}{i}%_")) for i in range(count)]
        expected = self.finish(_fill(skeleton, hostile))
        out = [fragments[0]]
        for value, fragment in zip(hostile, fragments[1:], strict=True):
            out.append(self._out(value).encode("utf-8"))
            out.append(fragment)
        if b"".join(out) != expected:
            return None
        return fragments


@dataclass(frozen=True)
class SkeletonStats:
    """What a compiled template has learnt so far, over all its parts.

    ``joined``: skeletons whose letters are the fixed fragments joined with the values;
    ``rejected``: skeletons that failed a check, whose letters are post-processed in full;
    ``direct``: every part writes values only directly, so a letter needs one Jinja render a part.
    """

    joined: int
    rejected: int
    direct: bool


class CompiledTemplate:
    """One template, preprocessed once, rendering letters byte-identical to ``render_letter``."""

    def __init__(
        self,
        *,
        original: tuple[bytes, Fonts | None],
        template: bytes,
        year: int,
        source: str | None,
        parts: tuple[_Part, ...],
        fixed: tuple[ZipMember, ...],
        qr: frozenset[str],
        fallback: bool,
    ) -> None:
        self._original = original
        self._template = template
        self._year = year
        self._source = source
        self._parts = parts
        self._fixed = fixed
        self._qr = qr
        self._fallback = fallback
        self._direct = all(part.direct for part in parts)

    @property
    def year(self) -> int:
        return self._year

    def skeleton_stats(self) -> SkeletonStats:
        learnt = [fragments for part in self._parts for fragments in part.skeletons.values()]
        joined = sum(fragments is not None for fragments in learnt)
        return SkeletonStats(
            joined=joined, rejected=len(learnt) - joined, direct=self._direct and bool(self._parts)
        )

    @property
    def uses_fallback(self) -> bool:
        """True when letters go through the plain docxtpl path (see the module docstring)."""
        return self._fallback

    @classmethod
    def from_bytes(
        cls,
        template: bytes,
        *,
        year: int,
        fonts: Fonts | None = None,
        source: str | None = None,
    ) -> CompiledTemplate:
        """Compile ``template`` for letters of ``year`` with ``fonts`` (None: the defaults)."""
        prepared = substitute_fonts(template, fonts)
        tpl = open_docx_template(prepared, source)
        env = jinja_environment()

        def compiled(
            parts: tuple[_Part, ...], fixed: tuple[ZipMember, ...], qr: frozenset[str]
        ) -> CompiledTemplate:
            return cls(
                original=(template, fonts),
                template=prepared,
                year=year,
                source=source,
                parts=parts,
                fixed=fixed,
                qr=qr,
                fallback=not parts,
            )

        # The QR picture's media member is the one fixed member replaced in every letter.
        qr = qr_media_members(split_package(prepared))
        footnotes = [p for p in tpl.docx.part.package.parts if p.content_type == _FOOTNOTES]
        if footnotes and len(tpl.docx.sections) != 1:
            return compiled((), (), qr)
        try:
            parts = (
                _body_part(tpl, env),
                *_header_footer_parts(tpl, env),
                *(_footnote_part(tpl, env, part) for part in footnotes),
            )
        except jinja2.TemplateError as exc:
            raise template_error(exc, source) from exc
        names = {p.name for p in parts}
        if len(names) != len(parts):
            # One header or footer shared by two sections: docxtpl renders it twice.
            return compiled((), (), qr)
        return compiled(parts, _fixed_members(prepared, year, names | qr), qr)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        template, fonts = self._original
        return (_compile, (template, self._year, fonts, self._source))

    @property
    def has_qr(self) -> bool:
        """True when the template has the QR placeholder picture (render.qr_media_members)."""
        return bool(self._qr)

    def qr_picture_of(self, letter: bytes) -> bytes | None:
        """The QR picture of a letter of this template (see :func:`render.qr_picture_of`)."""
        return qr_picture_of(letter, self._qr)

    def render(self, context: Mapping[str, Any], *, qr_picture: bytes | None = None) -> bytes:
        """One letter as .docx bytes; ``qr_picture``: its QR picture if the caller has it."""
        if self._fallback:
            return render_letter(
                self._template,
                context,
                year=self._year,
                source=self._source,
                qr_picture=qr_picture,
            )
        plain = None if self._direct else prepare_context(context)
        marked = _slot_context(context)
        members = list(self._fixed)
        try:
            for part in self._parts:
                members.append(ZipMember.deflate(part.name, part.render(plain, marked)))
        except jinja2.TemplateError as exc:
            raise template_error(exc, self._source) from exc
        members.extend(qr_members(self._qr, context, self._source, qr_picture))
        return assemble_zip(members, year=self._year)


def _compile(
    template: bytes, year: int, fonts: Fonts | None, source: str | None
) -> CompiledTemplate:
    return CompiledTemplate.from_bytes(template, year=year, fonts=fonts, source=source)


def _member_name(partname: object) -> str:
    return str(partname).lstrip("/")


def _body_part(tpl: DocxTemplate, env: jinja2.Environment) -> _Part:
    document = tpl.docx.element
    body = document.body
    index = document.index(body)
    shell = copy.deepcopy(document)
    shell.remove(shell[index])
    source = _jinja_source(tpl.patch_xml(tpl.get_xml()))

    def finish(rendered: str) -> bytes:
        tree = tpl.fix_tables(_after_jinja(tpl, rendered))
        docprs = tree.xpath("//wp:docPr", namespaces=nsmap)
        for number, element in enumerate(docprs, start=_DOCX_IDS_START + 1):
            element.attrib["id"] = str(number)
        root = copy.deepcopy(shell)
        root.insert(index, tree)
        return bytes(serialize_part_xml(root))

    return _Part(
        name=BODY_PART,
        template=env.from_string(source),
        finish=finish,
        reserialized=True,
        direct=_writes_values_directly(env, source),
    )


def _header_footer_parts(tpl: DocxTemplate, env: jinja2.Environment) -> list[_Part]:
    parts: list[_Part] = []
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _key, part in tpl.get_headers_footers(uri):
            xml = tpl.get_part_xml(part)
            encoding = tpl.get_headers_footers_encoding(xml)

            def finish(rendered: str, encoding: str = encoding) -> bytes:
                blob = _after_jinja(tpl, rendered).encode(encoding)
                return bytes(serialize_part_xml(parse_xml(blob)))

            source = _jinja_source(tpl.patch_xml(xml))
            parts.append(
                _Part(
                    name=_member_name(part.partname),
                    template=env.from_string(source),
                    finish=finish,
                    reserialized=True,
                    direct=_writes_values_directly(env, source),
                )
            )
    return parts


def _footnote_part(tpl: DocxTemplate, env: jinja2.Environment, part: Any) -> _Part:
    blob = part.blob
    xml = blob.decode("utf-8") if isinstance(blob, bytes) else blob
    source = _jinja_source(tpl.patch_xml(xml))

    def finish(rendered: str) -> bytes:
        return _after_jinja(tpl, rendered).encode("utf-8")

    return _Part(
        name=_member_name(part.partname),
        template=env.from_string(source),
        finish=finish,
        reserialized=False,
        direct=_writes_values_directly(env, source),
    )


def _fixed_members(template: bytes, year: int, rendered: set[str]) -> tuple[ZipMember, ...]:
    """The members that are the same in every letter, compressed once.

    They are taken from python-docx's own save of the template — the bytes ``render_letter``
    writes for them — with the core properties stamped exactly as for a letter.
    """
    tpl = open_docx_template(template)
    stamp_core_properties(tpl.docx, year=year, raw=raw_core_properties(tpl))
    out = io.BytesIO()
    tpl.docx.save(out)
    members = split_package(out.getvalue())
    return tuple(
        ZipMember.deflate(name, data) for name, data in members.items() if name not in rendered
    )
