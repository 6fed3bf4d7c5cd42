"""Helpers of the signing page's tests: a settable clock, logging in through the real forms.

Everything goes through Starlette's TestClient and the real application (:func:`create_app`)
on a real workspace; nothing is mocked. The CSRF token is read from the page as a browser would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from docgen.core.workspace import Workspace
from docgen.web.app import create_app
from tests.signed_year import GENERATED_AT, PERSON_PASSPHRASE

PIN = PERSON_PASSPHRASE.secret.decode()
STAFF_PASSWORD = "办公室口令-2027-test"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass
class Clock:
    moment: datetime = field(default=GENERATED_AT + timedelta(days=2))

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **kwargs: float) -> None:
        self.moment += timedelta(**kwargs)


def client_for(ws: Workspace, clock: Clock | None = None, *, tls: bool = False) -> TestClient:
    app = create_app(ws, now=clock or Clock(), tls=tls)
    base = "https://127.0.0.1" if tls else "http://127.0.0.1"
    return TestClient(app, base_url=base, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "page has no CSRF field"
    return found.group(1)


def page_csrf(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return csrf_of(response.text)


def login_signer(client: TestClient, person: str, pin: str = PIN) -> Any:
    token = page_csrf(client, "/login")
    return client.post("/login", data={"csrf": token, "person": person, "pin": pin})


def login_staff(client: TestClient, role: str, password: str = STAFF_PASSWORD) -> Any:
    token = page_csrf(client, "/login")
    return client.post("/login/staff", data={"csrf": token, "role": role, "password": password})
