"""One live room: the pure Room plus mailboxes, sockets, the grace timer and the audit feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from signaling.authority import RoomInfo
from signaling.hub import Hub
from signaling.mailbox import Mailbox, ReplayBudget, ReplayLimits
from signaling.messages import dump
from signaling.room import AuditEvent, Outcome, Room, Thresholds

log = logging.getLogger(__name__)

# Close codes (docs/protocol.md): 1012/1013 send the client back in, 4xxx are final.
# Why a resume failed, said as it is: the room is not held here at all (the server restarted,
# or the room ended), or the room is but the seat is not (the grace period passed, or the seat
# was removed). Either way a fresh join brings the client back.
NO_ROOM = (
    "服务器上没有该视频确认室（服务器可能已重新启动），请重新加入。 / This server holds no such "
    "room (it may have restarted): join again."
)
NO_SEAT = (
    "该席位已不再保留（断开超过宽限时间，或已被移出），请重新加入。 / The seat is no longer held "
    "(the grace period passed, or it was removed): join again."
)
CLOSE_MOVED = 1012  # another node hosts the room now
CLOSE_TRY_AGAIN = 1013  # the directory is unreachable, or the server is restarting
CLOSE_REFUSED = 4001
CLOSE_REMOVED = 4002
CLOSE_REPLACED = 4003
CLOSE_LEFT = 4009
CLOSE_OVER = 4010  # the hearing is over: the room is closed for good


class Refused(Exception):
    """A join or resume that gets no seat. The close code tells the client whether to retry:
    4001 is final; 1012/1013 (room moved, directory unreachable) send it back in."""

    def __init__(self, code: str, message: str, *, close_code: int = CLOSE_REFUSED) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.close_code = close_code


class Peer(Protocol):
    """The socket side of a seat, as the room sees it."""

    live: LiveRoom | None
    participant_id: str | None

    def write(self, text: str) -> None: ...

    def close_soon(self, code: int, reason: str) -> None: ...


class LiveRoom:
    def __init__(
        self,
        info: RoomInfo,
        *,
        hub: Hub,
        grace_seconds: float,
        thresholds: Thresholds,
        replay: ReplayLimits,
        budget: ReplayBudget,
        record: Callable[[int, AuditEvent], None],
        on_empty: Callable[[LiveRoom], None],
        on_change: Callable[[LiveRoom], None] | None = None,
    ) -> None:
        self.case_id = info.case_id
        self.room = Room(
            info.case_id,
            info.room_name,
            info.host_participant_id,
            grace_seconds=grace_seconds,
            thresholds=thresholds,
            host_role=info.host_role,
        )
        self._hub = hub
        self._replay = replay
        self._budget = budget
        self._record = record
        self._on_empty = on_empty
        self._on_change = on_change
        # Set while the room is handed to another node: nothing here may save or reseat it.
        self.moving = False
        self.mailboxes: dict[str, Mailbox] = {}
        self.peers: dict[str, Peer] = {}
        self._expiry: asyncio.TimerHandle | None = None

    # -- delivery --------------------------------------------------------

    def apply(self, outcome: Outcome, now: float) -> None:
        bodies: dict[int, str] = {}
        for notice in outcome.notices:
            # A broadcast shares one dict: serialise it once for all recipients.
            key = id(notice.message)
            body = bodies.get(key)
            if body is None:
                body = bodies[key] = dump(notice.message)
            self._hub.publish(self.case_id, notice.to, body, now)
        for event in outcome.audit:
            self._record(self.case_id, event)
        # Every change of membership is audited, and only those: the cue to save the room.
        if outcome.audit and self._on_change is not None and not self.moving:
            self._on_change(self)

    def restore(self, room: Room, seqs: dict[str, int]) -> None:
        """Take over a room from the node that hosted it: its seats wait for their resumes,
        and each seat's messages carry on from the number its client last saw."""
        self.room = room
        for participant_id, seq in seqs.items():
            mailbox = self.mailboxes[participant_id] = Mailbox(self._replay, self._budget)
            mailbox.seq = seq
            self._hub.attach(self.case_id, participant_id, mailbox)
        self._schedule_expiry()

    def evict(self, code: int, reason: str) -> None:
        """Close every socket of the room without dropping their seats (the room moves)."""
        self.moving = True
        for peer in list(self.peers.values()):
            peer.live = None
            peer.close_soon(code, reason)
        self.close()

    def end(self, reason: str, now: float) -> list[str]:
        """Close the room for good (the hearing is over): each seat leaves on the record, and
        every socket is told so with 4010, after which no client resumes or joins again.
        Returns the seats that were held."""
        self.moving = True  # closed for good: like a room handed on, nothing may save it now
        seated = list(self.room.seats)
        for participant_id in seated:
            self.apply(self.room.leave(participant_id, now), now)
        for peer in list(self.peers.values()):
            peer.live = None
            peer.close_soon(CLOSE_OVER, reason)
        self.peers.clear()
        self.close()
        return seated

    def seat(self, peer: Peer, participant_id: str) -> Mailbox:
        """Put peer on the seat's mailbox, replacing any older socket for it."""
        mailbox = self.mailboxes.get(participant_id)
        if mailbox is None:
            mailbox = self.mailboxes[participant_id] = Mailbox(self._replay, self._budget)
            self._hub.attach(self.case_id, participant_id, mailbox)
        old = self.peers.get(participant_id)
        if old is not None and old is not peer:
            old.live = None
            old.close_soon(CLOSE_REPLACED, "replaced by a newer connection")
        self.peers[participant_id] = peer
        mailbox.sink = peer
        peer.live = self
        peer.participant_id = participant_id
        return mailbox

    def forget(self, participant_id: str, code: int, reason: str) -> None:
        mailbox = self.mailboxes.pop(participant_id, None)
        if mailbox is None:
            return
        self._hub.detach(self.case_id, participant_id, mailbox)
        mailbox.sink = None
        mailbox.release()
        peer = self.peers.pop(participant_id, None)
        if peer is not None:
            peer.live = None
            peer.close_soon(code, reason)
        if self.room.empty:
            self._cancel_expiry()
            self._on_empty(self)

    # -- socket events ---------------------------------------------------

    def disconnected(self, peer: Peer, now: float) -> None:
        participant_id = peer.participant_id
        peer.live = None
        if participant_id is None or participant_id not in self.room.seats:
            return
        mailbox = self.mailboxes.get(participant_id)
        if mailbox is not None:
            mailbox.sink = None
        self.peers.pop(participant_id, None)
        self.apply(self.room.drop(participant_id, now), now)
        self._schedule_expiry()

    def left(self, participant_id: str, now: float) -> None:
        self.apply(self.room.leave(participant_id, now), now)
        self.forget(participant_id, CLOSE_LEFT, "left")

    def removed(self, actor_id: str, target_id: str, reason: str, now: float) -> None:
        self.apply(self.room.remove(actor_id, target_id, reason, now), now)
        self.forget(target_id, CLOSE_REMOVED, "removed by the judge")

    # -- grace -----------------------------------------------------------

    def _schedule_expiry(self) -> None:
        due = self.room.expiry_due()
        self._cancel_expiry()
        if due is None:
            return
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_at(due + 0.001, self._expire)

    def _cancel_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def _expire(self) -> None:
        self._expiry = None
        now = asyncio.get_running_loop().time()
        before = set(self.room.seats)
        self.apply(self.room.expire(now), now)
        for participant_id in before - set(self.room.seats):
            self.forget(participant_id, CLOSE_LEFT, "grace period over")
        if not self.room.empty:
            self._schedule_expiry()

    def resumed(self) -> None:
        self._schedule_expiry()

    def close(self) -> None:
        self._cancel_expiry()
        for participant_id, mailbox in list(self.mailboxes.items()):
            self._hub.detach(self.case_id, participant_id, mailbox)
            mailbox.release()
        self.mailboxes.clear()
        self.peers.clear()
