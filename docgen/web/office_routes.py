"""The office's (办公室) pages: the year's progress, void and reissue, unlocking a signer.

Every route calls ``require_role(request, "office")`` first, and then one library function —
the same one the command line calls:

* 年度进度 (``/office``), its printable page and its .xlsx: :func:`docgen.records.progress.
  year_progress`, which is ``docgen status``'s :func:`~docgen.records.status.year_status`
  regrouped per department and person;
* a letter (``/office/letter/<id>``): its status as ``docgen status`` reads it and its
  registered files to download;
* 作废 (void): a form with the reason, a confirmation page that shows the letter and the reason
  again, then :func:`docgen.records.status.void_letter` — ``docgen void ID --reason …``;
* 重新签发 (reissue): a confirmation page, then :func:`docgen.letters.generate.generate` with
  ``reissue=True`` — ``docgen generate --reissue --yes``;
* 解锁 (unlock) a signer locked after five wrong PINs: :func:`docgen.web.lockout.unlock`, which
  records who unlocked whom in the registry.

Long calls (reading a year of 10⁴ letters, generating) run in a worker thread, so the server
keeps answering other requests meanwhile.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from docgen.core.errors import UsageError, ValidationError
from docgen.core.glossary import LetterKind
from docgen.core.workspace import Workspace
from docgen.letters.generate import Change, generate
from docgen.records.progress import (
    DEFAULT_LIMIT,
    STATES,
    TIMINGS,
    ProgressFilter,
    YearProgress,
    YearSnapshot,
    freshness,
    progress_of,
    read_year,
)
from docgen.records.progress_xlsx import progress_xlsx
from docgen.records.state import letters_state
from docgen.records.status import LetterStatus, void_letter, year_status
from docgen.registry import open_registry
from docgen.web import lockout
from docgen.web.pages import now, render, roster, workspace
from docgen.web.security import read_form, require_role

ROLE = "office"
UNLOCKED_BY = "办公室"


def _year(request: Request) -> int:
    raw = request.query_params.get("year", "")
    ws = workspace(request)
    if not raw:
        return ws.config.default_year
    if not raw.isdigit() or len(raw) != 4:
        raise UsageError(f"年度“{raw[:10]}”无效", hint="年度是四位数字,如 2027")
    return int(raw)


def _form_year(ws: Workspace, value: object) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) == 4:
        return int(value)
    return ws.config.default_year


def _filter(params: QueryParams) -> ProgressFilter:
    chosen = ProgressFilter(
        department=params.get("department", "").strip(),
        person=params.get("person", "").strip(),
        state=params.get("state", "").strip(),
        kind=params.get("kind", "").strip(),
        timing=params.get("timing", "").strip(),
    )
    if chosen.state and chosen.state not in STATES:
        raise UsageError(f"状态“{chosen.state[:10]}”无效", hint=f"可选:{'、'.join(STATES)}")
    if chosen.kind and chosen.kind not in {k.value for k in LetterKind}:
        raise UsageError("文书种类无效", hint="请从页面的下拉框中选择")
    if chosen.timing and chosen.timing not in TIMINGS:
        raise UsageError("期限筛选无效", hint="请从页面的下拉框中选择")
    return chosen


def _query(request: Request) -> str:
    """The page's filters as a query string, for the export and print links."""
    keep = {k: v for k, v in request.query_params.items() if k in _FILTER_KEYS and v}
    return str(QueryParams(keep))


_FILTER_KEYS = ("year", "department", "person", "state", "kind", "timing")
_cache_lock = threading.Lock()


def _snapshot(request: Request, year: int) -> YearSnapshot:
    """The year as last read, while :func:`freshness` says nothing it depends on changed;
    otherwise read again (in a worker thread: callers run this in the thread pool)."""
    ws = workspace(request)
    state = request.app.state
    as_of = now(request).date()  # as docgen status judges late and overdue letters: today
    key = (*freshness(ws, year), as_of)
    with _cache_lock:
        cache: dict[int, tuple[tuple[object, ...], YearSnapshot]] = getattr(
            state, "progress_cache", {}
        )
        state.progress_cache = cache
        held = cache.get(year)
    if held is not None and held[0] == key:
        return held[1]
    snapshot = read_year(ws, year, roster(request), as_of=as_of)
    with _cache_lock:
        cache[year] = (key, snapshot)
    return snapshot


async def _progress(
    request: Request, year: int, chosen: ProgressFilter, limit: int | None
) -> YearProgress:
    snapshot = await run_in_threadpool(_snapshot, request, year)
    return progress_of(snapshot, chosen, limit=limit)


