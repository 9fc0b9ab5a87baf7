"""The fields client messages carry (docs/protocol.md), for tests that build hostile ones."""

from __future__ import annotations

CLIENT_FIELDS = (
    "v",
    "case_id",
    "token",
    "participant",
    "resume_token",
    "last_seq",
    "reason",
    "to",
    "description",
    "candidate",
    "packet_loss",
    "rtt_ms",
)
