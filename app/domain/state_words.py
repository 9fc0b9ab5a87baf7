"""Case states and lifecycle steps in words, Chinese and English, and the one sentence a refusal
for the wrong state is built from. Pure, and keyed by the plain values of app/domain/cases.py's
enums (which import app/domain/errors.py, which uses these), so no code reaches a person's
screen inside a sentence ("案件状态为"served"" was what a judge read)."""

from __future__ import annotations

# Labels: a state's name on its own (lists, badges).
STATE_LABEL: dict[str, tuple[str, str]] = {
    "draft": ("草稿", "Draft"),
    "submitted": ("已提交", "Submitted"),
    "accepted": ("已受理", "Accepted"),
    "not_accepted": ("不予受理", "Not accepted"),
    "scheduled": ("已排期", "Scheduled"),
    "in_session": ("在线确认中", "In session"),
    "confirmed": ("确认有效", "Confirmed"),
    "rejected": ("驳回申请", "Rejected"),
    "withdrawn": ("准许撤回", "Withdrawn"),
    "ruling_issued": ("裁定已出具", "Ruling issued"),
    "served": ("已送达", "Served"),
    "archived": ("已归档", "Archived"),
}

# Where a case stands, to follow "本案" / "this case is" inside a sentence.
_STANDING: dict[str, tuple[str, str]] = {
    "draft": ("尚在草稿中", "still a draft"),
    "submitted": ("已提交，尚待审查", "submitted and awaiting review"),
    "accepted": ("已受理，尚未排期", "accepted but not yet scheduled"),
    "not_accepted": ("已不予受理", "not accepted"),
    "scheduled": ("已排期，尚未开庭", "scheduled, its session not yet open"),
    "in_session": ("正在在线确认中", "in session"),
    "confirmed": ("已裁定确认调解协议有效", "decided: the agreement is confirmed"),
    "rejected": ("已裁定驳回申请", "decided: the application is rejected"),
    "withdrawn": ("已裁定准许撤回", "decided: the withdrawal is allowed"),
    "ruling_issued": ("已出具裁定书", "past its ruling, which is issued"),
    "served": ("裁定书已送达", "already served"),
    "archived": ("已归档", "archived"),
}

# A lifecycle step as something one does (app/domain/cases.py Step).
STEP_DOING: dict[str, tuple[str, str]] = {
    "submit": ("提交申请", "submit the application"),
    "return": ("退回补充材料", "return it for more materials"),
    "accept": ("受理", "accept it"),
    "decline": ("不予受理", "decline it"),
    "schedule": ("排期", "schedule it"),
    "open_session": ("开庭", "open the session"),
    "confirm": ("裁定确认调解协议有效", "confirm the agreement"),
    "reject": ("裁定驳回申请", "reject the application"),
    "withdraw": ("准许撤回", "allow the withdrawal"),
    "issue_ruling": ("出具裁定书", "issue the ruling"),
    "serve": ("送达裁定书", "serve the ruling"),
    "archive": ("归档", "archive the case"),
}


def standing(state: str) -> tuple[str, str]:
    return _STANDING.get(state, (state, state))


def wrong_state(state: str, zh_doing: str, en_doing: str) -> str:
    """ "本案裁定书已送达，不能核验身份。 / Cannot verify identity: this case is already served."
    (the "中文 / English" pair every refusal is)."""
    zh, en = standing(state)
    return f"本案{zh}，不能{zh_doing}。 / Cannot {en_doing}: this case is {en}."
