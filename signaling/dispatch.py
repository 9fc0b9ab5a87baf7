"""What a seated connection's messages do: the same for a WebSocket, a bridged socket on
another node, and the server's own recorder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from signaling.live import LiveRoom, Peer, Refused
from signaling.messages import (
    PONG,
    Admit,
    ClientMessage,
    Join,
    Leave,
    Ping,
    Remove,
    Resume,
    Signal,
    Stats,
    error,
    sender_prefix,
    signal_body,
)
from signaling.room import RoomError

if TYPE_CHECKING:
    from signaling.server import SignalingServer

_TYPE_NAMES: dict[type, str] = {
    Join: "join",
    Resume: "resume",
    Admit: "admit",
    Remove: "remove",
    Signal: "signal",
    Stats: "stats",
    Leave: "leave",
    Ping: "ping",
}


class Seated(Protocol):
    """What dispatch needs of a connection: a WebSocket one, or the server's own recorder."""

    live: LiveRoom | None
    participant_id: str | None
    from_prefix: str

    def write(self, text: str) -> None: ...


def dispatch(server: SignalingServer, conn: Seated, message: ClientMessage, now: float) -> None:
    """Act on one parsed message from a seated connection."""
    live, sender = conn.live, conn.participant_id
    if live is None or sender is None:
        return
    room = live.room
    try:
        if type(message) is Signal:
            room.check_signal(sender, message.to)
            prefix = conn.from_prefix
            if not prefix:
                prefix = conn.from_prefix = sender_prefix(sender)
            server.hub.publish(live.case_id, message.to, signal_body(prefix, message), now)
        elif type(message) is Stats:
            live.apply(
                room.report(sender, message.packet_loss, message.rtt_ms, message.bitrate_kbps, now),
                now,
            )
        elif type(message) is Ping:
            conn.write(PONG)
        elif isinstance(message, Admit):
            live.apply(room.admit(sender, message.participant, now), now)
        elif isinstance(message, Remove):
            live.removed(sender, message.participant, message.reason, now)
        elif isinstance(message, Leave):
            live.left(sender, now)
        else:
            conn.write(error("already_joined", "this connection already has a seat"))
    except RoomError as exc:
        conn.write(error(exc.code, exc.message, _TYPE_NAMES.get(type(message))))


async def take_seat(
    server: SignalingServer, conn: Peer, message: ClientMessage, now: float
) -> None:
    """A connection's first message, on the node hosting the room: Refused if no seat."""
    if isinstance(message, Join):
        await server.join(conn, message, now)
    elif isinstance(message, Resume):
        await server.resume(conn, message, now)
    else:
        raise Refused("not_joined", "the first message must be join or resume")
