"""The activity ledger: meetings, talks, inspections and reports, recorded in the registry.

Each activity is an ``activity`` record of the transparency log, so the ledger the yearly report is
drafted from is as tamper-evident as the letters. Input is checked against the roster and the
article it counts for (who may hold a 约谈, who may take part in a 廉政谈话 …) before anything is
written; a batch (an import) is one append, so it is recorded whole or not at all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rfc8785

from docgen.core.articles import article_label
from docgen.core.errors import Location, Problem, ProblemsError, ValidationError
from docgen.core.glossary import ACTIVITY_ALIASES, ActivityKind
from docgen.core.lock import workspace_lock
from docgen.core.models import Roster
from docgen.duties.activity_rules import (
    DISPOSITIONS,
    GRADES,
    check_for,
    parse_choice,
    parse_recipients,
    who,
)
from docgen.duties.roster_roles import LEADERSHIP as LEADERSHIP
from docgen.duties.roster_roles import department_contacts as department_contacts
from docgen.duties.roster_roles import department_heads as department_heads
from docgen.duties.roster_roles import department_staff as department_staff
from docgen.duties.roster_roles import supervised_departments as supervised_departments
from docgen.registry import open_registry
from docgen.roster.load import load_roster
from docgen.roster.names import resolve_person, split_people

if TYPE_CHECKING:
    from docgen.core.workspace import Workspace
    from docgen.registry import Entry, Registry

RECORD_TYPE = "activity"

# Logical field → how the CLI names it (``activity add`` options).
CLI_LABELS: Mapping[str, str] = {
    "kind": "类型(--kind)",
    "date": "日期(--date)",
    "actor": "主持人(--actor)",
    "participants": "参加人(--participants)",
    "note": "备注(--note)",
    "recipients": "报送机关(--recipients)",
    "grade": "考核等次(--grade)",
    "disposition": "处理方式(--disposition)",
}

# Column headers accepted by ``activity import`` (first match wins), per logical field.
IMPORT_HEADERS: Mapping[str, tuple[str, ...]] = {
    "kind": ("类型", "活动类型", "活动", "kind"),
    "date": ("日期", "活动日期", "时间", "date"),
    "actor": ("主持人", "责任人", "发起人", "actor"),
    "participants": ("参加人", "参加人员", "对象", "participants"),
    "note": ("备注", "内容", "说明", "note"),
    "recipients": ("报送机关", "接收机关", "recipients"),
    "grade": ("考核等次", "等次", "grade"),
    "disposition": ("处理方式", "disposition"),
}
REQUIRED_COLUMNS = ("kind", "date", "actor")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ActivityInput:
    """One activity as a user typed it, with where it came from (for messages)."""

    kind: str
    date: str | date
    actor: str
    participants: str | Sequence[str] = ()
    note: str = ""
    recipients: str | Sequence[str] = ()  # 9.3, 13.8, 13.10: to whom the report went
    grade: str = ""  # 考核等次
    disposition: str = ""  # 13.11 处理方式
    file: str | None = None
    row: int | None = None
    sheet: str | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: dict(CLI_LABELS))

    def at(self, name: str) -> Location:
        return Location(
            file=self.file, row=self.row, sheet=self.sheet, field=self.labels.get(name, name)
        )


@dataclass(frozen=True)
class Activity:
    """One recorded activity (an ``activity`` registry record)."""

    activity_id: str
    kind: ActivityKind
    date: date
    actor: str
    participants: tuple[str, ...]
    article: str
    note: str = ""
    index: int | None = None  # registry index, once recorded
    voided: bool = False
    # Only some kinds have these; a record holds them only when set, so older ids are unchanged.
    recipients: tuple[str, ...] = ()
    grade: str = ""
    disposition: str = ""

    @property
    def year(self) -> int:
        return self.date.year

    def record(self) -> dict[str, Any]:
        """The registry record (without ``recorded_at``, which the registry adds)."""
        return {
            "type": RECORD_TYPE,
            "activity_id": self.activity_id,
            "kind": self.kind.value,
            "date": self.date.isoformat(),
            "actor": self.actor,
            "participants": list(self.participants),
            "article": self.article,
            "note": self.note,
            **_extras(self.recipients, self.grade, self.disposition),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, index: int | None = None) -> Activity:
        where = f"登记簿第 {index} 条" if index is not None else "活动记录"
        try:
            return cls(
                activity_id=str(record["activity_id"]),
                kind=ActivityKind(record["kind"]),
                date=date.fromisoformat(str(record["date"])),
                actor=str(record["actor"]),
                participants=tuple(str(p) for p in record.get("participants", ())),
                article=str(record["article"]),
                note=str(record.get("note", "")),
                index=index,
                recipients=tuple(str(r) for r in record.get("recipients", ())),
                grade=str(record.get("grade", "")),
                disposition=str(record.get("disposition", "")),
            )
        except (KeyError, ValueError) as exc:
            raise ValidationError(
                f"{where}不是有效的活动记录({exc})",
                hint="请运行 docgen registry audit 检查登记簿",
            ) from exc


def _extras(recipients: Sequence[str], grade: str, disposition: str) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if recipients:
        extras["recipients"] = list(recipients)
    if grade:
        extras["grade"] = grade
    if disposition:
        extras["disposition"] = disposition
    return extras


def activity_id_for(
    kind: ActivityKind,
    day: date,
    actor: str,
    participants: Iterable[str],
    note: str,
    *,
    recipients: Sequence[str] = (),
    grade: str = "",
    disposition: str = "",
) -> str:
    """A content hash, so the same activity always gets the same id and a repeat is detectable."""
    canonical = rfc8785.dumps(
        {
            "kind": kind.value,
            "date": day.isoformat(),
            "actor": actor,
            "participants": sorted(set(participants)),
            "note": note,
            **_extras(sorted(set(recipients)), grade, disposition),
        }
    )
    return f"A-{day.year}-{hashlib.sha256(canonical).hexdigest()[:10]}"


# ---------------------------------------------------------------------------------------------
# parsing single fields


def parse_kind(text: str, location: Location) -> ActivityKind:
    key = text.strip()
    kind = ACTIVITY_ALIASES.get(key) or ACTIVITY_ALIASES.get(key.lower())
    if kind is None:
        names = "、".join(k.label for k in ActivityKind)
        raise ValidationError(
            f"活动类型“{key}”无法识别" if key else "缺少活动类型",
            location=location,
            hint=f"可用的类型:{names}",
        )
    return kind


def parse_date(value: str | date, location: Location) -> date:
    """Strict ``YYYY-MM-DD`` (or a real date cell from a spreadsheet)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not _DATE_RE.match(text):
        raise ValidationError(
            f"日期“{text}”格式不对" if text else "缺少日期",
            location=location,
            hint="请写成 YYYY-MM-DD,例如 2027-03-15",
        )
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"日期“{text}”不存在", location=location, hint="请检查月份和日数"
        ) from None


