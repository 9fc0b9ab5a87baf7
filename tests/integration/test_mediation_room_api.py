"""The video mediation session through the API and real signaling sockets: the mediator hosts
the room (lobby, admit, remove); a kiosk of the committee's hall and a party's own phone (a code
texted to the phone on record buys its pass) join it; the mediator checks each party's identity
and each party makes their own three taps (consent, rights, the sham-mediation warning); every
draft the mediator saves reaches every screen in the room over signaling; a party asks for a
change, signs on their own phone, and is refused whatever is not theirs to do."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app.keys import SERVICES
from app.store.models import AgreementSignatureRow, AuditEvent, MediationCheckRow
from signaling.room_keys import mediation_room

from integration.conftest import Sifa
from integration.ruling_flow import Seat, ok
from integration.test_mediation_agreement_api import (
    DRAFT,
    every_check,
    handwriting,
    in_mediation,
    phones,
)
from integration.test_mediation_api import error_of
from integration.test_mediation_filing import texted_code

PASS = "X-Mediation-Pass"


async def phone_pass(sifa: Sifa, mediator: TestClient, mediation_id: int, party: int) -> str:
    """The mediator texts the party a code; the party's phone redeems it for a pass."""
    one = f"/api/mediations/{mediation_id}"
    sent = await ok(await mediator.post(f"{one}/join-code", json={"party": party}), 202)
    assert "****" in sent["sent_to"]
    phone = await sifa.make_client(sifa.app)
    code = await texted_code(sifa, phones(sifa)[party])
    joined = await ok(await phone.post(f"{one}/join", json={"party": party, "code": code}), 201)
    assert joined["party"] == party
    return str(joined["pass"])


def _db(sifa: Sifa) -> Any:
    return sifa.app[SERVICES].db.transaction()


def seat(client: TestClient, mediation_id: int, token: str | None = None) -> Seat:
    headers = {PASS: token} if token else {}
    path = f"/api/mediations/{mediation_id}/room-token"
    return Seat(client, mediation_room(mediation_id), headers=headers, token_path=path)


async def notice(seat_: Seat, changed: str, after: int) -> float:
    """Seconds until a "mediation" notice of this kind arrives after message `after`."""
    started = time.monotonic()
    while time.monotonic() - started < 5:
        if any(
            m.get("type") == "mediation" and m.get("changed") == changed
            for m in seat_.received[after:]
        ):
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {changed!r} notice: {seat_.received[after:]}")


