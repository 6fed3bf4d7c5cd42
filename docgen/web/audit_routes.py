"""The 纪检组's pages: verifying letters and archives, the registry and its checkpoints, the
duties table and the reports.

Every route calls ``require_role(request, "auditor")`` first, then the library function the
command line calls for the same question:

* 核验 — uploaded files (a letter with its proof and signatures, a signed PDF, a year archive or
  its volumes): :func:`docgen.web.uploads.verify_uploads`, which runs ``docgen verify``'s
  :func:`~docgen.verify.paths.verify_paths` on them in a private temporary folder; a 核验码 or
  QR content: :func:`docgen.records.code_lookup.letter_record` (``docgen verify --code``) and
  the registered file verified as ``docgen verify`` does;
* 登记簿 — the latest signed checkpoint and its signature lines (the registry's own and any
  witness cosignature), the registry's self-audit (``docgen registry audit``) and a pasted
  checkpoint replayed against the entries (``docgen registry verify-checkpoint``); the CA
  certificate and the CRL are served by :mod:`docgen.web.app` at the CRL distribution point;
* 职责 — :func:`docgen.duties.engine.duties_in_workspace` and its workbook (``docgen duties
  --xlsx``); 报告 — :func:`docgen.duties.report.reports_in_workspace` (``docgen report``) and the
  drafts in ``output/<year>/reports/`` to download.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from docgen.core.errors import DocgenError, UsageError
from docgen.core.workspace import Workspace
from docgen.duties.engine import duties_in_workspace, duties_workbook
from docgen.duties.report import reports_in_workspace
from docgen.records.code_lookup import LetterRecord, letter_record
from docgen.records.letter_code import RegistryIdentity
from docgen.registry import open_registry
from docgen.registry.note import parse_note
from docgen.verify.archive import workspace_trust
from docgen.verify.model import LetterStatus
from docgen.verify.paths import verify_paths
from docgen.verify.report import VerifyReport
from docgen.web.pages import now, render, workspace
from docgen.web.security import read_form, require_role
from docgen.web.uploads import (
    MAX_FILES,
    Upload,
    relabel,
    unchecked,
    verify_uploads,
    workspace_relative,
)

ROLE = "auditor"
MAX_PASTED = 64 * 1024  # a signed checkpoint is a few hundred bytes


async def home(request: Request) -> Response:
    require_role(request, ROLE)
    return render(request, "audit_home.html")


async def verify_page(request: Request) -> Response:
    require_role(request, ROLE)
    return render(request, "audit_verify.html", {"error": ""})


async def verify_files(request: Request) -> Response:
    """Uploaded files → the numbered checklist of ``docgen verify``."""
    require_role(request, ROLE)
    form = await read_form(request, files=True)
    uploads: list[Upload] = []
    for item in form.getlist("files"):
        if isinstance(item, UploadFile) and item.filename:
            uploads.append(Upload(item.filename, await item.read()))
            await item.close()
    if not uploads:
        return render(request, "audit_verify.html", {"error": "请选择要核验的文件"}, status=400)
    if len(uploads) > MAX_FILES:
        return render(
            request,
            "audit_verify.html",
            {"error": f"一次最多核验 {MAX_FILES} 个文件"},
            status=413,
        )
    ws = workspace(request)
    moment = now(request)
    check = await run_in_threadpool(lambda: verify_uploads(ws, uploads, now=moment))
    return render(
        request,
        "audit_verify_result.html",
        {
            "report": check.report,
            "extra": unchecked(check),
            "ok": check.ok,
            "given": [u.name for u in uploads],
            "notes": check.notes,
        },
    )


def _code_result(ws: Workspace, code: str, moment: datetime) -> tuple[LetterRecord, VerifyReport]:
    found = letter_record(ws, code)
    lines = tuple(workspace_relative(ws, line) for line in found.lookup.lines)
    found = dataclasses.replace(found, lookup=dataclasses.replace(found.lookup, lines=lines))
    trust = workspace_trust(ws)
    with open_registry(ws) as registry:
        report = verify_paths(
            [found.lookup.path],
            trust,
            tolerance=trust.tolerance,
            jobs=1,
            registry=registry,
            workspace=ws,
            now=moment,
        )
    return found, relabel(report, lambda text: workspace_relative(ws, text))


def _waiting_for(found: LetterRecord, report: VerifyReport) -> str:
    """``待 李卫东(P002)签署`` when the only thing the letter lacks is a signature still to
    come — every letter incomplete, none failed, no overall check failed; else empty (a failed
    or changed letter keeps its ✗ 未通过)."""
    if report.ok or not found.missing or not report.letters:
        return ""
    if any(letter.status is not LetterStatus.INCOMPLETE for letter in report.letters):
        return ""
    if any(not check.ok for check in report.checks if not check.unknown):
        return ""
    names = {str(p.get("id")): str(p.get("name")) for p in found.lookup.found.record["parties"]}
    who = "、".join(f"{names.get(pid, pid)}({pid})" for pid in found.missing)
    return f"待 {who}签署"


async def verify_code(request: Request) -> Response:
    """A 核验码 or QR content → the registry's record of the letter, its proof, its checklist."""
    require_role(request, ROLE)
    form = await read_form(request)
    code = form.get("code")
    if not isinstance(code, str) or not code.strip():
        return render(request, "audit_verify.html", {"error": "请输入核验码"}, status=400)
    ws = workspace(request)
    moment = now(request)
    try:
        found, report = await run_in_threadpool(_code_result, ws, code, moment)
    except DocgenError as exc:
        return render(
            request,
            "audit_verify.html",
            {"error": exc.message, "hint": exc.hint or "", "code": code[:200]},
            status=400 if isinstance(exc, UsageError) else 404,
        )
    return render(
        request,
        "audit_code_result.html",
        {
            "found": found,
            "report": report,
            "waiting": _waiting_for(found, report),
            "proof_text": json.dumps(found.proof, ensure_ascii=False, indent=1),
        },
    )


