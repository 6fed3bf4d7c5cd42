"""What a signer sees: the letters waiting for them, each letter's pages, signing with their PIN.

Every page asks who is logged in and shows only that person's letters: a letter in which they
are not a party is refused with 403, whatever id is typed in the URL. Signing calls
:func:`docgen.signing.sign.sign_as` for the one letter, exactly as ``docgen sign --as ID --doc
DOC`` does — only after the 「我已阅读全文」 box was ticked and the PIN typed again, and with
every wrong PIN counted towards the lock (:mod:`.lockout`).

面对面签订 (:mod:`.f2f_routes`) shares the letter page and the signing step: the clerk opens a
pairing and each party signs in turn with their own PIN on the same screen.
"""

from __future__ import annotations

import threading
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from docgen.core.errors import DocgenError
from docgen.core.workspace import Workspace
from docgen.records.reading import awaiting
from docgen.records.state import LetterState
from docgen.signing.sign import SignResult, sign_as
from docgen.web import lockout
from docgen.web.auth_routes import failure_status, secret_field, web_passphrase
from docgen.web.letter_view import LetterView, letter_view, read_state, year_of
from docgen.web.page_images import page_images
from docgen.web.pages import now, render, roster, workspace
from docgen.web.security import (
    LoginRequired,
    Session,
    current_session,
    read_form,
    require_signer,
)

STAFF = ("office", "auditor")


async def waiting_list(request: Request) -> Response:
    _session, person_id = require_signer(request)
    ws = workspace(request)
    plan = await run_in_threadpool(awaiting, ws, person_id, ws.config.default_year)
    activated = request.query_params.get("activated") == "1"
    return render(
        request,
        "sign_list.html",
        {"waiting": plan.waiting, "signed": plan.signed, "activated": activated},
    )


def require_viewer(request: Request, letter: LetterState) -> Session:
    """A party of ``letter``, the office or the 纪检组; 403 for anyone else."""
    session = current_session(request)
    if session is None:
        raise LoginRequired
    if session.role in STAFF:
        return session
    if session.person_id is not None and session.person_id in letter.party_ids().values():
        return session
    raise HTTPException(403, "这份文书不是您的,您无权查看或签署")


def load_letter(request: Request, doc_id: str) -> tuple[LetterState, int]:
    ws = workspace(request)
    year = year_of(doc_id, ws.config.default_year)
    letter = read_state(ws, doc_id, year)
    if letter is None:
        # the same answer as for another person's letter: an id says nothing about who it binds
        session = current_session(request)
        if session is None:
            raise LoginRequired
        raise HTTPException(404 if session.role in STAFF else 403, f"没有编号为 {doc_id} 的文书")
    return letter, year


def view_of(request: Request, doc_id: str) -> tuple[Session, LetterView]:
    letter, year = load_letter(request, doc_id)
    session = require_viewer(request, letter)
    return session, letter_view(workspace(request), roster(request), letter, year)


def page_count(ws: Workspace, view: LetterView) -> tuple[str, int]:
    if view.pdf is None:
        return "", 0
    sha, pages = page_images(ws, view.pdf)
    return sha[:16], len(pages)


def letter_context(request: Request, doc_id: str) -> dict[str, object]:
    session, view = view_of(request, doc_id)
    version, pages = page_count(workspace(request), view)
    me = view.party_of(session.person_id) if session.person_id is not None else None
    return {
        "view": view,
        "me": me,
        "pages": pages,
        "version": version,
        "can_sign": me is not None and not me.signed and not view.voided,
    }


async def letter_page(request: Request) -> Response:
    doc_id = request.path_params["doc_id"]
    context = await run_in_threadpool(letter_context, request, doc_id)
    signed = request.query_params.get("signed") == "1"
    return render(request, "letter.html", {**context, "error": "", "hint": "", "just": signed})


async def page_image(request: Request) -> Response:
    doc_id = request.path_params["doc_id"]
    number = int(request.path_params["number"])

    def find() -> str:
        _session, view = view_of(request, doc_id)
        if view.pdf is None:
            raise HTTPException(404, "这份文书没有可显示的 PDF")
        _sha, pages = page_images(workspace(request), view.pdf)
        if not 1 <= number <= len(pages):
            raise HTTPException(404, "没有这一页")
        return str(pages[number - 1])

    path = await run_in_threadpool(find)
    return FileResponse(path, media_type="image/png")


async def docx_download(request: Request) -> Response:
    doc_id = request.path_params["doc_id"]
    _session, view = await run_in_threadpool(view_of, request, doc_id)
    return FileResponse(
        view.docx,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename=f"{view.doc_id}.docx",
    )


# Signatures made through the page wait for each other here, in the server, rather than for
# the workspace lock (which gives up after DOCGEN_LOCK_WAIT, 30 s): twenty people signing at
# the same moment are served one after another, none of them refused as "busy". The workspace
# lock is still taken inside sign_as, against docgen commands run beside the server.
SIGNING_QUEUE = threading.Lock()


def sign_one(
    ws: Workspace, person_id: str, pin: str, doc_id: str, year: int, moment: datetime
) -> SignResult:
    """``docgen sign --as person_id --doc doc_id`` with the PIN typed on the page, counted."""
    with SIGNING_QUEUE:
        return _sign_one(ws, person_id, pin, doc_id, year, moment)


def _sign_one(
    ws: Workspace, person_id: str, pin: str, doc_id: str, year: int, moment: datetime
) -> SignResult:
    return lockout.guarded(
        ws,
        lockout.person_key(person_id),
        moment,
        lambda: sign_as(ws, person_id, web_passphrase(pin), year=year, now=moment, doc_id=doc_id),
        what="PIN",
    )


def read_and_pin(form: FormData) -> tuple[bool, str]:
    return form.get("read") == "yes", secret_field(form, "pin")


async def sign_if_read(
    request: Request, person_id: str, doc_id: str, year: int, *, has_read: bool, pin: str
) -> DocgenError | None:
    """Sign ``doc_id`` as ``person_id`` once they ticked 「我已阅读全文」 (the signer's own page and
    面对面签订 alike); the error to show, or None when signed."""
    if not has_read:
        return DocgenError("请先阅读全文,并勾选「我已阅读全文」", hint="阅读完每一页后再签署")
    try:
        await run_in_threadpool(
            sign_one, workspace(request), person_id, pin, doc_id, year, now(request)
        )
    except DocgenError as exc:
        return exc
    return None


async def sign_letter(request: Request) -> Response:
    doc_id = request.path_params["doc_id"]
    form = await read_form(request)
    _session, person_id = require_signer(request)
    has_read, pin = read_and_pin(form)
    letter, year = await run_in_threadpool(load_letter, request, doc_id)
    require_viewer(request, letter)
    error = await sign_if_read(request, person_id, doc_id, year, has_read=has_read, pin=pin)
    if error is None:
        return RedirectResponse(f"/sign/{doc_id}?signed=1", status_code=303)
    context = await run_in_threadpool(letter_context, request, doc_id)
    status = failure_status(error) if has_read else 400
    return render(
        request,
        "letter.html",
        {**context, "error": error.message, "hint": error.hint or "", "just": False},
        status=status,
    )


ROUTES: list[BaseRoute] = [
    Route("/sign", waiting_list, methods=["GET"]),
    Route("/sign/{doc_id}", letter_page, methods=["GET"]),
    Route("/sign/{doc_id}", sign_letter, methods=["POST"]),
    Route("/letter/{doc_id}/page/{number:int}.png", page_image, methods=["GET"]),
    Route("/letter/{doc_id}/letter.docx", docx_download, methods=["GET"]),
]