async def test_a_video_mediation_from_lobby_to_a_signature_on_a_phone(sifa: Sifa) -> None:
    mediator, mediation_id = await in_mediation(sifa, checked=False)
    kiosk = await sifa.as_user("kiosk1")
    one = f"/api/mediations/{mediation_id}"
    token = await phone_pass(sifa, mediator, mediation_id, 1)
    phone = await sifa.make_client(sifa.app)
    on_phone = {"headers": {PASS: token}}

    # The mediator hosts: in at once. The kiosk and the phone wait in the lobby until admitted.
    host = await seat(mediator, mediation_id).join()
    assert host.admitted.is_set() and host.role == "mediator"
    at_kiosk = await seat(kiosk, mediation_id).join()
    party = await seat(phone, mediation_id, token).join()
    assert not at_kiosk.admitted.is_set() and not party.admitted.is_set()
    assert (at_kiosk.role, party.role, party.id) == ("kiosk", "party", f"party-m{mediation_id}-1")
    await host.admit(at_kiosk)
    await host.admit(party)

    # Checks: the mediator's identity check first, then each party's own taps, in order.
    checks = f"{one}/checks"
    early = await kiosk.post(checks, json={"party": 0, "check": "consent"})
    assert "调解员已通过视频核对" in (await error_of(early, 409, "wrong_state"))["message"]
    for_them = await mediator.post(checks, json={"party": 0, "check": "consent"})
    await error_of(for_them, 403, "forbidden")
    await ok(await mediator.post(checks, json={"party": 0, "check": "identity"}), 201)
    await ok(await mediator.post(checks, json={"party": 1, "check": "identity"}), 201)
    # The phone taps for its own party only; the kiosk not for a party on their own phone.
    other = await phone.post(checks, json={"party": 0, "check": "consent"}, **on_phone)
    assert "不能替另一方" in (await error_of(other, 403, "forbidden"))["message"]
    phones_party = await kiosk.post(checks, json={"party": 1, "check": "consent"})
    assert "自己的手机上" in (await error_of(phones_party, 403, "forbidden"))["message"]
    for check in ("consent", "rights", "sham_warning"):
        await ok(await kiosk.post(checks, json={"party": 0, "check": check}), 201)
        seen = len(host.received)
        view = await ok(
            await phone.post(checks, json={"party": 1, "check": check}, **on_phone), 201
        )
        assert await notice(host, "checks", seen) < 1.0
    again = await phone.post(checks, json={"party": 1, "check": "rights"}, **on_phone)
    await error_of(again, 409, "already_done")
    assert [p["ready"] for p in view["parties"]] == [True, True]
    assert [p["name"] for p in view["parties"]] == ["张某", "赵六"]  # the other's masked
    assert view["you"] == {"role": "party", "party": 1}
    async with _db(sifa) as session:
        rows = list(await session.scalars(select(MediationCheckRow)))
    assert {(r.party_position, r.check, r.device) for r in rows if r.party_position == 1} >= {
        (1, "consent", "当事人自己的手机"),
        (1, "identity", "调解员 李华"),
    }

    # The draft reaches every screen in the room within a second of each save.
    agreement = f"{one}/agreement"
    seen_kiosk, seen_phone = len(at_kiosk.received), len(party.received)
    await ok(await mediator.post(f"{agreement}/draft", json=DRAFT))
    assert await notice(at_kiosk, "agreement", seen_kiosk) < 1.0
    assert await notice(party, "agreement", seen_phone) < 1.0
    shown = await ok(await phone.get(agreement, **on_phone))
    assert shown["version"] == 1 and "肆万元整" in "".join(
        b.get("text", "") for b in shown["blocks"]
    )

    # The party cannot edit the draft; they ask for a change, which everyone sees.
    edit = await phone.post(f"{agreement}/draft", json={**DRAFT, "base_version": 1}, **on_phone)
    assert "提出修改意见" in (await error_of(edit, 403, "forbidden"))["message"]
    seen = len(host.received)
    asked = {"party": 1, "text": "请把履行期限改为分两期"}
    await ok(await phone.post(f"{one}/change-requests", json=asked, **on_phone), 201)
    assert await notice(host, "change_request", seen) < 1.0
    listed = (await ok(await mediator.get(f"{one}/session")))["change_requests"]
    assert [(c["party"], c["text"]) for c in listed] == [(1, "请把履行期限改为分两期")]
    by_other = await phone.post(f"{one}/change-requests", json={**asked, "party": 0}, **on_phone)
    await error_of(by_other, 403, "forbidden")

    # Frozen; the phone signs for its own party only, with the text it read.
    version = (await ok(await mediator.get(agreement)))["version"]
    digest = (await ok(await mediator.post(f"{agreement}/freeze", json={"version": version})))[
        "digest"
    ]
    mine = {"digest": digest, "signature": handwriting(1), "apply_for_confirmation": True}
    refused = await phone.post(
        f"{agreement}/party-signatures", json={**mine, "party": 0}, **on_phone
    )
    assert "不能替另一方签名" in (await error_of(refused, 403, "forbidden"))["message"]
    signed = await ok(
        await phone.post(f"{agreement}/party-signatures", json={**mine, "party": 1}, **on_phone),
        201,
    )
    assert signed["parties"][1]["signed"] and not signed["parties"][0]["signed"]
    async with _db(sifa) as session:
        row = await session.scalar(select(AgreementSignatureRow))
    assert (
        row is not None and row.device == "当事人自己的手机" and row.proof.startswith("pass:sms:")
    )

    # The mediator removes the phone: it cannot come back into this room.
    await host.ws.send_json({"type": "remove", "participant": party.id, "reason": "测试"})  # type: ignore[union-attr]
    await asyncio.sleep(0.3)
    door = await ok(await phone.post(f"{one}/room-token", json={}, **on_phone))
    ws = await phone.ws_connect("/ws")
    await ws.send_json(
        {"type": "join", "v": 1, "case_id": mediation_room(mediation_id), "token": door["token"]}
    )
    refusal = await ws.receive_json(timeout=10)
    await ws.close()
    assert (refusal["type"], refusal["code"]) == ("error", "removed"), refusal
    for s in (at_kiosk, host):
        await s.leave()

    # The room's trail says who came in, and who let them in.
    async with _db(sifa) as session:
        actions = set(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.case_id == mediation_room(mediation_id))
            )
        )
    assert {"room.join", "room.admit", "room.remove", "mediation.pass_issued"} <= actions


