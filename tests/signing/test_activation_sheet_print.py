"""The printed activation sheet as a person reads it (new-user report, item 3): the code and the
command each on one unbroken line once LibreOffice lays the page out, the button named as the page
names it ("首次激活"), and the office computer's address next to the placeholder.

The sheet is made by the real CLI (`keys issue --sheets`); the layout is checked on the PDF
LibreOffice renders from it, read back with pdftotext — what a printer would put on paper.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document

from docgen.letters.soffice import Converter, find_soffice
from docgen.signing.activation import ActivationSheet
from docgen.signing.activation_sheet import LOCAL_URL, sheets_docx
from tests.helpers import run_docgen
from tests.signing.keys_workspace import CA_SECRET, build_unissued, env, sheet_codes

NOW = "2027-01-06T09:00:00+00:00"
PEOPLE = ("P001", "P002")


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sheet")
    root = base / "ws"
    build_unissued(root)
    path = base / "激活单.docx"
    with env(DOCGEN_NOW=NOW, DOCGEN_CA_PASSPHRASE=CA_SECRET, DOCGEN_PASSPHRASE=None,
             DOCGEN_NEW_PASSPHRASE=None, DOCGEN_ACTIVATION_CODE=None):  # fmt: skip
        out = run_docgen("keys", "issue", "--person", PEOPLE[0], "--person", PEOPLE[1],
                         "--sheets", str(path), "-w", str(root))  # fmt: skip
    assert out.code == 0, out.text
    return path


def _paragraphs(path: Path) -> list[str]:
    return [p.text.strip() for p in Document(str(path)).paragraphs]


def test_the_command_has_a_line_of_its_own_and_the_button_its_real_name(sheets: Path) -> None:
    lines = _paragraphs(sheets)
    for person in PEOPLE:
        assert f"docgen keys activate --person {person}" in lines
    text = "\n".join(lines)
    assert "“首次激活”" in text
    assert "首次登录/激活" not in text
    assert "http://127.0.0.1:8470" in text
    assert "办公室告知的签署页面地址" in text


@pytest.mark.skipif(
    find_soffice() is None or shutil.which("pdftotext") is None,
    reason="LibreOffice (soffice) 或 poppler-utils 未安装:apt install libreoffice-writer-nogui "
    "poppler-utils",
)
def test_code_and_command_stay_on_one_line_when_printed(sheets: Path, tmp_path: Path) -> None:
    soffice = find_soffice()
    assert soffice is not None
    pdf = Converter(soffice, tmp_path / "lo").convert([("sheet", sheets.read_bytes())])[0]
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(tmp_path / "sheet.pdf"), "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    printed = [line.strip() for line in result.stdout.splitlines()]
    codes = sheet_codes(sheets)
    assert set(codes) == set(PEOPLE)
    for person, code in codes.items():
        assert code in printed, (code, printed)
        assert f"docgen keys activate --person {person}" in printed, printed


def test_the_demo_s_local_address_is_not_said_twice() -> None:
    """The demo hands out sheets with the local address itself: said once, not "X,在办公室
    电脑上为 X"."""
    sheet = ActivationSheet(
        person_id="P001", name="张明远", title="", code="ABCD-EFGH-JKLM-NPQR-STUV",
        certificate_serial="1f", issued_at=datetime(2027, 1, 4, 9, tzinfo=UTC),
    )  # fmt: skip
    data = sheets_docx([sheet], institution="庆城县人民检察院", url=LOCAL_URL)
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert text.count(LOCAL_URL) == 1
