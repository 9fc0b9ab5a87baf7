"""Who may sit in a confirmation room, and how many of each."""

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

# Everyone else waits in the lobby until the judge lets them in.
ADMITTED_ON_JOIN = frozenset({JUDGE, RECORDER})
