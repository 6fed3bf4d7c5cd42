"""Logging in and out: a signer with their id (or name) and PIN, the office and the 纪检组 with
their password.

A signer's PIN is checked by opening their own private key with it
(:func:`docgen.signing.keyfiles.load_private_key`): there is no other copy of the PIN to compare
against, and the clerk never knows it. Every wrong PIN or password counts towards the lock
(:mod:`.lockout`); the forms are POSTed, so no secret appears in a URL or an access log.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from docgen.core.errors import DocgenError, Location
from docgen.roster.names import resolve_person
from docgen.signing import activation
from docgen.signing.keyfiles import PassphraseError, load_private_key, person_paths
from docgen.signing.passphrase import Passphrase
from docgen.web import lockout
from docgen.web.logins import ROLE_NAMES, check_login
from docgen.web.pages import now, render, roster, workspace
from docgen.web.security import (
    current_session,
    read_form,
    set_session_cookie,
    start_session,
)

PIN_SOURCE = "签署页面"


def web_passphrase(pin: str) -> Passphrase:
    return Passphrase(pin.encode("utf-8"), PIN_SOURCE)


def field(form: object, name: str) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return value.strip() if isinstance(value, str) else ""


def secret_field(form: object, name: str) -> str:
    """A PIN or password as typed (not stripped: a blank may be part of it)."""
    value = form.get(name) if hasattr(form, "get") else None
    return value if isinstance(value, str) else ""


async def login_page(request: Request) -> Response:
    return render(request, "login.html", {"error": "", "hint": "", "person": ""})


def _check_person_pin(request: Request, person_id: str, pin: str) -> None:
    ws = workspace(request)
    key_path = person_paths(ws.keys_dir, person_id).key
    lockout.guarded(
        ws,
        lockout.person_key(person_id),
        now(request),
        lambda: load_private_key(key_path, web_passphrase(pin)),
        what="PIN",
    )


def pending_activation(request: Request, person_id: str) -> bool:
    """True while ``person_id`` has an activation code not yet replaced by their own PIN."""
    return activation.is_pending(workspace(request), person_id)


def failure_status(exc: DocgenError) -> int:
    """401 for a wrong secret, 403 for a lock or a wait, 400 for anything else."""
    if isinstance(exc, lockout.WrongSecret):
        return 401
    if isinstance(exc, lockout.AccountLocked | lockout.TooSoon):
        return 403
    return 400


async def login(request: Request) -> Response:
    form = await read_form(request)
    typed = field(form, "person")
    pin = secret_field(form, "pin")
    try:
        person = resolve_person(roster(request), typed, Location(field="编号或姓名"))
        if await run_in_threadpool(pending_activation, request, person.id):
            return RedirectResponse(f"/activate?person={person.id}", status_code=303)
        await run_in_threadpool(_check_person_pin, request, person.id, pin)
    except DocgenError as exc:
        return render(
            request,
            "login.html",
            {"error": exc.message, "hint": exc.hint or "", "person": typed},
            status=failure_status(exc),
        )
    session = start_session(request, f"signer:{person.id}")
    response = RedirectResponse("/sign", status_code=303)
    set_session_cookie(response, request, session)
    return response


def _check_staff(request: Request, role: str, password: str) -> None:
    ws = workspace(request)

    def attempt() -> None:
        if not check_login(ws, role, password):
            raise PassphraseError("口令不正确")

    lockout.guarded(ws, lockout.role_key(role), now(request), attempt, what="口令")


async def staff_login(request: Request) -> Response:
    form = await read_form(request)
    role = field(form, "role")
    if role not in ROLE_NAMES:
        return render(
            request,
            "login.html",
            {"error": "请选择办公室或纪检组", "hint": "", "person": ""},
            status=400,
        )
    try:
        await run_in_threadpool(_check_staff, request, role, secret_field(form, "password"))
    except DocgenError as exc:
        return render(
            request,
            "login.html",
            {"error": exc.message, "hint": exc.hint or "", "person": ""},
            status=failure_status(exc),
        )
    session = start_session(request, role)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, session)
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    session = current_session(request)
    if session is not None:
        request.app.state.sessions.end(session.token)
    response = RedirectResponse("/login", status_code=303)
    set_session_cookie(response, request, None)
    return response


ROUTES: list[BaseRoute] = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/login/staff", staff_login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
