"""The 纪检组's pages: verifying letters and archives, the registry and its checkpoints, the
duties table and the reports.

Routes are added here by the 纪检组 side of issue #19; each calls
``require_role(request, "auditor")`` (:mod:`docgen.web.security`) first.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
