"""Account roles. Pure."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MEDIATOR = "mediator"  # of a mediation committee
    JUDGE = "judge"  # of a court
    CLERK = "clerk"  # of a court
    KIOSK = "kiosk"  # a device account bound to one confirmation room
    SYSTEM = "system"  # the platform itself (e.g. service completes when all parties sign)


# The roles an account can be given; SYSTEM is the platform, never a login.
ACCOUNT_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)
