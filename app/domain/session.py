"""The live confirmation session: its steps, per-party records, rules and timings. Pure.

A session is a list of timestamped events (check-in, admission, identity checks, warnings
acknowledged, consents, answers, review); everything else is derived from them, so a page
that reloads gets the same step and data. Time is passed in: nothing here reads a clock.

Identity is re-verified at every session (人民法院在线诉讼规则 art 7): events carry a session
number, and only the latest session's events count. The case's decision and the time its
service completed come from the case, not from these events; they are passed in as facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.domain import refusals
from app.domain.errors import Conflict, ValidationError, WrongState
from app.domain.free_text import ID_LIKE
from app.domain.grounds import REJECT_TEXT, RejectGround

TARGET = dt.timedelta(minutes=20)  # the whole session, from admission to service
MAX_NOTE = 1000
MAX_REFERENCE = 100


class Phase(StrEnum):
    IDENTITY = "identity"  # 身份核验
    INQUIRY = "inquiry"  # 询问与确认
    REVIEW = "review"  # 审查裁定
    SERVICE = "service"  # 送达签收
    CLOSED = "closed"  # every party has signed for the ruling


PHASES: tuple[Phase, ...] = (Phase.IDENTITY, Phase.INQUIRY, Phase.REVIEW, Phase.SERVICE)
PHASE_TEXT: dict[Phase, str] = {
    Phase.IDENTITY: "身份核验",
    Phase.INQUIRY: "询问与确认",
    Phase.REVIEW: "审查裁定",
    Phase.SERVICE: "送达签收",
    Phase.CLOSED: "已结束",
}


class Kind(StrEnum):
    OPENED = "opened"  # a further session begins (session 1 begins with its first event)
    # The room's kiosk ran its self-test. Never a condition of any step: parties who all take
    # part on their own devices hold a session with no kiosk at all.
    CHECK_IN = "check_in"
    ADMIT = "admit"  # the judge admitted the room from the lobby
    IDENTITY = "identity"
    WARNING_ACK = "warning_ack"  # the sham-mediation warning was read and acknowledged
    CONSENT = "consent"  # the party tapped their confirmation, at the kiosk or on own device
    ANSWERS = "answers"  # the judge's record of what the party said
    REVIEW = "review"  # Interp 358 checklist items
    # The party's own answer, in its own tap, to electronic service (在线诉讼规则 art 29): yes,
    # or no and paper. Recorded after the decision too, until the party is served.
    SERVICE_CHOICE = "service_choice"
    # The parties' review of the transcript after the decision (民事诉讼法 art 150;
    # app/domain/transcript_review.py): confirmed as read, a correction asked for, the judge's
    # decision on it, and a party's not signing noted by the judge.
    TRANSCRIPT_CONFIRMED = "transcript_confirmed"
    TRANSCRIPT_CORRECTION_ASKED = "transcript_correction_asked"
    TRANSCRIPT_CORRECTION = "transcript_correction"
    TRANSCRIPT_NOT_SIGNED = "transcript_not_signed"
    # The judge decided, with reasons, to go on while no recording runs (app/domain/
    # recording_rule.py): the records that need the recording are allowed until it stops again.
    WITHOUT_RECORDING = "without_recording"


class IdMethod(StrEnum):
    ID_CARD_CAMERA = "id_card_camera"
    ID_PHOTO = "id_photo"
    IDENTITY_PLATFORM = "identity_platform"


ID_METHOD_TEXT: dict[IdMethod, str] = {
    IdMethod.ID_CARD_CAMERA: "当庭出示身份证件比对",
    IdMethod.ID_PHOTO: "证件照片比对",
    IdMethod.IDENTITY_PLATFORM: "身份认证平台核验",
}


class IdResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class Device(StrEnum):
    """Where a party confirmed: the room's kiosk, or their own device (a join code)."""

    KIOSK = "kiosk"
    OWN_DEVICE = "own_device"