def _registry_view(ws: Workspace) -> dict[str, object]:
    with open_registry(ws) as registry, registry.snapshot():
        note = registry.checkpoint()
        size = registry.size()
        name = RegistryIdentity.of_registry(registry).origin
    parsed = parse_note(note)
    return {
        "checkpoint": note.decode("utf-8"),
        "size": size,
        "origin": name,
        "signatures": [(s.name, s.key_id.hex()) for s in parsed.signatures],
        "cosignatures": [s.name for s in parsed.signatures if s.name != name],
        "crl_path": _crl_path(ws),
    }


def _crl_path(ws: Workspace) -> str:
    return urlsplit(ws.config.crl_url).path or "/crl.der"


async def registry_page(request: Request) -> Response:
    require_role(request, ROLE)
    view = await run_in_threadpool(_registry_view, workspace(request))
    return render(request, "audit_registry.html", {**view, "replay": None, "audit": None})


async def registry_check(request: Request) -> Response:
    """A pasted checkpoint replayed against the entries, or the registry's self-audit."""
    require_role(request, ROLE)
    form = await read_form(request)
    ws = workspace(request)
    action = form.get("action")
    view = await run_in_threadpool(_registry_view, ws)
    if action == "audit":

        def audit() -> object:
            with open_registry(ws) as registry:
                return registry.audit()

        report = await run_in_threadpool(audit)
        return render(request, "audit_registry.html", {**view, "replay": None, "audit": report})
    pasted = form.get("checkpoint")
    if not isinstance(pasted, str) or not pasted.strip():
        raise UsageError("请粘贴以前保存的检查点", hint="即 docgen registry pin 保存的文件内容")
    if len(pasted) > MAX_PASTED:
        raise HTTPException(413, "粘贴的内容过长,不是一个检查点")
    # Browsers send CRLF in a textarea; a checkpoint is LF text ending in a newline.
    data = (pasted.replace("\r\n", "\n").rstrip("\n") + "\n").encode("utf-8")

    def replay() -> object:
        with open_registry(ws) as registry:
            return registry.replay_pinned(data)

    try:
        result = await run_in_threadpool(replay)
    except DocgenError as exc:
        return render(
            request,
            "audit_registry.html",
            {**view, "replay": None, "audit": None, "error": exc.message, "hint": exc.hint or ""},
            status=400,
        )
    return render(request, "audit_registry.html", {**view, "replay": result, "audit": None})


