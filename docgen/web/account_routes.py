"""A signer's own account: first activation with the code and a PIN of their own, the optional
handwritten signature, and bringing in signatures made on another computer.

Activation calls :func:`docgen.signing.activation.activate` (the code opens the pending key, the
PIN re-encrypts it: the clerk never learns the PIN); the handwriting is
:func:`docgen.signing.handwriting.save_handwriting`; uploads go to
:func:`docgen.signing.signature_import.import_signatures` from a private temporary folder
(:func:`.security.private_uploads`), never under the names the browser sent.
"""

from __future__ import annotations

import base64
import binascii

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from docgen.core.errors import DocgenError, Location
from docgen.roster.names import resolve_person
from docgen.signing.activation import activate
from docgen.signing.handwriting import save_handwriting
from docgen.web.auth_routes import field, secret_field, web_passphrase
from docgen.web.pages import now, render, roster, workspace
from docgen.web.security import read_form, require_signer, set_session_cookie, start_session

MAX_HANDWRITING = 512 * 1024  # the PNG as a data: URL
_PNG_URL = "data:image/png;base64,"


async def activate_page(request: Request) -> Response:
    person = request.query_params.get("person", "")
    return render(request, "activate.html", {"person": person, "error": "", "hint": ""})


async def activate_submit(request: Request) -> Response:
    form = await read_form(request)
    typed = field(form, "person")
    code = field(form, "code")
    pin, again = secret_field(form, "pin"), secret_field(form, "pin2")
    ws = workspace(request)
    try:
        person = resolve_person(roster(request), typed, Location(field="人员编号或姓名"))
        if pin != again:
            raise DocgenError("两次输入的 PIN 不一致", hint="请重新输入,两次输入同一个 PIN")
        await run_in_threadpool(
            activate, ws, person.id, code, web_passphrase(pin), now=now(request)
        )
    except DocgenError as exc:
        return render(
            request,
            "activate.html",
            {"person": typed, "error": exc.message, "hint": exc.hint or ""},
            status=400,
        )
    session = start_session(request, f"signer:{person.id}")
    response = RedirectResponse("/sign?activated=1", status_code=303)
    set_session_cookie(response, request, session)
    return response


async def handwriting_page(request: Request) -> Response:
    require_signer(request)
    return render(request, "handwriting.html", {"error": "", "saved": False})


def _png_of(value: str) -> bytes:
    if not value.startswith(_PNG_URL) or len(value) > MAX_HANDWRITING:
        raise DocgenError("手写签名图片无效或过大", hint="请在方框内重新书写后保存")
    try:
        return base64.b64decode(value[len(_PNG_URL) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DocgenError("手写签名图片无效", hint="请在方框内重新书写后保存") from exc


async def handwriting_submit(request: Request) -> Response:
    form = await read_form(request)
    _session, person_id = require_signer(request)
    try:
        png = _png_of(field(form, "png"))
        await run_in_threadpool(
            save_handwriting, workspace(request), person_id, png, now=now(request)
        )
    except DocgenError as exc:
        return render(
            request, "handwriting.html", {"error": exc.message, "saved": False}, status=400
        )
    return render(request, "handwriting.html", {"error": "", "saved": True})


ROUTES: list[BaseRoute] = [
    Route("/activate", activate_page, methods=["GET"]),
    Route("/activate", activate_submit, methods=["POST"]),
    Route("/me/handwriting", handwriting_page, methods=["GET"]),
    Route("/me/handwriting", handwriting_submit, methods=["POST"]),
]