class Gap(StrEnum):
    """What stands between the session and a step: stable codes for screens and clients."""

    IDENTITY_PENDING = "identity_pending"
    IDENTITY_FAILED = "identity_failed"
    IDENTITY_NOT_PASSED = "identity_not_passed"  # consent and answers wait for a passed check
    WARNING_PENDING = "warning_pending"
    CONSENT_PENDING = "consent_pending"
    ANSWERS_PENDING = "answers_pending"
    NOT_VOLUNTARY = "not_voluntary"
    NOT_UNDERSTOOD = "not_understood"
    REVIEW_PENDING = "review_pending"
    GROUND_FOUND = "ground_found"
    GROUNDS_FOUND = "grounds_found"  # a rejection's ground not found: these were
    NOBODY_SAID_NO = "nobody_said_no"


# {who}: the party ("申请人张三" / "Applicant 张三"); {grounds}: Interp 358 items.
GAP_TEXT: dict[Gap, tuple[str, str]] = {
    Gap.IDENTITY_PENDING: ("{who}尚未核验身份", "{who}: identity not yet checked"),
    Gap.IDENTITY_FAILED: ("{who}身份核验未通过", "{who}: identity check failed"),
    Gap.IDENTITY_NOT_PASSED: ("{who}的身份核验尚未通过", "{who}: identity check not yet passed"),
    Gap.WARNING_PENDING: (
        "{who}尚未确认知悉虚假调解风险告知",
        "{who}: sham-mediation warning not yet acknowledged",
    ),
    Gap.CONSENT_PENDING: ("{who}尚未在终端确认", "{who}: not yet confirmed at the kiosk"),
    Gap.ANSWERS_PENDING: ("{who}尚未回答询问", "{who}: questions not yet answered"),
    Gap.NOT_VOLUNTARY: ("{who}表示并非自愿达成协议", "{who} said the agreement was not free"),
    Gap.NOT_UNDERSTOOD: ("{who}表示不清楚协议内容", "{who} said the terms are not clear to them"),
    Gap.REVIEW_PENDING: ("审查事项“{grounds}”尚未审查", "Review item “{grounds}” not yet reviewed"),
    Gap.GROUND_FOUND: ("审查认定存在“{grounds}”", "The review found “{grounds}”"),
    Gap.GROUNDS_FOUND: ("审查中认定存在的事项：{grounds}", "Found in the review: {grounds}"),
    Gap.NOBODY_SAID_NO: (
        "也没有申请人在询问中作出否定回答",
        "nor did any applicant answer no when asked",
    ),
}
# The legal wording stays Chinese (REJECT_TEXT); English screens and messages need a name too.
REJECT_TEXT_EN: dict[RejectGround, str] = {
    RejectGround.MANDATORY_LAW: "Violates mandatory law",
    RejectGround.PUBLIC_INTEREST: "Harms state, public or third-party interests",
    RejectGround.PUBLIC_ORDER: "Against public order",
    RejectGround.NOT_VOLUNTARY: "Not voluntary",
    RejectGround.UNCLEAR: "Content unclear",
    RejectGround.OTHER: "Otherwise unsuitable",
}


@dataclass(frozen=True)
class Missing:
    """One thing missing: a code and its parameters; `zh` and `en` are its wording."""

    gap: Gap
    party: int | None = None
    name: str = ""
    grounds: tuple[RejectGround, ...] = ()

    @classmethod
    def of(cls, gap: Gap, record: PartyRecord) -> Missing:
        return cls(gap, record.position, record.name)

    def _text(self, english: bool) -> str:
        template = GAP_TEXT[self.gap][1 if english else 0]
        who = f"Applicant {self.name}" if english else f"申请人{self.name}"
        names = [(REJECT_TEXT_EN if english else REJECT_TEXT)[g] for g in self.grounds]
        grounds = ("; " if english else "、").join(names) or ("none" if english else "无")
        return template.format(who=who, grounds=grounds)

    @property
    def zh(self) -> str:
        return self._text(english=False)

    @property
    def en(self) -> str:
        return self._text(english=True)

    def payload(self) -> dict[str, Any]:
        return {
            "code": self.gap.value,
            "party": self.party,
            "party_name": self.name or None,
            "grounds": [g.value for g in self.grounds],
            "zh": self.zh,
            "en": self.en,
        }