def _year(request: Request) -> int:
    raw = request.query_params.get("year", "")
    if raw.isdigit() and len(raw) == 4:
        return int(raw)
    return workspace(request).config.default_year


def _reports_dir(ws: Workspace, year: int) -> Path:
    return ws.year_dir(year) / "reports"


def _report_files(ws: Workspace, year: int) -> list[str]:
    folder = _reports_dir(ws, year)
    if not folder.is_dir():
        return []
    return sorted(e.name for e in os.scandir(folder) if e.is_file() and e.name.endswith(".docx"))


async def duties_page(request: Request) -> Response:
    require_role(request, ROLE)
    ws = workspace(request)
    year = _year(request)
    day = now(request).date()
    roster, report = await run_in_threadpool(duties_in_workspace, ws, year, day)
    names = {p.id: p.name for p in roster.people}
    return render(
        request,
        "audit_duties.html",
        {
            "duties": report,
            "names": names,
            "counts": {s: report.count(s) for s in ("done", "due", "overdue")},
            "reports": _report_files(ws, year),
            "report_year": year,
            "written": [],
        },
    )


async def duties_export(request: Request) -> Response:
    require_role(request, ROLE)
    ws = workspace(request)
    year = _year(request)
    day = now(request).date()
    roster, report = await run_in_threadpool(duties_in_workspace, ws, year, day)
    data = duties_workbook(report, roster)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="duties-{year}.xlsx"'},
    )


async def reports_draft(request: Request) -> Response:
    """``docgen report``: the drafts written to output/<year>/reports/, then listed."""
    require_role(request, ROLE)
    await read_form(request)
    ws = workspace(request)
    year = _year(request)
    day = now(request).date()
    written = await run_in_threadpool(lambda: reports_in_workspace(ws, year, issued=day))
    roster, report = await run_in_threadpool(duties_in_workspace, ws, year, day)
    return render(
        request,
        "audit_duties.html",
        {
            "duties": report,
            "names": {p.id: p.name for p in roster.people},
            "counts": {s: report.count(s) for s in ("done", "due", "overdue")},
            "reports": _report_files(ws, year),
            "report_year": year,
            "written": [w.path.name for w in written],
        },
    )


async def report_file(request: Request) -> Response:
    require_role(request, ROLE)
    ws = workspace(request)
    year = _year(request)
    name = request.path_params["name"]
    if name not in _report_files(ws, year):  # only a name the folder lists, never a path
        raise HTTPException(404, "没有这份报告,请先起草")
    data = (_reports_dir(ws, year) / name).read_bytes()
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{_quoted(name)}"},
    )


def _quoted(name: str) -> str:
    return quote(name, safe="")


ROUTES: list[BaseRoute] = [
    Route("/audit", home, methods=["GET"]),
    Route("/audit/verify", verify_page, methods=["GET"]),
    Route("/audit/verify/files", verify_files, methods=["POST"]),
    Route("/audit/verify/code", verify_code, methods=["POST"]),
    Route("/audit/registry", registry_page, methods=["GET"]),
    Route("/audit/registry", registry_check, methods=["POST"]),
    Route("/audit/duties", duties_page, methods=["GET"]),
    Route("/audit/duties.xlsx", duties_export, methods=["GET"]),
    Route("/audit/reports", reports_draft, methods=["POST"]),
    Route("/audit/reports/{name}", report_file, methods=["GET"]),
]
