"""Turn the office's staff list (an .xlsx workbook or a .csv file) into ``roster.yaml``.

The staff list has a header row with the columns 姓名, 职务, 部门, 角色 and optionally 编号/工号
(the id), 分管部门 (for leaders: the departments they supervise, separated by ``,``/``、``),
是否负责人 (the head of the department; a role of 部门负责人 marks it too) and 职能
(办公室/政工科/无: 第七条, see docgen.roster.functions). Other columns (性别, 电话 …) are ignored.

Every problem is reported at once with the file, sheet, row (as the spreadsheet shows it)
and column; when there is any, nothing is written. The generated roster is checked with
:func:`docgen.roster.check.check_roster` against the spreadsheet's rows before it is written.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import charset_normalizer
import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from docgen.core.errors import Location, Problem, ProblemsError, UsageError, ValidationError
from docgen.core.glossary import ROLE_LABELS, Role
from docgen.core.models import Department, Person, Roster
from docgen.core.workspace import atomic_write
from docgen.roster.check import check_roster, in_file_order
from docgen.roster.names import LIST_SEPARATORS, normalise_name
from docgen.roster.roster_yaml import roster_to_yaml
from docgen.roster.vocabulary import (
    SUPERVISOR_ROLES,
    RosterCheck,
    RosterLocator,
    accepted_role_words,
    bad_characters,
    is_valid_id,
    parse_role,
)

# Column keys and the header words a clerk may use for them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字"),
    "title": ("职务", "职位", "职务职级"),
    "department": ("部门", "所在部门", "科室", "内设机构"),
    "role": ("角色", "人员类别", "类别"),
    "id": ("编号", "工号", "人员编号", "id"),
    "supervises": ("分管部门", "分管"),
    "is_head": ("是否负责人", "是否部门负责人", "负责人"),
    "function": ("职能", "部门职能"),
}
REQUIRED_COLUMNS = ("name", "title", "department", "role")

# What a 部门 cell may say for a leader who belongs to no department.
LEADERSHIP_GROUP_WORDS = frozenset({"院领导", "党组", "院党组", "领导班子", "班子", "院领导班子"})

_YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "✔", "负责人"})
_NO = frozenset({"否", "n", "no", "false", "0", "×", "✗", ""})
_HEADER_NOISE = re.compile(r"[\s*＊::]|[((][^))]*[))]")
_HEADER_SEARCH_ROWS = 10
# A note under the list ("制表人:王丽 2027年1月4日", "备注:…"): one cell of text, not a person.
_FOOTER = re.compile(r"^(制表|填表|审核|审批|核对|统计|备注|说明|注)[人员]?\s*[::]|^\S+[::]")

_XLSX_SUFFIXES = (".xlsx", ".xlsm")
# What openpyxl raises on a damaged workbook: a broken zip, a broken deflate stream, broken XML
# (ElementTree's and lxml's parse errors derive from SyntaxError), missing or malformed parts.
XLSX_READ_ERRORS: tuple[type[Exception], ...] = (
    InvalidFileException,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    SyntaxError,
    KeyError,
    ValueError,
    OSError,
)
_CSV_SUFFIXES = (".csv", ".txt", ".tsv")


@dataclass(frozen=True)
class Table:
    """Cells as text, with the row numbers the spreadsheet shows."""

    file: str
    sheet: str | None
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    encoding: str | None = None

    def column_name(self, index: int) -> str:
        """Column as the clerk sees it: a letter in Excel, a number in a CSV file."""
        if self.sheet is not None:
            return f"第 {get_column_letter(index + 1)} 列"
        return f"第 {index + 1} 列"


@dataclass(frozen=True)
class ImportedRoster:
    """A staff list converted to a roster, with the YAML to write and any warnings."""

    roster: Roster
    yaml_text: str
    warnings: tuple[Problem, ...]
    source: str
    sheet: str | None
    encoding: str | None
    ids_generated: int = 0
    written_to: Path | None = field(default=None)


# ---------------------------------------------------------------------------------------
# Reading cells
# ---------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """Text and encoding of a CSV file written by Excel, WPS or a script.

    UTF-8 (with or without BOM) first, strictly; then GB18030, which covers GBK and GB2312
    that Chinese Excel writes by default; then whatever charset-normalizer finds best.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise UnicodeError("无法识别文件编码")
    return str(best), best.encoding


