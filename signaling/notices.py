"""What the server itself says into its rooms (a recording's state to the host, a mediation's
change to every seat), and what it tells of a room from the outside (its snapshot): on this
node, or on whichever node hosts the room."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from signaling.cluster import RemoteError
from signaling.hub import Hub
from signaling.live import LiveRoom
from signaling.messages import dump

if TYPE_CHECKING:
    from signaling.cluster import ClusterNode

log = logging.getLogger(__name__)


class ServerNotices:
    """Part of SignalingServer: its rooms, hub and cluster are the server's."""

    rooms: dict[int, LiveRoom]
    hub: Hub
    cluster: ClusterNode | None

    def tell_judge(self, case_id: int, message: Mapping[str, object]) -> bool:
        """Send a server notice (e.g. type "recording") to the host's seat (the judge, or a
        mediation room's mediator), numbered like any room message, so a host who is away gets
        it on resume. False: no host seat."""
        live = self.rooms.get(case_id)
        if live is None:
            return False
        host = live.room.host_participant_id
        if host not in live.room.seats:
            return False
        return self.hub.publish(case_id, host, dump(message), asyncio.get_running_loop().time())

    def tell_room(self, case_id: int, message: Mapping[str, object]) -> int:
        """Send a server notice (e.g. type "agreement": the draft changed) to every seat in
        the room, numbered like any room message: how many seats it went to."""
        live = self.rooms.get(case_id)
        if live is None:
            return 0
        body, now = dump(message), asyncio.get_running_loop().time()
        return sum(
            1
            for pid, seat in live.room.seats.items()
            if not seat.hidden and self.hub.publish(case_id, pid, body, now)
        )

    async def tell_room_anywhere(self, case_id: int, message: Mapping[str, object]) -> int:
        """tell_room on whichever node hosts the room. A node that cannot be asked is logged:
        every page also reads the state itself when it (re)connects."""
        if self.cluster is None or case_id in self.rooms:
            return self.tell_room(case_id, message)
        try:
            owner = await self.cluster.bus.owner(case_id)
            if owner is None or owner == self.cluster.name:
                return 0
            args = {"case_id": case_id, "message": dict(message)}
            return int(await self.cluster.call(owner, "room.tell", args))
        except (RemoteError, RedisError, OSError) as exc:
            log.warning("room %s: notice not delivered on its node (%s)", case_id, exc)
            return 0

    def snapshot(self, case_id: int) -> dict[str, object] | None:
        live = self.rooms.get(case_id)
        if live is None:
            return None
        now = asyncio.get_running_loop().time()
        return {
            "case_id": case_id,
            "participants": [seat.presence() for seat in live.room.seats.values()],
            "quality": {
                pid: seat.quality.level
                for pid, seat in live.room.seats.items()
                if seat.quality is not None
            },
            # Seconds since each seat's last stats report, on this node's own clock (the one
            # reports are stamped with), so a caller on another node needs no common clock.
            "stats_age": {
                pid: round(now - seat.quality.reported_at, 3)
                for pid, seat in live.room.seats.items()
                if seat.quality is not None
            },
        }

    async def snapshot_anywhere(self, case_id: int) -> dict[str, object] | None:
        """The room's snapshot from the node that hosts it (this one with a single node)."""
        if self.cluster is None or case_id in self.rooms:
            return self.snapshot(case_id)
        owner = await self.cluster.bus.owner(case_id)
        if owner is None or owner == self.cluster.name:
            return None
        found = await self.cluster.call(owner, "room.snapshot", {"case_id": case_id})
        return found if isinstance(found, dict) else None
