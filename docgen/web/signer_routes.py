"""What a signer sees: the letters waiting for them, each letter's pages, signing with their PIN.

Every page asks :func:`require_signer` who is logged in and shows only that person's letters:
a letter in which they are not a party is refused with 403, whatever id is typed in the URL.
Signing calls :func:`docgen.signing.sign.sign_as` for the one letter, exactly as
``docgen sign --as ID --doc DOC`` does.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from docgen.records.reading import awaiting
from docgen.web.pages import render, workspace
from docgen.web.security import require_signer


async def waiting_list(request: Request) -> Response:
    _session, person_id = require_signer(request)
    ws = workspace(request)
    plan = await run_in_threadpool(awaiting, ws, person_id, ws.config.default_year)
    return render(request, "sign_list.html", {"waiting": plan.waiting, "signed": plan.signed})


ROUTES: list[BaseRoute] = [
    Route("/sign", waiting_list, methods=["GET"]),
]