async def progress_page(request: Request) -> Response:
    require_role(request, ROLE)
    ws = workspace(request)
    year = _year(request)
    chosen = _filter(request.query_params)
    progress = await _progress(request, year, chosen, DEFAULT_LIMIT)
    return render(
        request,
        "office_progress.html",
        {
            "progress": progress,
            "states": STATES,
            "timings": TIMINGS,
            "kinds": list(LetterKind),
            "query": _query(request),
            "locked": [(pid, _name(request, pid)) for pid in lockout.locked_people(ws)],
            "notice": _notice(request),
        },
    )


def _notice(request: Request) -> str:
    params = request.query_params
    if params.get("unlocked"):
        pid = params["unlocked"]
        return f"已解锁 {_name(request, pid)}({pid})的账户,解锁已记入登记簿"
    return ""


def _name(request: Request, pid: str) -> str:
    try:
        return roster(request).person(pid).name
    except KeyError:
        return pid


async def progress_print(request: Request) -> Response:
    require_role(request, ROLE)
    year = _year(request)
    chosen = _filter(request.query_params)
    progress = await _progress(request, year, chosen, None)
    return render(
        request,
        "office_print.html",
        {"progress": progress, "printed_at": now(request)},
    )


async def progress_export(request: Request) -> Response:
    require_role(request, ROLE)
    year = _year(request)
    chosen = _filter(request.query_params)
    progress = await _progress(request, year, chosen, None)
    data = progress_xlsx(progress, now=now(request))
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="progress-{year}.xlsx"'},
    )


@dataclass(frozen=True)
class OfficeLetter:
    """A letter as the office page shows it: ``docgen status``'s view, and its files."""

    status: LetterStatus
    year: int
    title: str
    path: str  # inside output/<year>/
    signatures: tuple[tuple[str, str, str], ...]  # (person id, name, recorded at)
    recorded_at: str
    has_pdf: bool


def _letter(ws: Workspace, doc_id: str) -> OfficeLetter:
    with open_registry(ws) as registry, registry.snapshot():
        latest = None
        for entry in registry.entries(type="document", doc_id=doc_id):
            latest = entry
        if latest is None:
            raise HTTPException(404, f"登记簿中没有编号为 {doc_id[:80]} 的文书")
        year = int(latest.record["year"])
        letter = letters_state(registry, [doc_id], year).letters[doc_id]
    # The letter's status exactly as ``docgen status --person <甲方>`` reads it.
    found: list[LetterStatus] = []
    superior = letter.party_ids()["superior"]
    year_status(
        ws,
        year,
        person=superior,
        listed=0,
        each=lambda s: found.append(s) if s.doc_id == doc_id else None,
    )
    if not found:
        raise HTTPException(404, f"登记簿中没有编号为 {doc_id[:80]} 的文书")
    status = found[0]
    names = {p["id"]: p["name"] for p in letter.record["parties"]}
    signatures = tuple(
        (pid, names.get(pid, pid), str(ref.record.get("recorded_at", "")))
        for pid, ref in sorted(letter.signatures.items(), key=lambda item: item[1].index)
    )
    path = str(letter.record["path"])
    rendition = letter.rendition
    pdf = None if rendition is None else str(rendition.record.get("path", ""))
    return OfficeLetter(
        status=status,
        year=year,
        title=str(letter.record.get("title", status.kind.title)),
        path=path,
        signatures=signatures,
        recorded_at=str(letter.record.get("recorded_at", "")),
        has_pdf=pdf is not None and (ws.year_dir(year) / pdf).is_file(),
    )


async def letter_page(request: Request) -> Response:
    require_role(request, ROLE)
    doc_id = request.path_params["doc_id"]
    found = await run_in_threadpool(_letter, workspace(request), doc_id)
    return render(
        request,
        "office_letter.html",
        {"letter": found, "notice": _letter_notice(request), "reason": ""},
    )


def _letter_notice(request: Request) -> str:
    if request.query_params.get("voided"):
        return "已作废,作废记录已写入登记簿。如需重新签订,请点击“重新签发”。"
    return ""


def _registered_file(ws: Workspace, year: int, rel: str) -> Path:
    """A registered file of the year folder (its path from the registry, never from the URL)."""
    year_dir = ws.year_dir(year).resolve()
    path = (year_dir / rel).resolve()
    if not path.is_relative_to(year_dir) or not path.is_file():
        raise HTTPException(404, "年度目录中没有这个文件(请从备份恢复,再用 docgen verify 核对)")
    return path


