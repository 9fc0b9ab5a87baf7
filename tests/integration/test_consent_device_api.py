"""The session state says where each party confirmed: at the room's kiosk or on their own
device, so the judge's console need not guess."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from integration.conftest import Sifa
from integration.ruling_flow import PASSED, ok, scheduled_case, seat_room
from integration.test_party_room import party_pass


async def _through_identity(sifa: Sifa) -> tuple[TestClient, TestClient, int, str]:
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    judge, kiosk = await sifa.as_user("judge"), await sifa.as_user("kiosk1")
    case_id = await scheduled_case(mediator, clerk)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await seat_room(judge, kiosk, case_id)
    url = f"/api/cases/{case_id}/session"
    for party in (0, 1):
        await ok(await judge.post(f"{url}/identity", json={"party": party, **PASSED}))
    return judge, kiosk, case_id, url


async def test_each_consent_names_its_device(sifa: Sifa) -> None:
    judge, kiosk, case_id, url = await _through_identity(sifa)
    headers = await party_pass(sifa, await sifa.as_user("mediator"), case_id, 1)
    device = await sifa.make_client(sifa.app)

    before = await ok(await judge.get(url))
    assert [p["consent_device"] for p in before["parties"]] == [None, None]

    await ok(await kiosk.post(f"{url}/warning-ack", json={"party": 0}))
    await ok(await kiosk.post(f"{url}/consent", json={"party": 0}))
    await ok(await device.post(f"{url}/warning-ack", json={}, headers=headers))
    await ok(await device.post(f"{url}/consent", json={}, headers=headers))

    for seen in (await ok(await judge.get(url)), await ok(await device.get(url, headers=headers))):
        parties = {p["position"]: p for p in seen["parties"]}
        assert parties[0]["consent_device"] == "kiosk" and parties[0]["consented_at"]
        assert parties[1]["consent_device"] == "own_device" and parties[1]["consented_at"]


async def test_the_field_is_documented(sifa: Sifa) -> None:
    client = await sifa.make_client(sifa.app)
    document = await ok(await client.get("/api/openapi.json"))
    get = document["paths"]["/api/cases/{case_id}/session"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    field = schema["properties"]["parties"]["items"]["properties"]["consent_device"]
    assert set(field["enum"]) == {"kiosk", "own_device", None}