async def test_nobody_from_another_case_joins_and_a_phone_needs_its_code(sifa: Sifa) -> None:
    mediator, mediation_id = await in_mediation(sifa, checked=False)
    _, other_id = await in_mediation(sifa, checked=False)
    token = await phone_pass(sifa, mediator, other_id, 0)
    phone = await sifa.make_client(sifa.app)
    one = f"/api/mediations/{mediation_id}"
    # A pass to another mediation opens nothing here.
    for method, path in (("post", "room-token"), ("get", "session"), ("get", "agreement")):
        answer = await getattr(phone, method)(f"{one}/{path}", headers={PASS: token})
        await error_of(answer, 404, "not_found")
    # Nor does a room token for another mediation's room.
    door = await ok(
        await phone.post(f"/api/mediations/{other_id}/room-token", headers={PASS: token})
    )
    ws = await phone.ws_connect("/ws")
    await ws.send_json(
        {"type": "join", "v": 1, "case_id": mediation_room(mediation_id), "token": door["token"]}
    )
    refusal = await ws.receive_json(timeout=10)
    await ws.close()
    assert (refusal["type"], refusal["code"]) == ("error", "token_wrong_case"), refusal
    # Another committee's mediator and kiosk, and a judge, are not let in.
    for username in ("mediator_ns", "kiosk_ns1", "judge"):
        stranger = await sifa.as_user(username)
        answer = await stranger.post(f"{one}/room-token", json={})
        assert answer.status in (403, 404), (username, answer.status)
    # A wrong code buys nothing, a forged pass is refused, and no pass at all asks to log in.
    await ok(await mediator.post(f"{one}/join-code", json={"party": 0}), 202)
    wrong = await phone.post(f"{one}/join", json={"party": 0, "code": "000000"})
    assert wrong.status in (400, 403, 409, 422), wrong.status
    await error_of(
        await phone.get(f"{one}/session", headers={PASS: token + "x"}), 401, "unauthenticated"
    )
    await error_of(await phone.get(f"{one}/session"), 401, "unauthenticated")
    # A party's phone cannot text codes: that is the mediator's.
    await error_of(
        await phone.post(f"{one}/join-code", json={"party": 1}, headers={PASS: token}),
        401,
        "unauthenticated",
    )


async def test_a_party_signs_only_after_every_check(sifa: Sifa) -> None:
    mediator, mediation_id = await in_mediation(sifa, checked=False)
    kiosk = await sifa.as_user("kiosk1")
    token = await phone_pass(sifa, mediator, mediation_id, 1)
    phone = await sifa.make_client(sifa.app)
    agreement = f"/api/mediations/{mediation_id}/agreement"
    await ok(await mediator.post(f"{agreement}/draft", json=DRAFT))
    digest = (await ok(await mediator.post(f"{agreement}/freeze", json={"version": 1})))["digest"]
    mine = {
        "party": 1,
        "digest": digest,
        "signature": handwriting(1),
        "apply_for_confirmation": True,
    }
    early = await phone.post(f"{agreement}/party-signatures", json=mine, headers={PASS: token})
    assert "尚未完成" in (await error_of(early, 409, "wrong_state"))["message"]
    await every_check(mediator, kiosk, mediation_id, range(1))
    path = f"/api/mediations/{mediation_id}/checks"
    await ok(await mediator.post(path, json={"party": 1, "check": "identity"}), 201)
    for check in ("consent", "rights", "sham_warning"):
        await ok(
            await phone.post(path, json={"party": 1, "check": check}, headers={PASS: token}), 201
        )
    await ok(
        await phone.post(f"{agreement}/party-signatures", json=mine, headers={PASS: token}), 201
    )
    # Checks belong to the session: none once the mediation has ended.
    sifa.clock.now += dt.timedelta(minutes=1)
    await ok(
        await mediator.post(f"/api/mediations/{mediation_id}/fail", json={"note": "未能达成一致"})
    )
    late = await mediator.post(path, json={"party": 0, "check": "identity"})
    await error_of(late, 403, "forbidden")
