"""Talking to real nodes over HTTP: logins with bearer tokens on any base URL, closed together."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp

from app.domain.case_number import CaseNumber
from app.domain.clock import COURT_TZ
from app.services.demo import sample_application

from integration.api_support import make_pdf


class Clients:
    """aiohttp sessions against node or balancer URLs; `close()` ends them all."""

    def __init__(self) -> None:
        self._open: list[aiohttp.ClientSession] = []

    def session(self, base: str, token: str | None = None) -> aiohttp.ClientSession:
        """Relative paths go to `base`; no cookie jar, so a bearer token needs no CSRF."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        opened = aiohttp.ClientSession(
            base_url=base, headers=headers, cookie_jar=aiohttp.DummyCookieJar()
        )
        self._open.append(opened)
        return opened

    async def login(self, base: str, username: str, password: str = "demo") -> str:
        response = await self.try_login(base, username, password)
        assert response.status == 200, f"login {username} at {base}: {await response.text()}"
        return str((await response.json())["token"])

    async def try_login(self, base: str, username: str, password: str) -> aiohttp.ClientResponse:
        anonymous = self.session(base)
        response = await anonymous.post(
            "/api/login", json={"username": username, "password": password}
        )
        await response.read()
        return response

    async def as_user(self, base: str, username: str, password: str = "demo") -> Any:
        """Logged in at `base` (the balancer or a node); typed Any so that the integration
        helpers written for TestClient take it (both resolve "/api/..." against a base)."""
        return self.session(base, await self.login(base, username, password))

    async def close(self) -> None:
        for opened in self._open:
            await opened.close()
        self._open.clear()


async def ok(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert response.status == status, f"{response.method} {response.url}: {await response.text()}"
    return await response.json()


async def new_case(mediator: aiohttp.ClientSession) -> int:
    payload = sample_application(dt.datetime.now(COURT_TZ).date())
    return int((await ok(await mediator.post("/api/cases", json=payload), 201))["id"])


async def upload_agreement(mediator: aiohttp.ClientSession, case_id: int) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("category", "agreement")
    form.add_field("file", make_pdf(), filename="agreement.pdf", content_type="application/pdf")
    return dict(await ok(await mediator.post(f"/api/cases/{case_id}/materials", data=form), 201))


async def submitted_case(mediator: aiohttp.ClientSession) -> int:
    """A new application with its agreement, submitted to the court."""
    case_id = await new_case(mediator)
    await upload_agreement(mediator, case_id)
    await ok(await mediator.post(f"/api/cases/{case_id}/submit", json={}))
    return case_id


def serial_of(case_number: str) -> int:
    """123 of （2026）粤0311民特123号."""
    return CaseNumber.parse(case_number).serial
