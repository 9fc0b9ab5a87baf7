"""Bodies of the mediation API (app/web/mediation_api.py). Pure."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from app.domain.application import MAX_APPLICANTS
from app.domain.bodies.application import Organisation, Person, Phone
from app.domain.bodies.fields import Id, Party, at_most, required
from app.domain.mediation_filing import MAX_CLAIMS_CHARS, MAX_FACTS_CHARS, PARTIES_REFUSAL

NOTE_MAX = 2000


class NewMediation(Struct):
    dispute_type: Annotated[str, required(50, examples=["邻里纠纷"])]
    facts: Annotated[str, required(MAX_FACTS_CHARS, description="the dispute's main facts")]
    claims: Annotated[str, required(MAX_CLAIMS_CHARS, description="what each side asks for")]
    parties: Annotated[
        list[Person | Organisation],
        Meta(min_length=2, max_length=MAX_APPLICANTS, extra={"refusal": PARTIES_REFUSAL}),
    ]


class AcceptMediation(Struct):
    mediator_id: Id  # a mediator of the same committee


class ScheduleMediation(Struct):
    scheduled_at: Annotated[dt.datetime, Meta(tz=True)]


class EndMediation(Struct):
    """A failed mediation's termination record: what was tried, and why it did not settle."""

    note: Annotated[str, required(NOTE_MAX)]


class PartyEnds(Struct):
    """A party's refusal of mediation (art 17) or request to end it (art 23), as heard."""

    party: Party
    note: Annotated[str, at_most(NOTE_MAX)] = ""


CODE_REFUSAL = "须为短信收到的 6 位数字。 / Must be the 6 digits the text message gave."


class CodeRequest(Struct):
    """A one-time code by SMS to the phone of the party who files."""

    phone: Phone


class PartyFiling(NewMediation):
    """A party's own filing from the public page (POST /api/mediation-requests)."""

    committee_id: Id
    phone: Phone  # one of the parties' own, proved by the code
    code: Annotated[str, Meta(pattern=r"^[0-9]{6}$", extra={"refusal": CODE_REFUSAL})]


# --- the agreement (app/domain/mediation_agreement.py) ---------------------------------------

TEXT_MAX = 2000
TERM_MAX = 500
AMOUNT_REFUSAL = (
    "须为以元计的金额，最多两位小数，如 12000 或 3500.50。"
    " / Must be an amount in yuan with at most two decimals, e.g. 12000 or 3500.50."
)
DIGEST_REFUSAL = (
    "须为协议文本的 SHA-256（64 位小写十六进制）。 / Must be the text's SHA-256 (64 hex)."
)
# A data URL or bare base64 of the PNG; its bytes are checked once decoded.
SIGNATURE_MAX_CHARS = 200_000


class AgreementTerm(Struct):
    text: Annotated[str, required(TERM_MAX, examples=["乙方于2026年12月31日前向甲方支付赔偿款"])]
    # Text, not a JSON number: money is never a binary float on its way in.
    amount: (
        Annotated[
            str, Meta(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$", extra={"refusal": AMOUNT_REFUSAL})
        ]
        | None
    ) = None
    due: dt.date | None = None


class AgreementDraftBody(Struct):
    """The mediator's draft (art 29 items 2 and 3); `base_version` is the version edited
    (0 for the first), so two screens never overwrite each other unseen."""

    facts: Annotated[
        str, required(MAX_FACTS_CHARS, description="main facts and matters in dispute")
    ]
    responsibility: Annotated[str, required(TEXT_MAX, description="each party's responsibility")]
    terms: Annotated[list[AgreementTerm], Meta(min_length=1, max_length=20)]
    performance: Annotated[str, required(TEXT_MAX, description="how and by when it is performed")]
    base_version: Annotated[int, Meta(ge=0, le=100_000)]


class FreezeAgreement(Struct):
    version: Annotated[int, Meta(ge=1, le=100_000)]


Digest = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$", extra={"refusal": DIGEST_REFUSAL})]
Handwriting = Annotated[str, Meta(min_length=1, max_length=SIGNATURE_MAX_CHARS)]


class SignCodeRequest(Struct):
    """A one-time code by SMS to the party's own phone on record: to sign with at the kiosk,
    or to join the video session on that phone."""

    party: Party


SmsCode = Annotated[str, Meta(pattern=r"^[0-9]{6}$", extra={"refusal": CODE_REFUSAL})]


class SignsOnDevice(Struct):
    """A party's signature on their own device (its pass says who they are): the text they
    read (its digest), their handwriting, and whether they also apply for judicial
    confirmation (art 33)."""

    party: Party
    digest: Digest
    signature: Handwriting
    apply_for_confirmation: bool


class PartySigns(SignsOnDevice):
    """At the kiosk: the same, with the code their phone received."""

    code: SmsCode


class JoinWithCode(Struct):
    """A party on their own phone: the code texted to that phone, for a pass to the session."""

    party: Party
    code: SmsCode


class RecordCheck(Struct):
    """One check of one party in the video session (app/domain/mediation_checks.py)."""

    party: Party
    check: Literal["identity", "consent", "rights", "sham_warning"]


class ChangeRequest(Struct):
    """A party asks the mediator to change the draft."""

    party: Party
    text: Annotated[str, required(TERM_MAX)]


class MediatorSigns(Struct):
    digest: Digest
    signature: Handwriting
