"""Bulk rendering: compile a template once, then each letter costs one Jinja render.

:func:`docgen.render.render_letter` runs docxtpl from scratch for every letter: unzip, parse every
part, patch the XML, compile Jinja, serialise, zip.  For 10⁵ letters that is too slow, and almost
all of the work is the same each time.  :class:`CompiledTemplate` does docxtpl's preprocessing once
— the patched ``document.xml`` body and the header, footer and footnote parts become compiled Jinja
templates in the same environment — and keeps every other zip member already compressed.  A letter
is then: Jinja render, docxtpl's post-processing of the rendered XML, serialisation, deflate of the
changed parts, and assembly with the stored members.

The output is byte-identical to :func:`render_letter` for the same inputs (the tests check it for
every built-in template and for awkward names).  A template whose layout this class does not
reproduce exactly (footnotes in a document with several sections, where docxtpl renders the
footnotes once per section) is rendered through :func:`render_letter` instead, still correctly.

A :class:`CompiledTemplate` holds no per-letter state, so one instance can serve several threads;
pickling it (to hand it to worker processes) sends the template bytes, and the worker compiles its
own copy.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import nsmap
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate

from docgen.render import (
    BODY_PART,
    ZipMember,
    assemble_zip,
    jinja_environment,
    open_docx_template,
    prepare_context,
    raw_core_properties,
    render_letter,
    split_package,
    stamp_core_properties,
    substitute_fonts,
    template_error,
)
from docgen.workspace import Fonts

_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_PARAGRAPH_OPEN = re.compile(r"<w:p([ >])")
_PARAGRAPH_MARK = re.compile(r"\n<w:p([ >])")
_DOCX_IDS_START = 1000


def _jinja_source(patched: str) -> str:
    """docxtpl puts each paragraph on its own line before compiling (render_xml_part)."""
    return _PARAGRAPH_OPEN.sub(r"\n<w:p\1", patched)


def _after_jinja(tpl: DocxTemplate, rendered: str) -> str:
    """docxtpl's clean-up of rendered XML (render_xml_part), in the same order."""
    xml = _PARAGRAPH_MARK.sub(r"<w:p\1", rendered)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    return str(tpl.resolve_listing(xml))


@dataclass(frozen=True)
class _Part:
    """A zip member rebuilt for every letter from a compiled Jinja template."""

    name: str
    template: jinja2.Template
    finish: Callable[[str], bytes]


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
        fallback: bool,
    ) -> None:
        self._original = original
        self._template = template
        self._year = year
        self._source = source
        self._parts = parts
        self._fixed = fixed
        self._fallback = fallback

    @property
    def year(self) -> int:
        return self._year

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

        def compiled(parts: tuple[_Part, ...], fixed: tuple[ZipMember, ...]) -> CompiledTemplate:
            return cls(
                original=(template, fonts),
                template=prepared,
                year=year,
                source=source,
                parts=parts,
                fixed=fixed,
                fallback=not parts,
            )

        footnotes = [p for p in tpl.docx.part.package.parts if p.content_type == _FOOTNOTES]
        if footnotes and len(tpl.docx.sections) != 1:
            return compiled((), ())
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
            return compiled((), ())
        return compiled(parts, _fixed_members(prepared, year, names))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        template, fonts = self._original
        return (_compile, (template, self._year, fonts, self._source))

    def render(self, context: Mapping[str, Any]) -> bytes:
        """One letter as .docx bytes."""
        if self._fallback:
            return render_letter(self._template, context, year=self._year, source=self._source)
        values = prepare_context(context)
        members = list(self._fixed)
        try:
            for part in self._parts:
                data = part.finish(part.template.render(values))
                members.append(ZipMember.deflate(part.name, data))
        except jinja2.TemplateError as exc:
            raise template_error(exc, self._source) from exc
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

    return _Part(name=BODY_PART, template=env.from_string(source), finish=finish)


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
                )
            )
    return parts


def _footnote_part(tpl: DocxTemplate, env: jinja2.Environment, part: Any) -> _Part:
    blob = part.blob
    xml = blob.decode("utf-8") if isinstance(blob, bytes) else blob
    source = _jinja_source(tpl.patch_xml(xml))

    def finish(rendered: str) -> bytes:
        return _after_jinja(tpl, rendered).encode("utf-8")

    return _Part(name=_member_name(part.partname), template=env.from_string(source), finish=finish)


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