def build_activity(roster: Roster, raw: ActivityInput, *, today: date) -> Activity:
    """Check one input against the roster and the seed; raise naming the bad field."""
    kind = parse_kind(raw.kind, raw.at("kind"))
    day = parse_date(raw.date, raw.at("date"))
    if day > today + timedelta(days=1):
        raise ValidationError(
            f"日期 {day.isoformat()} 晚于今天({today.isoformat()}),活动尚未发生",
            location=raw.at("date"),
            hint="请检查年份;活动发生后再登记",
        )
    actor = resolve_person(roster, raw.actor, raw.at("actor"))
    check = check_for(roster, kind, actor, raw.at)
    participants: list[str] = []
    for text in split_people(roster, raw.participants):
        person = resolve_person(roster, text, raw.at("participants"))
        if person.id == actor.id:
            raise ValidationError(
                f"主持人{who(actor)}不应同时列为参加人",
                location=raw.at("participants"),
                hint="参加人只填谈话、汇报或考核的对象",
            )
        if check.allowed is not None and person.id not in check.allowed:
            raise ValidationError(
                f"{who(person)}不能参加{actor.name}主持的“{kind.label}”",
                location=raw.at("participants"),
                hint=f"按{article_label(check.article)},参加人应为{check.describe}",
            )
        if person.id not in participants:
            participants.append(person.id)
    if check.need_participants and not participants:
        raise ValidationError(
            f"“{kind.label}”缺少参加人",
            location=raw.at("participants"),
            hint=f"按{article_label(check.article)},请填写{check.describe}(编号或姓名,用逗号分隔)",
        )
    if check.must_include and not check.must_include.intersection(participants):
        raise ValidationError(
            f"“{kind.label}”的参加人中没有{check.describe}",
            location=raw.at("participants"),
            hint=f"按{article_label(check.article)},请把纪检组长列为参加人",
        )
    recipients = parse_recipients(check, kind, raw.recipients, raw.at("recipients"))
    grade = parse_choice(
        raw.grade, GRADES, wanted=check.needs_grade, what="考核等次", kind=kind,
        article=check.article, location=raw.at("grade"),
    )  # fmt: skip
    disposition = parse_choice(
        raw.disposition, DISPOSITIONS, wanted=check.needs_disposition, what="处理方式", kind=kind,
        article=check.article, location=raw.at("disposition"),
    )  # fmt: skip
    note = raw.note.strip()
    return Activity(
        activity_id=activity_id_for(
            kind,
            day,
            actor.id,
            participants,
            note,
            recipients=recipients,
            grade=grade,
            disposition=disposition,
        ),
        kind=kind,
        date=day,
        actor=actor.id,
        participants=tuple(participants),
        article=check.article,
        note=note,
        recipients=recipients,
        grade=grade,
        disposition=disposition,
    )


