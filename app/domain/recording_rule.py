"""The whole hearing is recorded (庭审录音录像规定 2017: without interruption). Pure.

The records that rest on what was said and seen (identity checks, answers, the decision) are
refused while no recording runs, unless the judge has decided, with reasons, to go on without
one since the recording last stopped: an explicit step, audited, that the transcript reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.errors import Conflict
from app.domain.free_text import read_free_text

MAX_REASON = 500


@dataclass(frozen=True)
class RecordingFacts:
    """Positions are places in the case's append-only record (its audit sequence): which came
    later does not depend on two servers' clocks agreeing."""

    live: bool  # a run is recording the case now (on any server)
    last_end: int | None  # where the latest end of a run (stopped, failed, interrupted) stands
    override: int | None  # where the judge's latest decision to go on without recording stands

    @property
    def allowed(self) -> bool:
        if self.live:
            return True
        if self.override is None:
            return False
        return self.last_end is None or self.override > self.last_end


def check_recorded(facts: RecordingFacts, what: tuple[str, str]) -> None:
    """`what` names the record refused, in Chinese and English."""
    if facts.allowed:
        return
    zh, en = what
    raise Conflict(
        f"{zh}：庭审录像未在进行。请等待录像恢复，或由审判员说明理由后决定在无录像的情况下继续。 / "
        f"{en}: the hearing is not being recorded. Wait for the recording to come back, or "
        "decide, giving reasons, to go on without it.",
        code="not_recording",
    )


def read_override(data: Mapping[str, Any]) -> str:
    return read_free_text(data, "reason", MAX_REASON, required=True)


def check_override(facts: RecordingFacts) -> None:
    if facts.live:
        raise Conflict(
            "庭审录像正在进行，无需此决定。 / The hearing is being recorded: nothing to decide.",
            code="recording",
        )