class SessionRefused(WrongState):
    """A session step refused because something it needs is missing.

    `items` names each gap; `missing` keeps their Chinese wording for clients that read text.
    """

    code = "session_refused"

    def __init__(self, zh: str, en: str, items: Sequence[Missing] = ()) -> None:
        self.items = tuple(items)
        self.missing = tuple(i.zh for i in self.items)
        if self.items:
            # Each half whole in its language: clients split the message at " / ".
            zh = f"{zh}：{'；'.join(self.missing)}"
            en = f"{en}: {'; '.join(i.en for i in self.items)}"
        super().__init__(f"{zh}。 / {en}.")


class NotReady(SessionRefused):
    """The decision the judge asked for is not yet allowed by the session's records."""

    code = "session_not_ready"


# --- value objects: each validates itself when read from a request or a stored payload ---------


def _note(data: Mapping[str, Any], key: str, problems: list[tuple[str, str]], at: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append((at, refusals.NOT_TEXT))
        return ""
    value = value.strip()
    if len(value) > MAX_NOTE:
        problems.append((at, refusals.too_long(MAX_NOTE)))
    if ID_LIKE.search(value):
        problems.append((at, "不得填写身份证件号码。 / Must not contain an ID number."))
    return value


def _flag(data: Mapping[str, Any], key: str, problems: list[tuple[str, str]], at: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        problems.append((at, refusals.NOT_BOOL))
        return False
    return value


def _raise(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise ValidationError(problems)


@dataclass(frozen=True)
class SelfTest:
    camera: bool
    microphone: bool
    network: bool

    @property
    def ok(self) -> bool:
        return self.camera and self.microphone and self.network

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> SelfTest:
        problems: list[tuple[str, str]] = []
        flags = [_flag(data, k, problems, k) for k in ("camera", "microphone", "network")]
        _raise(problems)
        return cls(*flags)

    def payload(self) -> dict[str, Any]:
        return {"camera": self.camera, "microphone": self.microphone, "network": self.network}


@dataclass(frozen=True)
class IdentityCheck:
    method: IdMethod
    result: IdResult
    reference: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.result is IdResult.PASSED

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> IdentityCheck:
        problems: list[tuple[str, str]] = []
        method = result = None
        try:
            method = IdMethod(str(data.get("method")))
        except ValueError:
            problems.append(("method", refusals.one_of(IdMethod)))
        try:
            result = IdResult(str(data.get("result")))
        except ValueError:
            problems.append(("result", refusals.PASSED_OR_FAILED))
        reference = data.get("reference") or ""
        if not isinstance(reference, str) or len(reference.strip()) > MAX_REFERENCE:
            problems.append(("reference", refusals.text_up_to(MAX_REFERENCE)))
            reference = ""
        reference = reference.strip()
        if ID_LIKE.search(reference):
            problems.append(("reference", "不得填写身份证件号码。 / Must not be an ID number."))
        if method is IdMethod.IDENTITY_PLATFORM and not reference:
            # The platform's verification number is the only trace of what it checked.
            problems.append(
                ("reference", "平台核验须填写核验流水号。 / A platform check needs its reference.")
            )
        note = _note(data, "note", problems, "note")
        _raise(problems)
        assert method is not None and result is not None
        return cls(method, result, reference, note)

    def payload(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "result": self.result.value,
            "reference": self.reference,
            "note": self.note,
        }


@dataclass(frozen=True)
class Answers:
    agreed_freely: bool  # 是否出于自愿、平等协商达成
    understands: bool  # 是否清楚协议内容及法律后果
    note: str = ""

    @property
    def all_yes(self) -> bool:
        return self.agreed_freely and self.understands

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> Answers:
        problems: list[tuple[str, str]] = []
        agreed = _flag(data, "agreed_freely", problems, "agreed_freely")
        understands = _flag(data, "understands", problems, "understands")
        note = _note(data, "note", problems, "note")
        _raise(problems)
        return cls(agreed, understands, note)

    def payload(self) -> dict[str, Any]:
        return {
            "agreed_freely": self.agreed_freely,
            "understands": self.understands,
            "note": self.note,
        }


@dataclass(frozen=True)
class ReviewItem:
    present: bool
    note: str = ""


def read_review(data: Mapping[str, Any]) -> dict[RejectGround, ReviewItem]:
    """`{"items": {ground: {"present": bool, "note": str}}}`: some or all six Interp 358 items."""
    items = data.get("items")
    if not isinstance(items, Mapping) or not items:
        raise ValidationError([("items", refusals.REVIEW_ITEMS)])
    problems: list[tuple[str, str]] = []
    out: dict[RejectGround, ReviewItem] = {}
    for key, raw in items.items():
        at = f"items.{key}"
        try:
            ground = RejectGround(str(key))
        except ValueError:
            problems.append((at, refusals.one_of(RejectGround)))
            continue
        if not isinstance(raw, Mapping):
            problems.append((at, "须为对象 {present, note}。 / Must be an object {present, note}."))
            continue
        present = _flag(raw, "present", problems, f"{at}.present")
        note = _note(raw, "note", problems, f"{at}.note")
        if present and not note:
            # A ground found present is what a rejection will rest on: say why.
            problems.append((f"{at}.note", "认定存在的事项须说明理由。 / Explain a ground found."))
        out[ground] = ReviewItem(present, note)
    _raise(problems)
    return out


def review_payload(items: Mapping[RejectGround, ReviewItem]) -> dict[str, Any]:
    return {"items": {g.value: {"present": i.present, "note": i.note} for g, i in items.items()}}


# --- events and the derived view -----------------------------------------------------------


@dataclass(frozen=True)
class Event:
    session: int
    seq: int
    kind: Kind
    party: int | None
    payload: Mapping[str, Any]
    at: dt.datetime
    actor: str


@dataclass(frozen=True)
class PartyRecord:
    position: int
    name: str
    identity: IdentityCheck | None = None
    identity_at: dt.datetime | None = None
    warning_at: dt.datetime | None = None
    consented_at: dt.datetime | None = None
    consent_device: Device | None = None
    answers: Answers | None = None
    answered_at: dt.datetime | None = None
    service_electronic: bool | None = None  # None: not yet asked
    service_choice_at: dt.datetime | None = None
    service_choice_device: Device | None = None

    @property
    def identity_passed(self) -> bool:
        return self.identity is not None and self.identity.passed

    @property
    def inquiry_done(self) -> bool:
        """Asked and answered: confirmed (at the kiosk or on own device), or said no (then
        there is no consent)."""
        if self.answers is None or not self.identity_passed:
            return False
        return self.consented_at is not None or not self.answers.all_yes

    def missing_for_confirm(self) -> list[Missing]:
        gaps = []
        if self.identity is None:
            gaps.append(Gap.IDENTITY_PENDING)
        elif not self.identity.passed:
            gaps.append(Gap.IDENTITY_FAILED)
        if self.warning_at is None:
            gaps.append(Gap.WARNING_PENDING)
        if self.consented_at is None:
            gaps.append(Gap.CONSENT_PENDING)
        if self.answers is None:
            gaps.append(Gap.ANSWERS_PENDING)
        else:
            if not self.answers.agreed_freely:
                gaps.append(Gap.NOT_VOLUNTARY)
            if not self.answers.understands:
                gaps.append(Gap.NOT_UNDERSTOOD)
        return [Missing.of(g, self) for g in gaps]


@dataclass(frozen=True)
class Timing:
    phase: Phase
    started_at: dt.datetime
    ended_at: dt.datetime | None  # None: the current phase
    seconds: int


@dataclass(frozen=True)
class SessionView:
    number: int
    phase: Phase
    parties: tuple[PartyRecord, ...]
    review: Mapping[RejectGround, ReviewItem]
    review_at: dt.datetime | None
    check_in: SelfTest | None
    checked_in_at: dt.datetime | None
    admitted_at: dt.datetime | None
    started_at: dt.datetime | None
    decided_at: dt.datetime | None
    served_at: dt.datetime | None
    timings: tuple[Timing, ...]
    elapsed_seconds: int
    target_seconds: int = int(TARGET.total_seconds())
    events: int = 0

    @property
    def over_target(self) -> bool:
        return self.elapsed_seconds > self.target_seconds

    def party(self, position: int) -> PartyRecord:
        for record in self.parties:
            if record.position == position:
                return record
        raise ValidationError([("party", f"没有第{position}号申请人。 / No party {position}.")])

    def unanswered(self) -> list[RejectGround]:
        return [g for g in RejectGround if g not in self.review]

    def missing_for_confirm(self) -> list[Missing]:
        out = [m for p in self.parties for m in p.missing_for_confirm()]
        for ground in RejectGround:
            item = self.review.get(ground)
            if item is None:
                out.append(Missing(Gap.REVIEW_PENDING, grounds=(ground,)))
            elif item.present:
                out.append(Missing(Gap.GROUND_FOUND, grounds=(ground,)))
        return out


def latest_session(events: Iterable[Event]) -> int:
    return max((e.session for e in events), default=1)


def derive(
    events: Iterable[Event],
    parties: Mapping[int, str],
    *,
    now: dt.datetime,
    decided_at: dt.datetime | None = None,
    served_at: dt.datetime | None = None,
) -> SessionView:
    """The latest session's state: records, the current phase and the time spent in each."""
    all_events = list(events)
    number = latest_session(all_events)
    mine = sorted((e for e in all_events if e.session == number), key=lambda e: e.seq)
    records = {p: PartyRecord(p, name) for p, name in sorted(parties.items())}
    review: dict[RejectGround, ReviewItem] = {}
    review_at = check_in = checked_in_at = admitted_at = first_at = None
    identity_done_at: dt.datetime | None = None
    inquiry_done_at: dt.datetime | None = None
    for e in mine:
        record = records.get(e.party) if e.party is not None else None
        match e.kind:
            case Kind.CHECK_IN:
                check_in, checked_in_at = SelfTest(**e.payload), e.at
            case Kind.ADMIT:
                admitted_at = admitted_at or e.at
            case Kind.IDENTITY if record is not None:
                check = IdentityCheck(
                    IdMethod(e.payload["method"]),
                    IdResult(e.payload["result"]),
                    e.payload.get("reference", ""),
                    e.payload.get("note", ""),
                )
                records[record.position] = _replace(record, identity=check, identity_at=e.at)
            case Kind.WARNING_ACK if record is not None:
                records[record.position] = _replace(record, warning_at=record.warning_at or e.at)
            case Kind.CONSENT if record is not None:
                # Consents recorded before parties could join on their own device name none:
                # the kiosk was the only place to confirm then.
                device = Device(e.payload.get("device", Device.KIOSK))
                records[record.position] = _replace(
                    record, consented_at=e.at, consent_device=device
                )
            case Kind.ANSWERS if record is not None:
                answers = Answers(
                    e.payload["agreed_freely"], e.payload["understands"], e.payload.get("note", "")
                )
                records[record.position] = _replace(record, answers=answers, answered_at=e.at)
            case Kind.SERVICE_CHOICE if record is not None:
                records[record.position] = _replace(
                    record,
                    service_electronic=bool(e.payload["electronic"]),
                    service_choice_at=e.at,
                    service_choice_device=Device(e.payload["device"]),
                )
            case Kind.REVIEW:
                for key, item in e.payload["items"].items():
                    review[RejectGround(key)] = ReviewItem(item["present"], item.get("note", ""))
                review_at = e.at
        # The clock starts when the judge admits the room; a kiosk's self-test beforehand
        # is waiting time, not session time.
        if first_at is None and e.kind is not Kind.CHECK_IN:
            first_at = e.at
        # A phase ends at the event that completed it; a later correction that undoes it
        # (a failed re-check) reopens it.
        done = bool(records) and all(r.identity_passed for r in records.values())
        identity_done_at = (identity_done_at or e.at) if done else None
        done = bool(records) and all(r.inquiry_done for r in records.values())
        inquiry_done_at = (inquiry_done_at or e.at) if done else None
    started_at = admitted_at or first_at
    ends = [identity_done_at, inquiry_done_at, decided_at, served_at]
    phase, timings = _phases(started_at, ends, now)
    end = served_at or now
    elapsed = int((end - started_at).total_seconds()) if started_at else 0
    return SessionView(
        number=number,
        phase=phase,
        parties=tuple(records.values()),
        review=review,
        review_at=review_at,
        check_in=check_in,
        checked_in_at=checked_in_at,
        admitted_at=admitted_at,
        started_at=started_at,
        decided_at=decided_at,
        served_at=served_at,
        timings=timings,
        elapsed_seconds=max(elapsed, 0),
        events=len(mine),
    )


def _replace(record: PartyRecord, **changes: Any) -> PartyRecord:
    return PartyRecord(**{**record.__dict__, **changes})


def _phases(
    start: dt.datetime | None, ends: list[dt.datetime | None], now: dt.datetime
) -> tuple[Phase, tuple[Timing, ...]]:
    """Consecutive phases: each begins where the one before ended.

    A phase with no end of its own but a later phase ended (a withdrawal during identity
    checks) ended with that later phase: it was the phase in progress when the case moved on.
    """
    filled: list[dt.datetime | None] = list(ends)
    for i in range(len(filled) - 2, -1, -1):
        if filled[i] is None:
            filled[i] = filled[i + 1]
    current = next((PHASES[i] for i, e in enumerate(filled) if e is None), Phase.CLOSED)
    if start is None:
        return current, ()
    timings: list[Timing] = []
    begin = start
    for phase, end in zip(PHASES, filled, strict=True):
        if end is None:
            timings.append(Timing(phase, begin, None, _seconds(begin, now)))
            break
        end = max(end, begin)
        timings.append(Timing(phase, begin, end, _seconds(begin, end)))
        begin = end
    return current, tuple(timings)


def _seconds(a: dt.datetime, b: dt.datetime) -> int:
    return max(int((b - a).total_seconds()), 0)


# --- rules: what may be recorded now -------------------------------------------------------


def check_identity(view: SessionView, party: int, data: Mapping[str, Any]) -> IdentityCheck:
    view.party(party)
    # A later check replaces an earlier one (a failed comparison may be repeated).
    return IdentityCheck.read(data)


def check_warning(view: SessionView, party: int) -> None:
    record = view.party(party)
    if record.warning_at is not None:
        raise Conflict(
            f"申请人{record.name}已确认知悉风险告知。 / The warning was already acknowledged."
        )


def check_consent(view: SessionView, party: int) -> None:
    record = view.party(party)
    missing = []
    if not record.identity_passed:
        missing.append(Missing.of(Gap.IDENTITY_NOT_PASSED, record))
    if record.warning_at is None:
        missing.append(Missing.of(Gap.WARNING_PENDING, record))
    if missing:
        raise SessionRefused(
            "尚不能确认", "Cannot confirm yet: identity and the warning come first", missing
        )
    if record.consented_at is not None:
        raise Conflict(f"申请人{record.name}已确认。 / This party has already confirmed.")


def check_answers(view: SessionView, party: int, data: Mapping[str, Any]) -> Answers:
    record = view.party(party)
    if not record.identity_passed:
        raise SessionRefused(
            "尚不能记录询问",
            "Answers are recorded after the party's identity check passed",
            [Missing.of(Gap.IDENTITY_NOT_PASSED, record)],
        )
    return Answers.read(data)


def check_review(view: SessionView, data: Mapping[str, Any]) -> dict[RejectGround, ReviewItem]:
    return read_review(data)


def check_decision(view: SessionView, decision: str, ground: RejectGround | None) -> None:
    """May the judge decide so now? Withdrawal always (Interp 357); otherwise the records must
    carry the decision: all clear for a confirmation, the ground found for a rejection."""
    if decision == "withdraw":
        return
    if decision == "confirm":
        missing = view.missing_for_confirm()
        if missing:
            raise NotReady("尚不能裁定确认", "Not every condition for confirming is met", missing)
        return
    if decision != "reject":
        raise ValidationError([("decision", refusals.DECISION)])
    if ground is None:
        raise ValidationError([("ground", refusals.REJECTION_GROUND)])
    item = view.review.get(ground)
    if item is not None and item.present:
        return
    said_no = [p for p in view.parties if p.answers is not None and not p.answers.all_yes]
    if ground is RejectGround.NOT_VOLUNTARY and said_no:
        return
    found = tuple(g for g in RejectGround if g in view.review and view.review[g].present)
    hint = [Missing(Gap.GROUNDS_FOUND, grounds=found)]
    if ground is RejectGround.NOT_VOLUNTARY:
        hint.append(Missing(Gap.NOBODY_SAID_NO))
    raise NotReady(
        f"驳回事由“{REJECT_TEXT[ground]}”未经审查认定",
        f"The ground “{REJECT_TEXT_EN[ground]}” was not found present in the review",
        hint,
    )
