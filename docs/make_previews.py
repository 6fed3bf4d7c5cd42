"""Regenerate docs/letters/<kind>.png: page 1 of one sample letter of each kind.

Usage: python docs/make_previews.py

Needs LibreOffice (soffice) and poppler (pdftoppm); without them it says so and does nothing.
The names are fictional.  Offices rarely have 方正小标宋 or 仿宋_GB2312 on Linux, so a private
fontconfig file maps the template fonts to Noto CJK (fonts-noto-cjk) for the preview only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docgen.core.glossary import LetterKind, Role  # noqa: E402
from docgen.letters.render import render_letter  # noqa: E402
from docgen.records.letter_code import RegistryIdentity, code_context  # noqa: E402

# The registry the sample letters' QR code and 核验码 name (fictional, like the names).
SAMPLE_REGISTRY = RegistryIdentity("庆城县人民检察院/党风廉政建设登记簿", bytes.fromhex("5d1f0c2a"))

SAMPLES: dict[LetterKind, dict[str, object]] = {
    LetterKind.RESPONSIBILITY: {
        "tier": "leadership",
        "superior_name": "王建国",
        "superior_title": "党组书记、检察长",
        "subordinate_name": "李明华",
        "subordinate_title": "党组成员、副检察长",
        "department": "",
        "supervised_departments": ["第一检察部", "第二检察部"],
        "articles": "第九条第5项、第十条第3项、第十一条第2项",
        "superior_role": Role.PARTY_SECRETARY.value,
        "subordinate_role": Role.LEADER.value,
        "department_functions": [],
    },
    LetterKind.PUBLIC_COMMITMENT: {
        "tier": "department",
        "superior_name": "李明华",
        "superior_title": "党组成员、副检察长",
        "subordinate_name": "赵晓燕",
        "subordinate_title": "第一检察部主任",
        "department": "第一检察部",
        "supervised_departments": [],
        "articles": "第九条第6项",
        "superior_role": Role.LEADER.value,
        "subordinate_role": Role.DEPARTMENT_HEAD.value,
        "department_functions": [],  # 第一检察部 is not a 相关职能部门 of 第七条
    },
    LetterKind.INTEGRITY_PLEDGE: {
        "tier": "staff",
        "superior_name": "赵晓燕",
        "superior_title": "第一检察部主任",
        "subordinate_name": "孙志强",
        "subordinate_title": "检察官助理",
        "department": "第一检察部",
        "supervised_departments": [],
        "articles": "第九条第7项",
        "superior_role": Role.DEPARTMENT_HEAD.value,
        "subordinate_role": Role.STAFF.value,
        "department_functions": [],
    },
}

# Template font → (Noto family, bold?) for previews.
PREVIEW_FONTS = {
    "方正小标宋简体": ("Noto Serif CJK SC", True),
    "仿宋_GB2312": ("Noto Serif CJK SC", False),
    "楷体_GB2312": ("Noto Serif CJK SC", False),
    "黑体": ("Noto Sans CJK SC", False),
    "宋体": ("Noto Serif CJK SC", False),
}


def fontconfig(directory: Path) -> Path:
    rules = []
    for name, (family, bold) in PREVIEW_FONTS.items():
        weight = '<edit name="weight" mode="assign"><const>bold</const></edit>' if bold else ""
        rules.append(
            f'<match target="pattern"><test name="family"><string>{name}</string></test>'
            f'<edit name="family" mode="assign" binding="strong"><string>{family}</string></edit>'
            f"{weight}</match>"
        )
    path = directory / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        + "".join(rules)
        + "</fontconfig>\n",
        encoding="utf-8",
    )
    return path


def main() -> int:
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        print("跳过:未找到 soffice(LibreOffice)或 pdftoppm(poppler-utils),无法生成预览图")
        return 0
    out_dir = ROOT / "docs" / "letters"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = dict(os.environ, FONTCONFIG_FILE=str(fontconfig(work)), HOME=str(work))
        for kind, sample in SAMPLES.items():
            context = {
                "institution": "庆城县人民检察院",
                "year": 2027,
                "doc_id": f"2027-{kind.code}-P001-P002",
                "kind_title": kind.title,
                **sample,
                **code_context(SAMPLE_REGISTRY, f"2027-{kind.code}-P001-P002"),
            }
            template = (ROOT / "templates" / f"{kind.value}.docx").read_bytes()
            docx = work / f"{kind.value}.docx"
            docx.write_bytes(render_letter(template, context, year=2027))
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{work}/profile",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(work),
                    str(docx),
                ],
                check=True,
                env=env,
                capture_output=True,
            )
            prefix = work / kind.value
            subprocess.run(
                [
                    pdftoppm,
                    "-png",
                    "-r",
                    "60",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(work / f"{kind.value}.pdf"),
                    str(prefix),
                ],
                check=True,
                capture_output=True,
            )
            target = out_dir / f"{kind.value}.png"
            shutil.copyfile(prefix.with_suffix(".png"), target)
            print(target.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
