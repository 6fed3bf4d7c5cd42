"""``docgen verify --code 核验码``: the letter that the 核验码 or QR code on a paper names.

Whoever holds a printed letter types the 核验码 beside its QR code, or passes the text a scanner
read from the QR code; the workspace's registry says which letter that is
(:func:`docgen.records.letter_code.find_letter`), and ``docgen verify`` then verifies the
letter's registered file exactly as ``docgen verify <file>`` does. The letter's id, title and
parties are printed first: a code only finds a letter, so the paper must be compared with what
was found.
"""

from __future__ import annotations

import os
from pathlib import Path

from docgen.core.errors import UsageError
from docgen.core.workspace import Workspace
from docgen.records.letter_code import find_letter
from docgen.registry import open_registry
from docgen.registry.store import DATABASE_URL_ENV


def letter_for_code(ws: Workspace, text: str) -> tuple[Path, list[str]]:
    """The registered file of the letter ``text`` names, and the lines that say which it is."""
    if not os.environ.get(DATABASE_URL_ENV) and not ws.registry_path.exists():
        raise UsageError(
            "工作目录中还没有登记簿,无法按核验码查找文书",
            hint="请在生成这些文书的工作目录中运行,或用 --workspace 指定该目录",
        )
    with open_registry(ws) as registry:
        found = find_letter(registry, text)
    path = ws.year_dir(found.year) / found.path
    how = "二维码" if found.by_payload else "核验码"
    void = found.void_note()
    return path, [
        f"{how}对应的文书:{found.describe()},核验码 {found.code}",
        f"文件:{path}",
        *([] if void is None else [f"注意:{void}"]),
        "请核对纸面文书页脚的编号和核验码与上面一致、标题和双方姓名相符(核验码只用于查找文书)",
    ]
