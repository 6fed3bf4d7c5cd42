"""Who is asking and whether the request may do what it asks: sessions, roles, CSRF, headers.

Sessions live in the server's memory, keyed by a random token in a cookie that is HttpOnly,
SameSite=Strict and, under TLS, Secure. Keeping them server-side (rather than a signed cookie)
means logging out or idling out really ends the session, and a restart of ``docgen serve``
ends them all. Each session carries its role — ``signer:<person id>``, ``office`` or
``auditor`` — and a CSRF token that every POST form must send back (:func:`read_form`).

Every response gets a strict Content-Security-Policy (no inline script or style: the pages
load one CSS and one JS file of our own), ``X-Content-Type-Options: nosniff``,
``frame-ancestors 'none'`` and ``Referrer-Policy: no-referrer``; request bodies are refused
with 413 past a size limit before they are read.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "docgen_session"
CSRF_FIELD = "csrf"
IDLE_TIMEOUT = timedelta(minutes=15)
MAX_BODY = 64 * 1024 * 1024  # an upload (multipart): a year archive's volume at most
MAX_FORM_BODY = 1024 * 1024  # any other body: a form, the handwriting's PNG at most
ROLES = ("office", "auditor")
SIGNER = "signer"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
}


@dataclass
class Session:
    token: str
    role: str  # "signer:<pid>", "office", "auditor"
    csrf: str
    last_seen: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def person_id(self) -> str | None:
        kind, _, pid = self.role.partition(":")
        return pid if kind == SIGNER and pid else None


class SessionStore:
    """Sessions by token; expired ones are dropped when met."""

    def __init__(self, now: Callable[[], datetime], idle: timedelta = IDLE_TIMEOUT) -> None:
        self._now = now
        self._idle = idle
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, role: str) -> Session:
        session = Session(
            token=secrets.token_urlsafe(32),
            role=role,
            csrf=secrets.token_urlsafe(32),
            last_seen=self._now(),
        )
        with self._lock:
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token``, its idle clock restarted; None if unknown or idle."""
        if not token:
            return None
        now = self._now()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_seen > self._idle:
                del self._sessions[token]
                return None
            session.last_seen = now
            return session

    def end(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def end_role(self, role: str) -> None:
        """End every session of ``role`` (a signer whose account was locked)."""
        with self._lock:
            for token in [t for t, s in self._sessions.items() if s.role == role]:
                del self._sessions[token]


def current_session(request: Request) -> Session | None:
    store: SessionStore = request.app.state.sessions
    return store.get(request.cookies.get(COOKIE))


def start_session(request: Request, role: str) -> Session:
    """A new session for ``role``; the old one (if any) ends (no session fixation)."""
    store: SessionStore = request.app.state.sessions
    old = request.cookies.get(COOKIE)
    if old:
        store.end(old)
    return store.create(role)


def set_session_cookie(response: Any, request: Request, session: Session | None) -> None:
    """Put (or, with None, clear) the session cookie on ``response``."""
    secure = bool(request.app.state.tls)
    if session is None:
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
        return
    response.set_cookie(
        COOKIE, session.token, path="/", secure=secure, httponly=True, samesite="strict"
    )


class LoginRequired(Exception):
    """No live session: the page sends the browser to the login page."""


def require_role(request: Request, role: str) -> Session:
    """The session if it has ``role`` (``"signer"`` matches any ``signer:<pid>``): otherwise the
    login page when nobody is logged in, 403 when someone else is."""
    session = current_session(request)
    if session is None:
        raise LoginRequired
    kind = session.role.partition(":")[0]
    if session.role != role and not (role == SIGNER and kind == SIGNER):
        raise HTTPException(403, "您登录的身份无权打开此页面")
    return session


def require_signer(request: Request) -> tuple[Session, str]:
    session = require_role(request, SIGNER)
    person_id = session.person_id
    assert person_id is not None
    return session, person_id


def csrf_token(request: Request) -> str:
    """The token a template puts into each POST form of this session ("" without a session)."""
    session = current_session(request)
    return session.csrf if session is not None else ""


async def read_form(request: Request, *, files: bool = False) -> FormData:
    """The POSTed form after its CSRF token was checked against the session's (403 otherwise).

    Forms posted before login (the login forms themselves) carry the token of a pre-session
    cookie set by the page that shows them; see :func:`login_csrf`.
    """
    form = await request.form(max_files=20 if files else 0, max_fields=50)
    sent = form.get(CSRF_FIELD)
    session = current_session(request)
    expected = session.csrf if session is not None else request.cookies.get(PRE_COOKIE, "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "表单已过期或来源不明(CSRF 校验未通过),请刷新页面后重试")
    return form


PRE_COOKIE = "docgen_login_csrf"


def login_csrf(request: Request) -> str:
    """The CSRF token of a login form: a random value also set as a SameSite=Strict cookie
    (double submit), so a page elsewhere cannot post a login in the user's browser."""
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)


def set_login_csrf(response: Any, request: Request, token: str) -> None:
    response.set_cookie(
        PRE_COOKIE,
        token,
        path="/",
        secure=bool(request.app.state.tls),
        httponly=True,
        samesite="strict",
    )


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _host_name(authority: str) -> str:
    """``example:8470`` → ``example``; ``[::1]:8470`` → ``[::1]``."""
    if authority.startswith("["):
        return authority.split("]", 1)[0] + "]"
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


class SecurityMiddleware:
    """Adds the security headers to every response, refuses oversized request bodies, requests
    naming a host the server does not serve (a DNS-rebinding page would name its own), and POSTs
    whose ``Origin`` is another site."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = MAX_BODY,
        max_form: int = MAX_FORM_BODY,
        hosts: tuple[str, ...] = LOOPBACK_HOSTS,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_form = max_form
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() not in HEADERS
                ]
                headers.extend((k.encode(), v.encode()) for k, v in HEADERS.items())
                message["headers"] = headers
            await send(message)

        host = (_header(scope, b"host") or "").lower()
        if _host_name(host) not in self.hosts:
            await _plain(
                send_with_headers, 421, "此地址不由签署页面提供服务,请使用办公室公布的地址"
            )
            return
        # A POST names its page's origin; "null" under Referrer-Policy: no-referrer (fetch spec)
        origin = _header(scope, b"origin") or "null"
        if scope.get("method") == "POST" and origin.split("://", 1)[-1].lower() not in (
            host,
            "null",
        ):
            await _plain(send_with_headers, 403, "表单来自其他网站,已拒绝")
            return
        limit = self.max_body if _is_multipart(scope) else self.max_form
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _plain(send_with_headers, 413, "上传的内容过大,超过了允许的上限")
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, "上传的内容过大,超过了允许的上限")
            return message

        await self.app(scope, limited_receive, send_with_headers)


def _is_multipart(scope: Scope) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            return bytes(value).lower().startswith(b"multipart/form-data")
    return False


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