async def letter_file(request: Request) -> Response:
    require_role(request, ROLE)
    ws = workspace(request)
    doc_id = request.path_params["doc_id"]
    kind = request.path_params["kind"]
    found = await run_in_threadpool(_letter, ws, doc_id)
    if kind == "docx":
        rel, media = (
            found.path,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    elif kind == "pdf":
        rel, media = str(Path(found.path).with_suffix(".pdf")), "application/pdf"
    else:
        raise HTTPException(404, "没有这种文件")
    path = _registered_file(ws, found.year, rel)
    return Response(
        path.read_bytes(),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{doc_id}.{kind}"'},
    )


async def void_confirm(request: Request) -> Response:
    """Step one of voiding: the reason typed, the letter and the reason shown again."""
    require_role(request, ROLE)
    form = await read_form(request)
    doc_id = _text(form.get("doc_id"))
    reason = _text(form.get("reason"))
    found = await run_in_threadpool(_letter, workspace(request), doc_id)
    if not reason:
        return render(
            request,
            "office_letter.html",
            {"letter": found, "notice": "", "error": "作废必须说明原因", "reason": ""},
            status=400,
        )
    return render(request, "office_void_confirm.html", {"letter": found, "reason": reason})


async def void_do(request: Request) -> Response:
    """Step two: the confirmed void, as ``docgen void ID --reason …``."""
    require_role(request, ROLE)
    form = await read_form(request)
    doc_id = _text(form.get("doc_id"))
    reason = _text(form.get("reason"))
    if form.get("confirm") != "yes":
        raise UsageError("没有确认作废", hint="请在确认页面上点击“确认作废”")
    ws = workspace(request)
    await run_in_threadpool(lambda: void_letter(ws, doc_id, reason, now=now(request)))
    return RedirectResponse(f"/office/letter/{doc_id}?voided=1", status_code=303)


async def reissue_page(request: Request) -> Response:
    require_role(request, ROLE)
    return render(request, "office_reissue.html", {"result": None, "year": _year(request)})


async def reissue_do(request: Request) -> Response:
    """``docgen generate --reissue --yes``: letters brought in line with the roster; those
    changed or obsolete after signing are voided and issued again."""
    require_role(request, ROLE)
    form = await read_form(request)
    if form.get("confirm") != "yes":
        raise UsageError("没有确认重新签发", hint="请勾选确认后再提交")
    ws = workspace(request)
    year = _form_year(ws, form.get("year"))
    moment = now(request)
    result = await run_in_threadpool(lambda: generate(ws, year, now=moment, reissue=True, jobs=1))
    changed = [o for o in result.outcomes if o.change is not Change.UNCHANGED]
    return render(
        request,
        "office_reissue.html",
        {
            "result": result,
            "changed": changed,
            "year": year,
            "labels": CHANGE_LABELS,
            "counts": [(CHANGE_LABELS[c], result.count(c)) for c in Change if result.count(c)],
        },
    )


CHANGE_LABELS = {
    Change.NEW: "新生成",
    Change.UPDATED: "已更新",
    Change.REISSUED: "重新签发",
    Change.VOIDED: "已作废",
    Change.NEEDS_REISSUE: "待确认重新签发",
    Change.OBSOLETE: "已过时",
    Change.UNCHANGED: "未变化",
}


async def unlock_do(request: Request) -> Response:
    require_role(request, ROLE)
    form = await read_form(request)
    pid = _text(form.get("person"))
    ws = workspace(request)
    moment = now(request)
    await run_in_threadpool(lambda: lockout.unlock(ws, pid, UNLOCKED_BY, moment))
    return RedirectResponse(f"/office?unlocked={pid}", status_code=303)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("表单缺少必填项", hint="请从页面上的表单提交")
    return value.strip()


ROUTES: list[BaseRoute] = [
    Route("/office", progress_page, methods=["GET"]),
    Route("/office/print", progress_print, methods=["GET"]),
    Route("/office/progress.xlsx", progress_export, methods=["GET"]),
    Route("/office/letter/{doc_id}", letter_page, methods=["GET"]),
    Route("/office/letter/{doc_id}/file/{kind}", letter_file, methods=["GET"]),
    Route("/office/void", void_confirm, methods=["POST"]),
    Route("/office/void/confirm", void_do, methods=["POST"]),
    Route("/office/reissue", reissue_page, methods=["GET"]),
    Route("/office/reissue", reissue_do, methods=["POST"]),
    Route("/office/unlock", unlock_do, methods=["POST"]),
]