def _read_csv(path: Path) -> Table:
    try:
        text, encoding = decode_csv_bytes(path.read_bytes())
    except UnicodeError as exc:
        raise ValidationError(
            "无法识别 CSV 文件的文字编码",
            location=Location(file=str(path)),
            hint="请在 Excel/WPS 中另存为“CSV UTF-8”或 .xlsx 后重试",
        ) from exc
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", "\t", ";"), key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ValidationError(f"CSV 格式错误:{exc}", location=Location(file=str(path))) from exc
    rows = tuple(
        (number, tuple(cell.strip() for cell in record))
        for number, record in enumerate(records, start=1)
    )
    return Table(file=str(path), sheet=None, rows=rows, encoding=encoding)


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except XLSX_READ_ERRORS as exc:
        raise ValidationError(
            f"无法打开 Excel 文件:{exc}",
            location=Location(file=str(path)),
            hint="请确认是 .xlsx 格式且未损坏;也可另存为 CSV 后导入",
        ) from exc
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise UsageError(
                f"工作簿中没有名为“{sheet}”的工作表;现有:{'、'.join(workbook.sheetnames)}",
                location=Location(file=str(path)),
            )
        grid = [
            [_cell_text(v) for v in row]
            for row in worksheet.iter_rows(min_row=1, min_col=1, values_only=True)
        ]
        # A clerk often merges the 部门 cells of a department; every row then shares the value.
        for merged in worksheet.merged_cells.ranges:
            value = grid[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    grid[r - 1][c - 1] = value
        title = str(worksheet.title)
    finally:
        workbook.close()
    rows = tuple((number, tuple(cells)) for number, cells in enumerate(grid, start=1))
    return Table(file=str(path), sheet=title, rows=rows)


def read_table(path: Path, sheet: str | None = None) -> Table:
    """The cells of a staff list, from .xlsx (first sheet unless ``sheet``) or .csv."""
    if not path.is_file():
        raise UsageError("找不到人员表文件", location=Location(file=str(path)))
    suffix = path.suffix.lower()
    if suffix in _XLSX_SUFFIXES:
        return _read_xlsx(path, sheet)
    if suffix in _CSV_SUFFIXES:
        if sheet is not None:
            raise UsageError(
                "CSV 文件没有工作表,不能使用 --sheet", location=Location(file=str(path))
            )
        return _read_csv(path)
    if suffix in (".xls", ".et"):
        raise UsageError(
            f"不支持 {suffix} 格式",
            location=Location(file=str(path)),
            hint="请在 Excel/WPS 中另存为 .xlsx 或 CSV 后导入",
        )
    raise UsageError(
        "只能导入 .xlsx 或 .csv 人员表",
        location=Location(file=str(path)),
    )


# ---------------------------------------------------------------------------------------
# Interpreting rows
# ---------------------------------------------------------------------------------------


def _normalise_header(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


_HEADER_KEYS: dict[str, str] = {
    _normalise_header(word): key for key, words in COLUMNS.items() for word in words
}


def _row_ranges(numbers: Sequence[int]) -> str:
    """``[4, 5, 6, 9]`` → ``4–6、9``."""
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return "、".join(out)


@dataclass(frozen=True)
class _Row:
    number: int
    name: str
    title: str
    department: str
    role: Role
    given_id: str
    is_head: bool
    supervises: tuple[str, ...]
    function: str = ""  # the 职能 cell: 第七条's 相关职能部门 (docgen.roster.functions)


class _Converter:
    def __init__(self, table: Table, institution: str) -> None:
        self.table = table
        self.institution = institution
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        # departments named in the 分管部门 of a row that was refused: their supervisor is not
        # missing, the row is (reported once, for the row)
        self.refused_supervises: set[str] = set()
        self.columns: dict[str, int] = {}
        self.headers: dict[str, str] = {}

    def warn(self, row: int | None, key: str | None, message: str) -> None:
        field_name = self.headers.get(key, COLUMNS[key][0]) if key is not None else None
        self.warnings.append(
            Problem(
                message,
                Location(file=self.table.file, row=row, field=field_name, sheet=self.table.sheet),
                severity="warning",
            )
        )

    def problem(self, row: int | None, key: str | None, message: str) -> None:
        field_name = None
        if key is not None and key in self.columns:
            field_name = self.headers[key]
            message = f"{message}({self.table.column_name(self.columns[key])})"
        elif key is not None:
            field_name = COLUMNS[key][0]
        self.problems.append(
            Problem(
                message,
                Location(file=self.table.file, row=row, field=field_name, sheet=self.table.sheet),
            )
        )

    def find_header(self) -> int | None:
        """Index in ``table.rows`` of the header: the first row with a 姓名 column (a title
        row such as “干警名册” above it is allowed)."""
        for i, (_number, cells) in enumerate(self.table.rows[:_HEADER_SEARCH_ROWS]):
            if any(_HEADER_KEYS.get(_normalise_header(c)) == "name" for c in cells):
                return i
        return None

    def read_header(self, cells: Sequence[str], number: int) -> None:
        for index, cell in enumerate(cells):
            key = _HEADER_KEYS.get(_normalise_header(cell))
            if key is None:
                continue
            if key in self.columns:
                self.problems.append(
                    Problem(
                        f"表头中“{cell}”与“{self.headers[key]}”表示同一列,只能保留一列"
                        f"({self.table.column_name(index)})",
                        Location(
                            file=self.table.file, row=number, field=cell, sheet=self.table.sheet
                        ),
                    )
                )
                continue
            self.columns[key] = index
            self.headers[key] = cell
        missing = [COLUMNS[k][0] for k in REQUIRED_COLUMNS if k not in self.columns]
        if missing:
            self.problems.append(
                Problem(
                    f"表头缺少列:{'、'.join(missing)};表头应包含 姓名、职务、部门、角色"
                    "(可选:编号、分管部门、是否负责人、职能)",
                    Location(file=self.table.file, row=number, sheet=self.table.sheet),
                )
            )

    def cell(self, cells: Sequence[str], key: str) -> str:
        index = self.columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return cells[index]

    def text_cell(self, cells: Sequence[str], number: int, key: str, what: str) -> str | None:
        value = self.cell(cells, key)
        if not value:
            self.problem(number, key, f"{what}为空")
            return None
        bad = bad_characters(value)
        if bad:
            self.problem(number, key, f"{what}含有控制字符或不可见字符({'、'.join(bad)})")
            return None
        return value

    def row(self, number: int, cells: Sequence[str]) -> _Row | None:
        name = self.text_cell(cells, number, "name", "姓名")
        if name is not None and normalise_name(name) != name:
            fixed = normalise_name(name)
            self.warn(number, "name", f"姓名“{name}”中有空格,已改为“{fixed}”")
            name = fixed
        title = self.text_cell(cells, number, "title", "职务")
        role_text = self.cell(cells, "role")
        role = parse_role(role_text) if role_text else None
        if not role_text:
            self.problem(number, "role", f"角色为空;可用:{accepted_role_words()}")
        elif role is None:
            self.problem(number, "role", f"角色“{role_text}”无法识别;可用:{accepted_role_words()}")
        given_id = self.cell(cells, "id")
        if given_id and not is_valid_id(given_id):
            self.problem(
                number,
                "id",
                f"编号“{given_id}”不合规:只能用英文字母、数字、“_”和“-”,以字母或数字开头,"
                "最长 32 个字符",
            )
            given_id = ""
        department = self.cell(cells, "department")
        if department and bad_characters(department):
            self.problem(number, "department", "部门名称含有控制字符或不可见字符")
            department = ""
        head_text = self.cell(cells, "is_head")
        is_head: bool | None = None
        if head_text.lower() in _YES:
            is_head = True
        elif head_text.lower() in _NO and head_text:
            is_head = False
        elif head_text:
            self.problem(number, "is_head", f"“{head_text}”无法识别,请填“是”或“否”")
        supervises = tuple(s for s in LIST_SEPARATORS.split(self.cell(cells, "supervises")) if s)
        if name is None or title is None or role is None:
            self.refused_supervises.update(supervises)
            return None
        if is_head is None:
            is_head = role is Role.DEPARTMENT_HEAD
        elif is_head and role is Role.STAFF:
            # 是否负责人 = 是 says what the clerk means even when 角色 still reads 干警.
            role = Role.DEPARTMENT_HEAD
        function = self.cell(cells, "function")  # its value is checked by check_roster
        return _Row(number, name, title, department, role, given_id, is_head, supervises, function)

    def convert(self) -> tuple[Roster, RosterLocator, int]:
        header = self.find_header()
        if header is None:
            self.problems.append(
                Problem(
                    f"前 {_HEADER_SEARCH_ROWS} 行中找不到表头(含“姓名”的一行);"
                    "表头应包含 姓名、职务、部门、角色",
                    Location(file=self.table.file, sheet=self.table.sheet),
                )
            )
            raise self.failure()
        number, cells = self.table.rows[header]
        self.read_header(cells, number)
        if self.problems:
            raise self.failure()
        rows: list[_Row] = []
        for number, cells in self.person_rows(self.table.rows[header + 1 :]):
            parsed = self.row(number, cells)
            if parsed is not None:
                rows.append(parsed)
        rows = self.fill_departments_down(rows)
        self.require_departments(rows)
        if not rows and not self.problems:
            self.problems.append(
                Problem(
                    "表头下面没有人员",
                    Location(file=self.table.file, sheet=self.table.sheet),
                )
            )
        ids, generated = self.assign_ids(rows)
        roster, locator = self.build(rows, ids)
        return roster, locator, generated

    def person_rows(
        self, rows: Sequence[tuple[int, tuple[str, ...]]]
    ) -> list[tuple[int, tuple[str, ...]]]:
        """The rows that describe people: empty rows (a merged 部门 cell may reach into one) and
        a note under the list ("制表人:…") are left out, the note with a warning."""
        keep: list[tuple[int, tuple[str, ...]]] = []
        own = [self.columns[k] for k in ("id", "name", "title", "role") if k in self.columns]
        for number, cells in rows:
            filled = [c for c in cells if c]
            if not any(cells[i] for i in own if i < len(cells)):
                continue
            if len(filled) == 1 and _FOOTER.match(filled[0]):
                self.warn(number, None, f"“{filled[0]}”不是人员,已跳过")
                continue
            keep.append((number, cells))
        return keep

    def fill_departments_down(self, rows: list[_Row]) -> list[_Row]:
        """Excel saves a merged 部门 cell in a CSV on its first row only: a staff member or
        department head with an empty 部门 right under a row of a department belongs to it.
        Said once, with the rows."""
        filled: list[_Row] = []
        rows_filled: list[int] = []
        for r in rows:
            above = filled[-1] if filled else None
            if (
                not r.department
                and r.role in (Role.STAFF, Role.DEPARTMENT_HEAD)
                and above is not None
                and above.department
                and above.department not in LEADERSHIP_GROUP_WORDS
            ):
                r = replace(r, department=above.department)
                rows_filled.append(r.number)
            filled.append(r)
        if rows_filled:
            self.warn(
                None,
                "department",
                f"第 {_row_ranges(rows_filled)} 行的“部门”为空,已沿用上一行的部门"
                "(Excel 把合并单元格另存为 CSV 时只在第一行保留内容);如不对,请在这些行填写部门后"
                "重新导入",
            )
        return filled

    def require_departments(self, rows: list[_Row]) -> None:
        """A 工作人员 without a 部门 would sign no 《廉洁从检承诺书》: refused, not warned."""
        for r in rows:
            no_department = not r.department or r.department in LEADERSHIP_GROUP_WORDS
            if r.role is Role.STAFF and no_department:
                self.problem(
                    r.number,
                    "department",
                    f"工作人员{r.name}没有填写部门,将不签订《廉洁从检承诺书》;"
                    f"请在第 {r.number} 行填写部门",
                )

    def assign_ids(self, rows: list[_Row]) -> tuple[list[str], int]:
        """Given ids are kept; the others are P001, P002 … in row order, skipping any id
        already given, so the same file always gives the same ids."""
        first_row: dict[str, int] = {}
        for r in rows:
            if r.given_id in first_row:
                self.problem(
                    r.number, "id", f"编号“{r.given_id}”与第 {first_row[r.given_id]} 行重复"
                )
            elif r.given_id:
                first_row[r.given_id] = r.number
        used = set(first_row)
        ids: list[str] = []
        counter = 1
        generated = 0
        for r in rows:
            if r.given_id:
                ids.append(r.given_id)
                continue
            while f"P{counter:03d}" in used:
                counter += 1
            new_id = f"P{counter:03d}"
            used.add(new_id)
            ids.append(new_id)
            generated += 1
        return ids, generated

    def build(self, rows: list[_Row], ids: list[str]) -> tuple[Roster, RosterLocator]:
        order: dict[str, int] = {}  # department -> first row
        heads: dict[str, tuple[str, int]] = {}
        supervisors: dict[str, tuple[str, int]] = {}
        members: dict[str, list[str]] = {}
        functions: dict[str, tuple[str, int]] = {}
        people: list[Person] = []
        person_lines: dict[tuple[int, str], int] = {}
        for index, (r, person_id) in enumerate(zip(rows, ids, strict=True)):
            people.append(Person(person_id, r.name, r.title, r.role, line=r.number))
            for key in ("id", "name", "title", "role"):
                person_lines[(index, key)] = r.number
            if r.department and r.department not in LEADERSHIP_GROUP_WORDS:
                order.setdefault(r.department, r.number)
            self.place(r, person_id, heads, members)
            self.function(r, functions)
            for dept in r.supervises:
                if r.role not in SUPERVISOR_ROLES:
                    self.problem(
                        r.number,
                        "supervises",
                        f"{r.name}的角色是“{ROLE_LABELS[r.role]}”,不能分管部门;"
                        "只有党组书记、班子成员、纪检组长可以分管部门",
                    )
                    break
                order.setdefault(dept, r.number)
                if dept in supervisors and supervisors[dept][0] != person_id:
                    self.problem(
                        r.number,
                        "supervises",
                        f"部门“{dept}”已由第 {supervisors[dept][1]} 行的人员分管;"
                        "每个部门只能有一名分管院领导",
                    )
                    continue
                supervisors[dept] = (person_id, r.number)
        departments: list[Department] = []
        department_lines: dict[tuple[int, str], int] = {}
        for d, name in enumerate(order):
            head = heads.get(name)
            supervisor = supervisors.get(name)
            departments.append(
                Department(
                    name=name,
                    head=head[0] if head else None,
                    supervisor=supervisor[0] if supervisor else None,
                    members=tuple(members.get(name, ())),
                    line=order[name],
                    function=functions[name][0] if name in functions else None,
                )
            )
            if name in functions:
                department_lines[(d, "function")] = functions[name][1]
            department_lines[(d, "name")] = order[name]
            department_lines[(d, "members")] = order[name]
            if head:
                department_lines[(d, "head")] = head[1]
            if supervisor:
                department_lines[(d, "supervisor")] = supervisor[1]
        roster = Roster(
            institution=self.institution,
            people=tuple(people),
            departments=tuple(departments),
            source=self.table.file,
        )
        label = {k: self.headers.get(k, COLUMNS[k][0]) for k in COLUMNS}
        locator = RosterLocator(
            file=self.table.file,
            sheet=self.table.sheet,
            people=person_lines,
            departments=department_lines,
            field_labels={
                "id": label["id"],
                "name": label["name"],
                "title": label["title"],
                "role": label["role"],
                "head": label["department"],
                "members": label["department"],
                "supervisor": label["supervises"],
                "function": label["function"],
            },
        )
        return roster, locator

    def function(self, r: _Row, functions: dict[str, tuple[str, int]]) -> None:
        """The 职能 of the row's department; every row of it that fills the cell agrees."""
        dept, given = r.department, r.function
        if given and (not dept or dept in LEADERSHIP_GROUP_WORDS):
            self.problem(r.number, "function", "填写了职能但没有填写部门;职能是部门的职能")
        elif given and functions.setdefault(dept, (given, r.number))[0] != given:
            self.problem(
                r.number,
                "function",
                f"部门“{dept}”的职能已在第 {functions[dept][1]} 行填为“{functions[dept][0]}”,"
                f"此处为“{given}”;同一部门只能有一种职能",
            )

    def place(
        self,
        r: _Row,
        person_id: str,
        heads: dict[str, tuple[str, int]],
        members: dict[str, list[str]],
    ) -> None:
        """Put a row's person into their department as head or member."""
        dept = r.department
        if r.is_head:
            if not dept or dept in LEADERSHIP_GROUP_WORDS:
                self.problem(r.number, "department", "部门负责人须填写所负责的部门")
                return
            if dept in heads:
                self.problem(
                    r.number,
                    "is_head",
                    f"部门“{dept}”已有负责人(第 {heads[dept][1]} 行);每个部门只能有一名负责人,"
                    "副职请把角色填为“工作人员”或在“是否负责人”填“否”",
                )
                return
            heads[dept] = (person_id, r.number)
            return
        if not dept or dept in LEADERSHIP_GROUP_WORDS:
            return
        if r.role in SUPERVISOR_ROLES:
            self.problem(
                r.number,
                "department",
                f"{r.name}是{ROLE_LABELS[r.role]},不能作为部门“{dept}”的普通成员;"
                "兼任负责人请在“是否负责人”填“是”,分管部门请填在“分管部门”列",
            )
            return
        members.setdefault(dept, []).append(person_id)

    def failure(self) -> ProblemsError:
        where = self.table.file + (f" 工作表 {self.table.sheet}" if self.table.sheet else "")
        return ProblemsError(
            f"人员表 {where} 有 {len(self.problems)} 处问题,未生成名册",
            self.problems,
            hint="请在表格中逐条修改后重新导入",
        )


# The roster checker speaks of roster.yaml's fields; an imported sheet has columns and rows.
_SHEET_WORDS = (
    (
        "请在 supervisor 填写分管该部门的班子成员编号",
        "请在分管院领导那一行的“分管部门”列填写该部门",
    ),
    ("请把其 role 改为“部门负责人”", "请把其“角色”改为“部门负责人”"),
    ("请把其他人的 role 改为", "请把其他人的“角色”改为"),
    ("(没有出现在任何部门的 head)", ":请在其“部门”列填写所负责的部门"),
)


def _in_sheet_words(problem: Problem, refused_supervises: set[str]) -> Problem | None:
    """A roster check's problem as the clerk's sheet would put it; None for one the import
    already reports in its own words (a 工作人员 without a department, a refused row)."""
    if "请把其编号加入所在部门的 members" in problem.message:
        return None
    if any(problem.message.startswith(f"部门“{d}”没有分管院领导") for d in refused_supervises):
        return None
    message = problem.message
    for yaml_words, sheet_words in _SHEET_WORDS:
        message = message.replace(yaml_words, sheet_words)
    return Problem(message, problem.location, problem.severity)


def convert_staff_list(path: Path, *, institution: str, sheet: str | None = None) -> ImportedRoster:
    """Read and check a staff list; raises :class:`ProblemsError` with every problem of the
    file at once: those of its rows and those of the roster they make."""
    table = read_table(path, sheet)
    converter = _Converter(table, institution)
    roster, locator, generated = converter.convert()
    checked = [
        worded
        for problem in check_roster(roster, locator)
        if (worded := _in_sheet_words(problem, converter.refused_supervises)) is not None
    ]
    check = RosterCheck(
        roster=roster,
        problems=in_file_order([*converter.problems, *converter.warnings, *checked]),
    )
    if check.errors:
        where = table.file + (f" 工作表 {table.sheet}" if table.sheet else "")
        raise ProblemsError(
            f"人员表 {where} 有 {len(check.errors)} 处问题,未生成名册",
            check.errors,
            hint="请在表格中逐条修改后重新导入",
        )
    return ImportedRoster(
        roster=roster,
        yaml_text=roster_to_yaml(roster, origin=path.name),
        warnings=check.warnings,
        source=table.file,
        sheet=table.sheet,
        encoding=table.encoding,
        ids_generated=generated,
    )


def import_roster(
    path: Path,
    output: Path,
    *,
    institution: str,
    sheet: str | None = None,
    force: bool = False,
) -> ImportedRoster:
    """Convert ``path`` and write the roster to ``output`` atomically.

    An existing ``output`` is replaced only with ``force``; on any error nothing is written.
    """
    if output.exists() and not force:
        raise UsageError(
            "名册文件已存在,未覆盖",
            location=Location(file=str(output)),
            hint="确认要用人员表替换它时,请加 --force",
        )
    imported = convert_staff_list(path, institution=institution, sheet=sheet)
    atomic_write(output, imported.yaml_text.encode("utf-8"), mode=0o644)
    return replace(imported, written_to=output)
