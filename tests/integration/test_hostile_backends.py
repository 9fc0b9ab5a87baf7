"""The hostile inputs that used to fail inside a database, on SQLite and PostgreSQL alike: a
number past the key's range, a NUL (which PostgreSQL cannot store), a lone surrogate (which
no driver can encode). Each is refused before it reaches the store, with the error shape."""

from __future__ import annotations

import json

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.test_transcript_archive import sifa_on

__all__ = ["sifa_on"]

JSON = {"Content-Type": "application/json"}


async def test_hostile_values_never_reach_the_database(sifa_on: Sifa) -> None:
    sifa = sifa_on
    anonymous = await sifa.make_client(sifa.app)
    surrogate = b'{"username": "\\ud800", "password": "x"}'
    await error_of(
        await anonymous.post("/api/login", data=surrogate, headers=JSON), 400, "bad_text"
    )
    nul = json.dumps({"username": "judge\u0000", "password": "x"}).encode()
    await error_of(await anonymous.post("/api/login", data=nul, headers=JSON), 400, "bad_text")
    assert (await anonymous.get("/verify/%00")).status == 400

    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    case_id = (await (await mediator.get("/api/cases")).json())["cases"][0]["id"]
    for raw in ("2147483648", "9223372036854775808", "99999999999999999999"):
        await error_of(await mediator.get(f"/api/cases/{raw}"), 404, "not_found")
        await error_of(await mediator.post(f"/api/cases/{raw}/submit"), 404, "not_found")
    accept = f"/api/cases/{case_id}/accept"
    for judge_id in (2**31, 2**62):
        await error_of(
            await clerk.post(accept, json={"judge_id": judge_id}), 422, "validation_failed"
        )
    await error_of(await clerk.get("/api/rulings?party=%00"), 400, "bad_text")
    admin = await sifa.as_user("admin")
    await error_of(
        await admin.post("/api/admin/accounts/2147483648/active", json={"active": False}),
        404,
        "not_found",
    )
