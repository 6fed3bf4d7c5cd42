"""Write a roster as ``roster.yaml`` in the example roster's layout: one line per entry.

Used by the spreadsheet import (docgen.roster.spreadsheet) to write what it read; a field the
roster did not state (a department's ``function``, 职能) is left out, so the text of a roster
without it stays what it was.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import yaml

from docgen.core.glossary import ROLE_LABELS
from docgen.core.models import Roster


class _FlowMap(dict[str, Any]):
    """A mapping written on one line, as in the hand-written example roster."""


class _RosterDumper(yaml.SafeDumper):
    pass


def _represent_flow_map(dumper: yaml.SafeDumper, data: _FlowMap) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_RosterDumper.add_representer(_FlowMap, _represent_flow_map)


def _printable(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def roster_to_yaml(roster: Roster, *, origin: str | None = None) -> str:
    """The roster as YAML in the same layout as the example roster: one line per entry."""
    people = [
        _FlowMap(id=p.id, name=p.name, title=p.title, role=ROLE_LABELS[p.role])
        for p in roster.people
    ]
    departments = [
        _FlowMap(name=d.name, head=d.head, supervisor=d.supervisor, members=list(d.members))
        for d in roster.departments
    ]
    for entry, d in zip(departments, roster.departments, strict=True):
        if d.function is not None:  # 职能 (第七条) only where the roster states it
            entry["function"] = d.function
    body = yaml.dump(
        {"institution": roster.institution, "people": people, "departments": departments},
        Dumper=_RosterDumper,
        allow_unicode=True,
        sort_keys=False,
        width=1_000_000,
        default_flow_style=False,
    )
    header = "# 名册:人员(people)与部门(departments)。修改后运行 docgen roster check。\n"
    if origin:
        header += f"# 由 docgen roster import 从 {_printable(origin)} 生成。\n"
    return header + body
