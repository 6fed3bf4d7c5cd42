"""The office's (办公室) pages: the year's progress, void and reissue, unlocking a signer.

Routes are added here by the office side of issue #19; each calls
``require_role(request, "office")`` (:mod:`docgen.web.security`) first.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
