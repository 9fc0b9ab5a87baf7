"""Which server records a case when there are several: the one hosting the case's room.

The recorder is a participant of the room, inside the server that hosts it, so a start asked
of any server is carried out by the host; a stop or restart goes to the server that holds
the live run (the database names it). A run whose server is gone (killed) is ended in the
database as lost; its files stay for that server's start-up sweep. With one server every call
goes straight to the local Recordings.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from app.domain.errors import Conflict, Unavailable
from app.recording.service import Recordings
from signaling.cluster import ClusterNode, RemoteError
from signaling.live import Refused

log = logging.getLogger(__name__)


class RecordingControl:
    def __init__(self, recordings: Recordings, cluster: ClusterNode | None) -> None:
        self.recordings = recordings
        self.cluster = cluster
        if cluster is not None:
            cluster.handlers["recording.start"] = self._remote_start
            cluster.handlers["recording.stop"] = self._remote_stop
            cluster.handlers["recording.restart"] = self._remote_restart
            cluster.handlers["recording.failure"] = self._remote_failure
            cluster.server.on_adopt.append(self._adopted)
        recordings.server.on_open.append(self._opened)

    @property
    def node(self) -> str:
        return self.recordings.config.node

    # -- the verbs, from any server -----------------------------------------------------------

    async def start(self, case_id: int, by: str) -> int:
        if self.cluster is None:
            return await self.recordings.start(case_id, by)
        host = await self._host(case_id)
        await self._settle_elsewhere(case_id, keep=host)
        return int(await self._on(host, "recording.start", case_id=case_id, by=by))

    async def stop(self, case_id: int, reason: str, by: str) -> None:
        if self.cluster is None:
            await self.recordings.stop(case_id, reason, by)
            return
        node = await self.recordings.live_node(case_id)
        if node is None:
            await self.recordings.stop(case_id, reason, by)  # nothing live in the database
        elif node == self.node or await self._alive(node):
            await self._on(node, "recording.stop", case_id=case_id, reason=reason, by=by)
        else:
            await self.recordings.end_lost(case_id, node)

    async def restart(self, case_id: int, by: str) -> int:
        if self.cluster is None:
            return await self.recordings.restart(case_id, by)
        host = await self._host(case_id)
        await self._settle_elsewhere(case_id, keep=host)
        return int(await self._on(host, "recording.restart", case_id=case_id, by=by))

    async def live_failure(self, case_id: int) -> tuple[bool, str | None]:
        """Is a run live right now, and has it failed (before its failure is in the database)?"""
        run = self.recordings.runs.get(case_id)
        if run is not None or self.cluster is None:
            return run is not None, None if run is None else run.failure
        node = await self.recordings.live_node(case_id)
        if node is None or not await self._alive(node):
            return False, None
        try:
            answer = await self._on(node, "recording.failure", case_id=case_id)
        except Unavailable:
            # The recording server cannot be asked just now (Redis lost, say): a status read
            # shows what the database says, a live run, rather than failing the page.
            return True, None
        return bool(answer["live"]), answer["failure"]

    # -- helpers ------------------------------------------------------------------------------

    async def _host(self, case_id: int) -> str:
        assert self.cluster is not None
        try:
            return await self.cluster.route(case_id)
        except Refused as exc:
            raise Unavailable(
                "暂时无法联系确认室所在的服务器，请稍后重试。 / The server hosting the room "
                f"cannot be reached just now ({exc.code}); try again."
            ) from None

    async def _alive(self, node: str) -> bool:
        assert self.cluster is not None
        try:
            return await self.cluster.bus.alive(node)
        except Exception:
            return True  # unknown: never end another server's run on a guess

    async def _settle_elsewhere(self, case_id: int, *, keep: str) -> None:
        """A live run on a server other than the room's host: stop it there, or end it as lost
        if that server is gone, so the host's run is the only one."""
        node = await self.recordings.live_node(case_id)
        if node is None or node == keep:
            return
        if await self._alive(node):
            await self._on(node, "recording.stop", case_id=case_id, reason="moved", by="recorder")
        else:
            await self.recordings.end_lost(case_id, node)

    async def _on(self, node: str, op: str, **args: Any) -> Any:
        assert self.cluster is not None
        try:
            return await self.cluster.call(node, op, args)
        except RemoteError as exc:
            if exc.code == "already_recording":
                raise Conflict(exc.message, code="already_recording") from None
            raise Unavailable(
                f"录像服务器 {node} 未能完成操作，请稍后重试。 / The recording server {node} "
                f"could not carry out {op} ({exc.code}): try again."
            ) from None

    # -- what this server does when asked -----------------------------------------------------

    async def _remote_start(self, args: dict[str, Any]) -> int:
        return await self.recordings.start(int(args["case_id"]), str(args["by"]))

    async def _remote_stop(self, args: dict[str, Any]) -> None:
        await self.recordings.stop(int(args["case_id"]), str(args["reason"]), str(args["by"]))

    async def _remote_restart(self, args: dict[str, Any]) -> int:
        return await self.recordings.restart(int(args["case_id"]), str(args["by"]))

    async def _remote_failure(self, args: dict[str, Any]) -> dict[str, Any]:
        run = self.recordings.runs.get(int(args["case_id"]))
        return {"live": run is not None, "failure": None if run is None else run.failure}

    def _adopted(self, case_id: int) -> None:
        """This server took the room over (its host stopped or died): record on here if the
        hearing was being recorded there."""
        self.recordings.spawn(self._carry_on(case_id))

    def _opened(self, case_id: int) -> None:
        """The room opened afresh here: if the hearing's recording ended because a server
        stopped or died under it (a restart), it starts again by itself."""
        self.recordings.spawn(self._carry_on(case_id, after_restart=True))

    async def _carry_on(self, case_id: int, *, after_restart: bool = False) -> None:
        try:
            await self.recordings.carry_on(case_id, after_restart=after_restart)
        except Exception:
            log.exception("case %s: the recording could not go on on this server", case_id)


RECORDING_CONTROL = web.AppKey("recording_control", RecordingControl)
