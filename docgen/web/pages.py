"""Rendering a page: the template, the session's role and CSRF token, the institution's name.

Routes call :func:`render` (and :func:`error_page`) rather than the template engine, so every
page gets the same base context and the same escaping (Jinja2 autoescape: a name or a reason
typed by a user is shown, never run).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from docgen.core.models import Roster
from docgen.core.workspace import Workspace
from docgen.roster.load import load_roster
from docgen.web.logins import ROLE_NAMES
from docgen.web.security import current_session, login_csrf, set_login_csrf

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    return Jinja2Templates(env=env)


def local_time(value: str | datetime | None) -> str:
    """A registry time (UTC, ISO 8601) as the page shows it: Beijing time, to the minute."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    beijing = moment.astimezone(timezone(timedelta(hours=8)))
    return beijing.strftime("%Y-%m-%d %H:%M")


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.ws
    return ws


def now(request: Request) -> datetime:
    moment: datetime = request.app.state.now()
    return moment


def roster(request: Request) -> Roster:
    """The roster, read again only when its file changed."""
    ws = workspace(request)
    stamp = ws.roster_path.stat().st_mtime_ns
    cached = getattr(request.app.state, "roster_cache", None)
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_roster(ws.roster_path))
        request.app.state.roster_cache = cached
    loaded: Roster = cached[1]
    return loaded


def who(request: Request) -> str:
    """How the page header names the logged-in user."""
    session = current_session(request)
    if session is None:
        return ""
    pid = session.person_id
    if pid is not None:
        try:
            return f"{roster(request).person(pid).name}({pid})"
        except KeyError:
            return pid
    return ROLE_NAMES.get(session.role, session.role)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    session = current_session(request)
    ws = workspace(request)
    base: dict[str, Any] = {
        "institution": ws.config.institution,
        "year": ws.config.default_year,
        "role": session.role if session is not None else "",
        "person_id": session.person_id if session is not None else None,
        "who": who(request),
        "csrf": session.csrf if session is not None else login_csrf(request),
    }
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status
    )
    if session is None:
        set_login_csrf(response, request, base["csrf"])
    return response


def error_page(request: Request, message: str, *, status: int, hint: str = "") -> HTMLResponse:
    return render(request, "error.html", {"message": message, "hint": hint}, status=status)
