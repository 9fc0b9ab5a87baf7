"""Driving a case through the API from application to a decision, for ruling tests."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import weakref
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from reportlab.pdfgen import canvas

from app.domain.clock import COURT_TZ
from app.domain.grounds import RejectGround
from app.domain.roles import Role
from app.keys import SERVICES
from app.services import accounts
from app.services.demo import sample_application
from app.store.models import Committee, Court

from integration.conftest import Sifa


def small_pdf(text: str = "mediation agreement") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 700, text)
    page.save()
    return buffer.getvalue()


async def ok(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def sign_for(
    device: TestClient, case_id: int, party: int | None, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    """A party's two taps at service: yes to electronic service (its own tap, once), then the
    receipt. Returns the receipt's response; the first tap's refusal, if any, is the receipt's
    too (the same caller, case and party)."""
    body = {} if party is None else {"party": party}
    choice = await device.post(
        f"/api/cases/{case_id}/service/choice", json={**body, "electronic": True}, headers=headers
    )
    choice.release()
    return await device.post(f"/api/cases/{case_id}/receipts", json=body, headers=headers)


async def review_transcript(
    device: TestClient,
    case_id: int,
    parties: tuple[int | None, ...] = (0, 1),
    headers: dict[str, str] | None = None,
) -> Any:
    """Each party reads the transcript's draft and confirms it (民事诉讼法 art 150), at the
    kiosk (naming the party) or on its own device (party None); the last draft state."""
    url = f"/api/cases/{case_id}/transcript"
    state = await ok(await device.get(f"{url}/draft", headers=headers))
    for party in parties:
        body = {"draft_sha256": state["sha256"], **({} if party is None else {"party": party})}
        state = await ok(await device.post(f"{url}/confirm", json=body, headers=headers))
    return state


async def accepted_case(
    mediator: TestClient,
    clerk: TestClient,
    application: dict[str, Any] | None = None,
    submitted: int | None = None,
) -> tuple[int, dict[str, Any]]:
    """A case filed with its agreement, submitted and accepted: its id and the court's people.
    `submitted`: a case already submitted (one made from a mediation), accepted here."""
    case_id = submitted or await submitted_case(mediator, application)
    people = await ok(await clerk.get("/api/court/people"))
    await ok(
        await clerk.post(
            f"/api/cases/{case_id}/accept", json={"judge_id": people["judges"][0]["id"]}
        )
    )
    return case_id, people


async def submitted_case(mediator: TestClient, application: dict[str, Any] | None = None) -> int:
    payload = application or sample_application(dt.datetime.now(COURT_TZ).date())
    case_id = (await ok(await mediator.post("/api/cases", json=payload), 201))["id"]
    form = aiohttp.FormData()
    form.add_field("category", "agreement")
    form.add_field("file", small_pdf(), filename="agreement.pdf", content_type="application/pdf")
    await ok(await mediator.post(f"/api/cases/{case_id}/materials", data=form), 201)
    await ok(await mediator.post(f"/api/cases/{case_id}/submit", json={}))
    return int(case_id)


async def scheduled_case(
    mediator: TestClient,
    clerk: TestClient,
    *,
    room_index: int = 0,
    hours: int = 1,
    application: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    submitted: int | None = None,
) -> int:
    case_id, people = await accepted_case(mediator, clerk, application, submitted)
    when = at or dt.datetime.now(COURT_TZ) + dt.timedelta(hours=hours)
    await ok(
        await clerk.post(
            f"/api/cases/{case_id}/schedule",
            json={"room_id": people["rooms"][room_index]["id"], "scheduled_at": when.isoformat()},
        )
    )
    return int(case_id)


# -- seats in the video room --------------------------------------------------------------------
# Identity checks, answers and decisions are refused unless the people they concern are in the
# room with media as the server sees it. Tests that are not about media seat a light client:
# it joins, is admitted by the judge's socket and reports `stats` (call.js: every 5 s), which
# the server counts as media seen. Tests about media use real aiortc peers
# (test_presence_media.py).
STATS_EVERY = 3.0
_ENDED = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.ERROR,
)


@dataclass
class Seat:
    """One participant's socket: joins, answers pings, reports stats once admitted."""

    client: TestClient
    case_id: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    stats: bool = True  # False: a device whose media the server never sees
    token_path: str = ""  # where the room token comes from: a case's, unless a mediation's
    id: str = ""
    role: str = ""
    resume_token: str = ""
    admitted: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[dict[str, Any]] = field(default_factory=list)
    ws: aiohttp.ClientWebSocketResponse | None = None
    task: asyncio.Task[None] | None = None
    _pong: asyncio.Event = field(default_factory=asyncio.Event)

    async def join(self) -> Seat:
        path = self.token_path or f"/api/cases/{self.case_id}/room-token"
        # The e2e tests' bearer client (tests/e2e/test_ruling_pages.Api) takes no headers.
        extra = {"headers": self.headers} if self.headers else {}
        door = await ok(await self.client.post(path, json=self.body, **extra))
        self.id, self.role = door["participant_id"], door["role"]
        self.ws = await self.client.ws_connect("/ws")
        await self.ws.send_json(
            {"type": "join", "v": 1, "case_id": self.case_id, "token": door["token"]}
        )
        welcome = await self.ws.receive_json(timeout=10)
        assert welcome["type"] == "welcome", welcome
        self.resume_token = welcome["resume_token"]
        if welcome["you"]["admitted"]:
            self.admitted.set()
        self.task = asyncio.create_task(self._run(self.ws))
        if self.admitted.is_set():
            await self.report()
        return self

    async def _run(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not ws.closed:
                try:
                    msg = await ws.receive(timeout=STATS_EVERY)
                except TimeoutError:
                    if self.admitted.is_set():
                        await self._stats(ws)
                    continue
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    if msg.type in _ENDED:
                        return
                    continue
                data = json.loads(msg.data)
                self.received.append(data)
                if data["type"] == "admitted":
                    self.admitted.set()
                elif data["type"] == "pong":
                    self._pong.set()

    async def _stats(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        if not self.stats:
            return
        await ws.send_json({"type": "stats", "packet_loss": 0.0, "rtt_ms": 20, "bitrate_kbps": 300})

    async def report(self) -> None:
        """A stats report, known to be processed: the server answers a ping after it."""
        assert self.ws is not None
        self._pong.clear()
        await self._stats(self.ws)
        await self.ws.send_json({"type": "ping"})
        await asyncio.wait_for(self._pong.wait(), 10)

    async def admit(self, other: Seat) -> None:
        """As the judge: let `other` in from the lobby, and wait until its media is seen."""
        assert self.ws is not None
        await self.ws.send_json({"type": "admit", "participant": other.id})
        await asyncio.wait_for(other.admitted.wait(), 10)
        await other.report()

    async def drop(self) -> None:
        """Lose the socket without a leave: the seat is kept for its grace period."""
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            with contextlib.suppress(BaseException):
                await self.task

    async def close_quietly(self) -> None:
        """Leave if the socket is still open; whatever state the server is in, end the reader."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.leave(), 2)
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task

    async def leave(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_json({"type": "leave"})
            await self.ws.close()
        if self.task is not None:
            with contextlib.suppress(BaseException):
                await self.task


@dataclass
class Room:
    judge: Seat
    kiosk: Seat | None


# Per judge client, by case: the room stays seated from the first record to the decision.
_ROOMS: weakref.WeakKeyDictionary[TestClient, dict[int, Room]] = weakref.WeakKeyDictionary()


async def seat_room(judge: TestClient, kiosk: TestClient | None, case_id: int) -> Room:
    """The judge in the room, and the kiosk (if any) admitted with media seen. Idempotent."""
    rooms = _ROOMS.setdefault(judge, {})
    room = rooms.get(case_id)
    if room is not None and room.judge.ws is not None and not room.judge.ws.closed:
        return room
    judge_seat = await Seat(judge, case_id).join()
    kiosk_seat = None
    if kiosk is not None:
        kiosk_seat = await Seat(kiosk, case_id).join()
        await judge_seat.admit(kiosk_seat)
    room = rooms[case_id] = Room(judge_seat, kiosk_seat)
    return room


async def leave_all_rooms() -> None:
    """After a test: every seat still held leaves and its reader stops, so no socket or task
    outlives the test's event loop (the seats are kept across calls on purpose)."""
    for rooms in list(_ROOMS.values()):
        while rooms:
            _, room = rooms.popitem()
            for seat in (room.kiosk, room.judge):
                if seat is not None:
                    await seat.close_quietly()


async def leave_room(judge: TestClient, case_id: int) -> None:
    room = _ROOMS.get(judge, {}).pop(case_id, None)
    if room is not None:
        for seat in (room.kiosk, room.judge):
            if seat is not None:
                await seat.leave()


PASSED = {"method": "id_card_camera", "result": "passed", "note": "与身份证原件一致"}
ALL_ABSENT = {"items": {g.value: {"present": False} for g in RejectGround}}


async def record_session(
    judge: TestClient,
    kiosk: TestClient,
    case_id: int,
    *,
    parties: int = 2,
    agreed: bool = True,
    seated: bool = False,
) -> Any:
    """What the judge and the kiosk record before a decision: identity, consent, review. The
    judge and the kiosk are seated in the video room first (seat_room) and stay there."""
    session = f"/api/cases/{case_id}/session"
    await ok(
        await kiosk.post(
            f"{session}/check-in", json={"camera": True, "microphone": True, "network": True}
        )
    )
    if not seated:  # True: the caller's own peers (real media) are already in the room
        await seat_room(judge, kiosk, case_id)
    await ok(await judge.post(f"{session}/admit", json={}))
    for party in range(parties):
        await ok(await judge.post(f"{session}/identity", json={"party": party, **PASSED}))
        await ok(await kiosk.post(f"{session}/warning-ack", json={"party": party}))
        await ok(await kiosk.post(f"{session}/consent", json={"party": party}))
        answers = {"agreed_freely": agreed or party > 0, "understands": True}
        await ok(await judge.post(f"{session}/answers", json={"party": party, **answers}))
    return await ok(await judge.post(f"{session}/review", json=ALL_ABSENT))


async def decided_case(
    mediator: TestClient,
    clerk: TestClient,
    judge: TestClient,
    decision: dict[str, Any],
    *,
    kiosk: TestClient | None = None,
    **kw: Any,
) -> int:
    """A case decided in session; withdrawal needs no records, the other decisions do."""
    case_id = await scheduled_case(mediator, clerk, **kw)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    if decision["decision"] != "withdraw":
        assert kiosk is not None, "a confirmation or rejection needs the room's kiosk"
        agreed = decision.get("ground") != "not_voluntary"
        await record_session(judge, kiosk, case_id, agreed=agreed)
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json=decision))
    if kiosk is not None and decision["decision"] != "withdraw":
        await review_transcript(kiosk, case_id)
    return case_id


async def people(sifa: Sifa) -> tuple[TestClient, TestClient, TestClient, TestClient]:
    """Mediator, clerk, judge and the kiosk of the room cases are booked into, logged in."""
    return (
        await sifa.as_user("mediator"),
        await sifa.as_user("clerk"),
        await sifa.as_user("judge"),
        await sifa.as_user("kiosk1"),
    )


async def add_other_court_clerk(sifa: Sifa) -> TestClient:
    """A clerk of another court (宝安, 粤0306), logged in: sees none of this court's cases."""
    async with sifa.app[SERVICES].db.transaction() as session:
        court = Court(name="深圳市宝安区人民法院", code="粤0306")
        session.add(court)
        await session.flush()
        session.add(Committee(name="新安街道人民调解委员会", court_id=court.id))
        await session.flush()
        await accounts.add_account(
            session,
            username="clerk_ba",
            password="violet-lantern-river-2",
            role=Role.CLERK,
            display_name="宝安书记员",
            binding=accounts.Binding(court="粤0306"),
            now=sifa.clock.now,
        )
    return await sifa.as_user("clerk_ba", "violet-lantern-river-2")
