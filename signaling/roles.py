"""Who may sit in a room, and how many of each: a confirmation room, which the judge hosts,
or a mediation room, which the mediator hosts."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

JUDGE = "judge"
KIOSK = "kiosk"
MEDIATOR = "mediator"
PARTY = "party"
CLERK = "clerk"
RECORDER = "recorder"

CAPACITY: Mapping[str, int] = MappingProxyType(
    {JUDGE: 1, KIOSK: 1, MEDIATOR: 2, PARTY: 4, CLERK: 2, RECORDER: 1}
)
ROLES = frozenset(CAPACITY)

# The recorder is a participant like any other, but nobody should see it in a
# presence list: it is infrastructure, not a person in the hearing.
HIDDEN = frozenset({RECORDER})

# A mediation room has no judge: its mediator hosts it, one kiosk and the parties' own devices
# join it, and the recorder records it as it records a hearing.
MEDIATION_CAPACITY: Mapping[str, int] = MappingProxyType(
    {MEDIATOR: 1, KIOSK: 1, PARTY: 4, RECORDER: 1}
)
HOSTS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {JUDGE: CAPACITY, MEDIATOR: MEDIATION_CAPACITY}
)


def admitted_on_join(host_role: str) -> frozenset[str]:
    """Everyone else waits in the lobby until the host lets them in."""
    return frozenset({host_role, RECORDER})
