"""Which node should host a room that has none: the least loaded one that takes rooms. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NodeLoad:
    name: str
    rooms: int
    connections: int
    draining: bool = False

    @property
    def weight(self) -> float:
        # A room's media never crosses the server; its cost is its sockets and its recorder,
        # so a room counts like a handful of connections.
        return self.rooms * 4 + self.connections


def choose_host(nodes: Iterable[NodeLoad], me: str) -> str:
    """The lightest node taking rooms; this node on a tie, so placement needs no extra hop.
    With no other candidate (even when this node is draining alone) this node hosts."""
    candidates = [n for n in nodes if not n.draining]
    if not candidates:
        return me
    lightest = min(n.weight for n in candidates)
    tied = sorted(n.name for n in candidates if n.weight == lightest)
    return me if me in tied else tied[0]
