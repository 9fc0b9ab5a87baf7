"""Pure model of one room: seats, lobby, admission by its host, grace, quality. No I/O.

Every operation checks the state first and raises RoomError naming what was
attempted; on success it returns an Outcome: the messages to send (as dicts,
addressed to participant ids) and the audit events to record. The caller
serialises and delivers them. Time is always passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from signaling.roles import HIDDEN, HOSTS, JUDGE, admitted_on_join

QUALITY_LEVELS = ("ok", "poor", "bad")


class RoomError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Notice:
    to: str
    message: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str
    participant_id: str
    role: str
    details: Mapping[str, object]


@dataclass(slots=True)
class Outcome:
    notices: list[Notice] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Quality:
    packet_loss: float
    rtt_ms: float | None
    bitrate_kbps: float | None
    level: str
    reported_at: float


@dataclass(slots=True)
class Seat:
    participant_id: str
    role: str
    display_name: str
    resume_token: str
    admitted: bool
    connected: bool = True
    dropped_at: float | None = None
    quality: Quality | None = None

    @property
    def hidden(self) -> bool:
        return self.role in HIDDEN

    def presence(self) -> dict[str, object]:
        return {
            "id": self.participant_id,
            "role": self.role,
            "name": self.display_name,
            "admitted": self.admitted,
            "connected": self.connected,
        }


@dataclass(frozen=True, slots=True)
class Thresholds:
    poor: float = 0.10
    bad: float = 0.15

    def level(self, packet_loss: float) -> str:
        if packet_loss > self.bad:
            return "bad"
        if packet_loss > self.poor:
            return "poor"
        return "ok"


class Room:
    def __init__(
        self,
        case_id: int,
        room_name: str,
        host_participant_id: str,
        *,
        grace_seconds: float,
        thresholds: Thresholds | None = None,
        host_role: str = JUDGE,
        capacity: Mapping[str, int] | None = None,
    ) -> None:
        if host_role not in HOSTS:
            raise ValueError(f"{host_role!r} cannot host a room")
        self.case_id = case_id
        self.room_name = room_name
        self.host_participant_id = host_participant_id
        self.host_role = host_role
        self.grace_seconds = grace_seconds
        self.thresholds = thresholds or Thresholds()
        self.capacity = HOSTS[host_role] if capacity is None else capacity
        self._admitted_on_join = admitted_on_join(host_role)
        self.seats: dict[str, Seat] = {}
        # Removal is final for the life of the room: a removed participant
        # cannot walk back in with the same still-valid token.
        self.removed: set[str] = set()

    # -- queries ---------------------------------------------------------

    @property
    def empty(self) -> bool:
        return not self.seats

    def seat(self, participant_id: str) -> Seat:
        seat = self.seats.get(participant_id)
        if seat is None:
            raise RoomError("unknown_participant", f"{participant_id!r} is not in this room")
        return seat

    def visible_to(self, viewer: Seat) -> list[dict[str, object]]:
        if not viewer.admitted:
            return []
        return [s.presence() for s in self.seats.values() if s is not viewer and not s.hidden]

    def welcome(self, participant_id: str) -> dict[str, object]:
        seat = self.seat(participant_id)
        return {
            "type": "welcome",
            "you": seat.presence(),
            "room": {"case_id": self.case_id, "name": self.room_name},
            "resume_token": seat.resume_token,
            "grace_seconds": self.grace_seconds,
            "participants": self.visible_to(seat),
        }

    def quality_of(self, participant_id: str) -> Quality | None:
        return self.seat(participant_id).quality

    def expiry_due(self) -> float | None:
        """When the earliest dropped seat runs out of grace, if any seat is dropped."""
        due = [s.dropped_at for s in self.seats.values() if s.dropped_at is not None]
        return min(due) + self.grace_seconds if due else None

    # -- transitions -----------------------------------------------------

    def join(
        self,
        participant_id: str,
        role: str,
        display_name: str,
        *,
        resume_token: str,
        now: float,
        readmit: bool = False,
    ) -> Outcome:
        if role not in self.capacity:
            raise RoomError("bad_role", f"role {role!r} cannot join a room")
        if participant_id in self.removed:
            raise RoomError(
                "removed", f"the {self.host_role} removed this participant from the room"
            )
        if role == self.host_role and participant_id != self.host_participant_id:
            raise RoomError(
                f"not_assigned_{role}", f"only the case's assigned {role} may join as {role}"
            )
        existing = self.seats.get(participant_id)
        if existing is not None:
            if existing.role != role:
                raise RoomError("role_mismatch", f"already seated as {existing.role!r}")
            # Same person on a new socket (reload, new network): take the seat back.
            return self._reconnect(existing, now, via="join")
        taken = sum(1 for s in self.seats.values() if s.role == role)
        if taken >= self.capacity[role]:
            raise RoomError("role_full", f"all {self.capacity[role]} {role} seats are taken")
        seat = Seat(
            participant_id,
            role,
            display_name,
            resume_token,
            admitted=role in self._admitted_on_join or readmit,
        )
        self.seats[participant_id] = seat
        # A readmitted seat says so in the audit: admitted as it joined, on the host's earlier
        # admission, not by the host just now.
        again = {"readmitted": True} if readmit and role not in self._admitted_on_join else {}
        out = Outcome(audit=[self._audit("join", seat, admitted=seat.admitted, **again)])
        self._broadcast(out, seat, "joined")
        return out

    def admit(self, actor_id: str, target_id: str, now: float) -> Outcome:
        self._require_host(actor_id, "admit")
        target = self.seat(target_id)
        if target.admitted:
            raise RoomError("not_in_lobby", f"{target_id!r} is already admitted")
        target.admitted = True
        out = Outcome(audit=[self._audit("admit", target, by=actor_id)])
        out.notices.append(
            Notice(target_id, {"type": "admitted", "participants": self.visible_to(target)})
        )
        self._broadcast(out, target, "admitted")
        return out

    def remove(self, actor_id: str, target_id: str, reason: str, now: float) -> Outcome:
        self._require_host(actor_id, "remove")
        if target_id == actor_id:
            raise RoomError(
                "bad_target", f"the {self.host_role} cannot remove themself; send leave"
            )
        target = self.seat(target_id)
        del self.seats[target_id]
        self.removed.add(target_id)
        out = Outcome(audit=[self._audit("remove", target, by=actor_id, reason=reason)])
        out.notices.append(Notice(target_id, {"type": "removed", "reason": reason}))
        self._broadcast(out, target, "removed")
        return out

    def drop(self, participant_id: str, now: float) -> Outcome:
        seat = self.seat(participant_id)
        if not seat.connected:
            raise RoomError("not_connected", f"{participant_id!r} is already dropped")
        seat.connected = False
        seat.dropped_at = now
        out = Outcome(audit=[self._audit("drop", seat, grace_seconds=self.grace_seconds)])
        self._broadcast(out, seat, "dropped")
        return out

    def resume(self, participant_id: str, resume_token: str, now: float) -> Outcome:
        seat = self.seats.get(participant_id)
        if seat is None or seat.resume_token != resume_token:
            raise RoomError("resume_failed", "no seat to resume: the grace period may have passed")
        return self._reconnect(seat, now, via="resume")

    def leave(self, participant_id: str, now: float) -> Outcome:
        seat = self.seat(participant_id)
        del self.seats[participant_id]
        out = Outcome(audit=[self._audit("leave", seat)])
        self._broadcast(out, seat, "left", reason="leave")
        return out

    def expire(self, now: float) -> Outcome:
        out = Outcome()
        for seat in list(self.seats.values()):
            if seat.dropped_at is not None and now - seat.dropped_at >= self.grace_seconds:
                del self.seats[seat.participant_id]
                out.audit.append(self._audit("expire", seat, dropped_at=seat.dropped_at))
                self._broadcast(out, seat, "left", reason="timeout")
        return out

    def check_signal(self, sender_id: str, to_id: str) -> None:
        sender = self.seat(sender_id)
        if not sender.admitted:
            raise RoomError(
                "not_admitted", f"wait for the {self.host_role} to admit you before sending media"
            )
        if to_id == sender_id:
            raise RoomError("bad_target", "cannot signal yourself")
        target = self.seats.get(to_id)
        if target is None or not target.admitted:
            raise RoomError("unknown_participant", f"{to_id!r} is not an admitted participant")

    def report(
        self,
        participant_id: str,
        packet_loss: float,
        rtt_ms: float | None,
        bitrate_kbps: float | None,
        now: float,
    ) -> Outcome:
        seat = self.seat(participant_id)
        if not seat.admitted:
            raise RoomError("not_admitted", "only admitted participants report media stats")
        previous = seat.quality.level if seat.quality is not None else "ok"
        level = self.thresholds.level(packet_loss)
        seat.quality = Quality(packet_loss, rtt_ms, bitrate_kbps, level, now)
        out = Outcome()
        host = self.seats.get(self.host_participant_id)
        # Warn on a change of level only: a steady 12% loss is one warning, not one every 5 s.
        if level != previous and host is not None:
            out.notices.append(
                Notice(
                    host.participant_id,
                    {
                        "type": "quality",
                        "participant": participant_id,
                        "level": level,
                        "previous": previous,
                        "packet_loss": packet_loss,
                        "rtt_ms": rtt_ms,
                        "bitrate_kbps": bitrate_kbps,
                    },
                )
            )
        return out

    # -- helpers ---------------------------------------------------------

    def _reconnect(self, seat: Seat, now: float, *, via: str) -> Outcome:
        was_connected = seat.connected
        away = None if seat.dropped_at is None else round(now - seat.dropped_at, 3)
        seat.connected = True
        seat.dropped_at = None
        out = Outcome(audit=[self._audit("resume", seat, via=via, away_seconds=away)])
        if not was_connected:
            self._broadcast(out, seat, "resumed")
        return out

    def _require_host(self, actor_id: str, action: str) -> None:
        actor = self.seat(actor_id)
        if actor.role != self.host_role:
            raise RoomError("forbidden", f"only the {self.host_role} may {action}")

    def _audit(self, action: str, seat: Seat, **details: object) -> AuditEvent:
        return AuditEvent(action, seat.participant_id, seat.role, details)

    def _broadcast(self, out: Outcome, subject: Seat, event: str, **extra: object) -> None:
        """Tell every admitted participant (but the subject) about the subject."""
        if subject.hidden:
            return
        message: dict[str, object] = {
            "type": "presence",
            "event": event,
            "participant": subject.presence(),
            **extra,
        }
        for seat in self.seats.values():
            if seat.admitted and seat is not subject:
                out.notices.append(Notice(seat.participant_id, message))