# ---------------------------------------------------------------------------------------------
# registry


def read_activities(
    registry: Registry, *, year: int | None = None, include_voided: bool = False
) -> list[Activity]:
    """Activities in registry order; voided ones are left out unless asked for."""
    voided = _voided_ids(registry)
    found: list[Activity] = []
    for entry in registry.entries(type=RECORD_TYPE):
        activity = Activity.from_record(entry.record, index=entry.index)
        if year is not None and activity.year != year:
            continue
        is_void = activity.activity_id in voided
        if is_void and not include_voided:
            continue
        found.append(_with(activity, voided=is_void))
    return found


def _with(activity: Activity, *, voided: bool) -> Activity:
    if activity.voided == voided:
        return activity
    return replace(activity, voided=voided)


def _voided_ids(registry: Registry) -> set[str]:
    return {str(e.record.get("doc_id")) for e in registry.entries(type="void")}


def record_activities(
    registry: Registry,
    roster: Roster,
    inputs: Sequence[ActivityInput],
    *,
    now: datetime,
) -> list[Activity]:
    """Validate every input, then append them all in one batch; on any problem, append nothing.

    A single bad input raises its own :class:`ValidationError`; several raise one
    :class:`ProblemsError` listing each (file, row, column).
    """
    if not inputs:
        raise ValidationError("没有要登记的活动", hint="导入文件中至少要有一行活动")
    today = now.date()
    existing = {a.activity_id: a for a in read_activities(registry, include_voided=True)}
    built: list[Activity] = []
    problems: list[tuple[ValidationError, Location]] = []
    seen: dict[str, ActivityInput] = {}
    for raw in inputs:
        try:
            activity = build_activity(roster, raw, today=today)
        except ValidationError as exc:
            problems.append((exc, exc.location or Location(file=raw.file, row=raw.row)))
            continue
        where = Location(file=raw.file, row=raw.row, sheet=raw.sheet)
        if activity.activity_id in existing:
            prior = existing[activity.activity_id]
            if prior.voided:
                # The same content would get the voided entry's id (and count as voided).
                duplicate = ValidationError(
                    f"与已作废的活动 {prior.activity_id}(登记簿第 {prior.index} 条)内容完全相同",
                    location=where,
                    hint="重新登记时请在备注中注明,例如“更正登记”",
                )
            else:
                duplicate = ValidationError(
                    f"与已登记的活动 {prior.activity_id}(登记簿第 {prior.index} 条)完全相同,"
                    "属于重复登记",
                    location=where,
                    hint="如确为另一次活动,请在备注中注明以示区别",
                )
            problems.append((duplicate, where))
            continue
        if activity.activity_id in seen:
            first = seen[activity.activity_id]
            repeated = ValidationError(
                f"与第 {first.row} 行完全相同,属于重复登记"
                if first.row is not None
                else "同一活动重复出现",
                location=where,
                hint="请删除重复的行,或在备注中注明区别",
            )
            problems.append((repeated, where))
            continue
        seen[activity.activity_id] = raw
        built.append(activity)
    if len(problems) == 1 and len(inputs) == 1:
        raise problems[0][0]
    if problems:
        raise ProblemsError(
            f"{len(problems)} 处错误,未登记任何活动(共 {len(inputs)} 条)",
            [Problem(_message_of(exc), loc) for exc, loc in problems],
            hint="请改正后重新导入;导入是整批登记的",
        )
    entries = registry.append([a.record() for a in built], now=now)
    return [_recorded(a, e) for a, e in zip(built, entries, strict=True)]


def _message_of(exc: ValidationError) -> str:
    return f"{exc.message}。{exc.hint}" if exc.hint else exc.message


def _recorded(activity: Activity, entry: Entry) -> Activity:
    return replace(activity, index=entry.index)


