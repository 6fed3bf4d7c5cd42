"""面对面签订: at the signing meeting the clerk opens a pairing, and its two parties read the
letter and sign it in turn on the same screen, each with their own PIN.

The clerk's session (``office``) opens the page; what signs is each party's own key, unlocked by
the PIN that party types — the clerk's login signs nothing. Each signature is the same
:func:`~docgen.web.signer_routes.sign_one` call as on the signer's own page (and as ``docgen
sign --as ID --doc DOC``), counted towards that person's lock. The page shows both signatures
with their times once made.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from docgen.core.errors import DocgenError, Location
from docgen.records.reading import awaiting
from docgen.roster.names import resolve_person
from docgen.web.auth_routes import failure_status, field
from docgen.web.pages import render, roster, workspace
from docgen.web.security import read_form, require_role
from docgen.web.signer_routes import letter_context, load_letter, read_and_pin, sign_if_read


async def f2f_index(request: Request) -> Response:
    """Find a pairing: the letters still waiting for a person typed by id or name."""
    require_role(request, "office")
    typed = request.query_params.get("person", "").strip()
    context: dict[str, object] = {"person": typed, "error": "", "waiting": (), "who_name": ""}
    if typed:
        ws = workspace(request)
        try:
            person = resolve_person(roster(request), typed, Location(field="人员"))
        except DocgenError as exc:
            context["error"] = exc.message
        else:
            plan = await run_in_threadpool(awaiting, ws, person.id, ws.config.default_year)
            context["waiting"] = plan.waiting
            context["who_name"] = f"{person.name}({person.id})"
    return render(request, "f2f_index.html", context)


def _context(request: Request, doc_id: str) -> dict[str, object]:
    context = letter_context(request, doc_id)
    view = context["view"]
    context["waiting_parties"] = [p for p in view.parties if not p.signed]  # type: ignore[attr-defined]
    return context


async def f2f_page(request: Request) -> Response:
    require_role(request, "office")
    doc_id = request.path_params["doc_id"]
    context = await run_in_threadpool(_context, request, doc_id)
    signed = request.query_params.get("signed", "")
    return render(request, "f2f.html", {**context, "error": "", "hint": "", "just": signed})


async def f2f_sign(request: Request) -> Response:
    require_role(request, "office")
    doc_id = request.path_params["doc_id"]
    form = await read_form(request)
    person_id = field(form, "person")
    has_read, pin = read_and_pin(form)
    letter, year = await run_in_threadpool(load_letter, request, doc_id)
    if person_id not in letter.party_ids().values():
        raise HTTPException(403, "此人不是这份文书的签署方")
    error = await sign_if_read(request, person_id, doc_id, year, has_read=has_read, pin=pin)
    if error is None:
        return RedirectResponse(f"/f2f/{doc_id}?signed={person_id}", status_code=303)
    context = await run_in_threadpool(_context, request, doc_id)
    return render(
        request,
        "f2f.html",
        {**context, "error": error.message, "hint": error.hint or "", "just": ""},
        status=failure_status(error) if has_read else 400,
    )


ROUTES: list[BaseRoute] = [
    Route("/f2f", f2f_index, methods=["GET"]),
    Route("/f2f/{doc_id}", f2f_page, methods=["GET"]),
    Route("/f2f/{doc_id}", f2f_sign, methods=["POST"]),
]
