"""Create a new workspace: config, example roster, keys/, output/, editable templates."""

from __future__ import annotations

import json
import os
from pathlib import Path

from docgen.core.errors import UsageError
from docgen.core.glossary import LetterKind
from docgen.core.workspace import CONFIG_NAME, atomic_write, config_text
from docgen.letters.render import load_template
from docgen.roster.example import example_roster_yaml
from docgen.roster.vocabulary import bad_characters


def init_workspace(
    directory: Path,
    *,
    institution: str,
    year: int,
    roster_yaml: str | None = None,
) -> list[Path]:
    """Write a workspace skeleton into ``directory``; refuse to touch an existing workspace."""
    directory = directory.resolve()
    if (directory / CONFIG_NAME).exists():
        raise UsageError(
            f"{directory} 已经是 docgen 工作目录",
            hint="如需重新开始,请换一个空目录",
        )
    if not institution.strip():
        raise UsageError(
            "单位名称为空", hint="请用 --institution 指定,例如 --institution 庆城县人民检察院"
        )
    bad = bad_characters(institution)
    if bad:
        raise UsageError(
            f"单位名称含有控制字符或不可见字符({'、'.join(bad)})",
            hint="单位名称会写入每份文书和证书,请删去这些字符后重试",
        )
    if not 2000 <= year <= 2100:
        raise UsageError(f"年度 {year} 不合理", hint="请用四位年份,例如 --year 2027")
    directory.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []

    def write(rel: str, data: bytes, mode: int = 0o644) -> None:
        path = directory / rel
        atomic_write(path, data, mode=mode)
        created.append(path)

    write(CONFIG_NAME, config_text(institution, year).encode("utf-8"))
    roster_text = (
        roster_yaml
        if roster_yaml is not None
        else _with_institution(example_roster_yaml(), institution)
    )
    write("roster.yaml", roster_text.encode("utf-8"))
    for kind in LetterKind:
        write(f"templates/{kind.value}.docx", load_template(None, kind))
    keys = directory / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    os.chmod(keys, 0o700)
    created.append(keys)
    (directory / "output").mkdir(exist_ok=True)
    created.append(directory / "output")
    return created


def _with_institution(roster_yaml: str, institution: str) -> str:
    lines = roster_yaml.splitlines(keepends=True)
    return "".join(
        f"institution: {json.dumps(institution, ensure_ascii=False)}\n"
        if line.startswith("institution:")
        else line
        for line in lines
    )