def void_activity(registry: Registry, activity_id: str, reason: str, *, now: datetime) -> int:
    """Mark a recorded activity as void (the record stays in the log); returns the entry index."""
    known = {a.activity_id: a for a in read_activities(registry, include_voided=True)}
    if activity_id not in known:
        raise ValidationError(
            f"登记簿中没有活动 {activity_id}",
            location=Location(field="活动编号"),
            hint="请用 docgen activity list 查看活动编号",
        )
    if known[activity_id].voided:
        raise ValidationError(f"活动 {activity_id} 已经作废", location=Location(field="活动编号"))
    if not reason.strip():
        raise ValidationError(
            "作废须说明理由", location=Location(field="理由(--reason)"), hint="例如:日期登记错误"
        )
    record = {"type": "void", "doc_id": activity_id, "reason": reason.strip(), "replaced_by": None}
    entry = registry.append([record], now=now)[0]
    return int(entry.index)


# ---------------------------------------------------------------------------------------------
# import files


def read_activity_file(path: Path) -> list[ActivityInput]:
    """Rows of an .xlsx or .csv file (header row first), each with its file, sheet and row."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        sheet, rows = _xlsx_rows(path)
    elif suffix == ".csv":
        sheet, rows = None, _csv_rows(path)
    else:
        raise ValidationError(
            f"不支持的文件类型“{path.suffix}”",
            location=Location(file=str(path)),
            hint="请使用 .xlsx 或 .csv(第一行为表头:类型、日期、主持人、参加人、备注)",
        )
    if not rows:
        raise ValidationError("文件是空的", location=Location(file=str(path), sheet=sheet))
    header = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    for name, choices in IMPORT_HEADERS.items():
        for choice in choices:
            matches = [i for i, h in enumerate(header) if h.lower() == choice.lower()]
            if matches:
                columns[name] = matches[0]
                labels[name] = header[matches[0]]
                break
    missing = [IMPORT_HEADERS[name][0] for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ValidationError(
            f"表头缺少列:{'、'.join(missing)}",
            location=Location(file=str(path), sheet=sheet, row=1),
            hint="第一行应为表头:类型、日期、主持人、参加人、备注",
        )
    inputs: list[ActivityInput] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = list(row)
        if all(c is None or str(c).strip() == "" for c in cells):
            continue

        def cell(name: str, cells: list[Any] = cells) -> Any:
            index = columns.get(name)
            if index is None or index >= len(cells) or cells[index] is None:
                return ""
            return cells[index]

        day = cell("date")
        inputs.append(
            ActivityInput(
                kind=str(cell("kind")),
                date=day if isinstance(day, date) else str(day),
                actor=str(cell("actor")),
                participants=str(cell("participants")),
                note=str(cell("note")),
                recipients=str(cell("recipients")),
                grade=str(cell("grade")),
                disposition=str(cell("disposition")),
                file=str(path),
                row=number,
                sheet=sheet,
                labels=labels,
            )
        )
    return inputs


def _xlsx_rows(path: Path) -> tuple[str, list[tuple[Any, ...]]]:
    from openpyxl import load_workbook

    from docgen.roster.spreadsheet import XLSX_READ_ERRORS

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return str(sheet.title), [tuple(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except XLSX_READ_ERRORS as exc:
        raise ValidationError(
            f"无法读取 Excel 文件({exc})",
            location=Location(file=str(path)),
            hint="请确认文件是 .xlsx 格式且未损坏",
        ) from exc


def _csv_rows(path: Path) -> list[tuple[Any, ...]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Chinese Windows saves CSV in GB18030/GBK.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                "CSV 文件编码无法识别",
                location=Location(file=str(path)),
                hint="请另存为 UTF-8 编码的 CSV,或直接导入 .xlsx",
            ) from exc
    return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""))]


# ---------------------------------------------------------------------------------------------
# a workspace


def record_in_workspace(
    ws: Workspace, inputs: Sequence[ActivityInput], *, now: datetime
) -> list[Activity]:
    """Check ``inputs`` against the workspace roster and record them, holding the workspace lock
    so two clerks cannot record the same activity twice at once."""
    roster = load_roster(ws.roster_path)
    with workspace_lock(ws.root), open_registry(ws) as registry:
        return record_activities(registry, roster, inputs, now=now)


def activities_in_workspace(
    ws: Workspace, *, year: int | None = None, include_voided: bool = False
) -> list[Activity]:
    with open_registry(ws) as registry:
        return read_activities(registry, year=year, include_voided=include_voided)


def void_in_workspace(ws: Workspace, activity_id: str, reason: str, *, now: datetime) -> int:
    with workspace_lock(ws.root), open_registry(ws) as registry:
        return void_activity(registry, activity_id, reason, now=now)
