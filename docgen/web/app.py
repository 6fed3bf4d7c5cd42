"""The ASGI application of ``docgen serve``: routes, middleware and error pages put together.

Why Starlette: it is small (routing, requests, responses, a test client), ASGI so uvicorn serves
it, and brings no ORM, admin site or JSON-API machinery we would have to keep locked down —
the registry is the only store, and every page is a server-rendered Jinja2 template.

The route lists come from one module per audience: :mod:`.auth_routes` (logins),
:mod:`.signer_routes`, :mod:`.f2f_routes` and :mod:`.account_routes` (the people who
sign), :mod:`.office_routes` (办公室) and
:mod:`.audit_routes` (纪检组). The CA certificate and the current CRL are served without login
at the path the certificates name as their CRL distribution point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from docgen.core.errors import DocgenError
from docgen.core.workspace import Workspace
from docgen.signing.keyfiles import ca_paths
from docgen.web import (
    account_routes,
    audit_routes,
    auth_routes,
    f2f_routes,
    office_routes,
    signer_routes,
)
from docgen.web.pages import STATIC_DIR, error_page, make_templates
from docgen.web.security import (
    IDLE_TIMEOUT,
    LOOPBACK_HOSTS,
    LoginRequired,
    SecurityMiddleware,
    SessionStore,
    current_session,
)

HOME = {"office": "/office", "auditor": "/audit"}


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def index(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    if session.person_id is not None:
        return RedirectResponse("/sign", status_code=303)
    return RedirectResponse(HOME.get(session.role, "/login"), status_code=303)


def _file_route(path: str, name: str, media_type: str) -> Route:
    async def serve_file(request: Request) -> Response:
        ws: Workspace = request.app.state.ws
        file = ca_paths(ws.keys_dir).directory / name
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise HTTPException(404, "尚未生成该文件(请先运行 docgen keys init-ca)") from None
        return Response(data, media_type=media_type)

    return Route(path, serve_file, methods=["GET"])


def public_routes(ws: Workspace) -> list[BaseRoute]:
    crl_path = urlsplit(ws.config.crl_url).path or "/crl.der"
    routes: list[BaseRoute] = [
        _file_route("/ca.pem", "ca.pem", "application/x-pem-file"),
        _file_route("/crl.der", "crl.der", "application/pkix-crl"),
    ]
    if crl_path != "/crl.der":
        routes.append(_file_route(crl_path, "crl.der", "application/pkix-crl"))
    return routes


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)  # browsers ask for it; the page has none


async def _login_required(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


# Starlette's own errors carry the English reason phrase as their detail ("Not Found"): the
# page says it in Chinese instead; a detail written here (already Chinese) is kept.
_CHINESE_REASONS = {
    400: ("请求无效", "请返回上一页重试"),
    404: ("页面不存在", "请检查地址,或返回首页"),
    405: ("不支持这种请求方式", "请从页面上的链接或按钮进入,不要直接输入地址提交"),
    413: ("上传的内容过大", "请分批上传"),
    500: ("服务器内部错误", "请稍后重试;如果仍然出错,请告诉办公室出错的时间和页面"),
}


def _chinese(status: int, detail: str) -> tuple[str, str]:
    known = _CHINESE_REASONS.get(status)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    if known is not None and detail in (phrase, ""):
        return known
    if detail == phrase or detail.isascii():
        return (f"无法完成请求(错误 {status})", "请返回首页重试")
    return (detail, "")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message, hint = _chinese(exc.status_code, str(exc.detail))
    return error_page(request, message, hint=hint, status=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    """Any other error: a Chinese page in the site's layout, never a stack trace (uvicorn logs
    the exception on the console for the office)."""
    message, hint = _CHINESE_REASONS[500]
    try:
        return error_page(request, message, hint=hint, status=500)
    except Exception:  # the layout itself failed (say, the workspace is gone): plain text
        return PlainTextResponse(f"{message}。{hint}", status_code=500)


async def _docgen_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DocgenError)
    return error_page(request, exc.message, hint=exc.hint or "", status=400)


def create_app(
    ws: Workspace,
    *,
    now: Callable[[], datetime] | None = None,
    tls: bool = False,
    idle_minutes: float | None = None,
    hosts: Sequence[str] = (),
) -> Starlette:
    """The application serving workspace ``ws``; ``now`` is the clock (tests fix it). It
    answers requests for the loopback names and ``hosts`` (the names of ``--host`` and of the
    server certificate), and no other Host."""
    clock = now or _utc_now
    routes: list[BaseRoute] = [
        Route("/", index, methods=["GET"]),
        Route("/favicon.ico", _no_icon, methods=["GET"]),
        *auth_routes.ROUTES,
        *signer_routes.ROUTES,
        *f2f_routes.ROUTES,
        *account_routes.ROUTES,
        *office_routes.ROUTES,
        *audit_routes.ROUTES,
        *public_routes(ws),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityMiddleware, hosts=(*LOOPBACK_HOSTS, *(h.lower() for h in hosts)))
        ],
        exception_handlers={
            LoginRequired: _login_required,
            HTTPException: _http_error,
            DocgenError: _docgen_error,
            500: _server_error,
        },
    )
    app.state.ws = ws
    app.state.now = clock
    app.state.tls = tls
    idle = IDLE_TIMEOUT if idle_minutes is None else IDLE_TIMEOUT * (idle_minutes / 15)
    app.state.sessions = SessionStore(clock, idle)
    app.state.templates = make_templates()
    return app
