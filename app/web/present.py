"""Cases as the API and pages show them: ID numbers masked, steps the caller may take listed."""

from __future__ import annotations

from typing import Any

from app.domain.access import Actor
from app.domain.cases import State, steps_from
from app.domain.clock import court_time
from app.domain.grounds import DECLINE_TEXT, DeclineGround
from app.domain.materials import may_open
from app.domain.people import mask_id
from app.keyring import FieldCipher
from app.services.cases import Names, party_fields
from app.store.models import Case, PartyDetails


def masked_id(party: PartyDetails, cipher: FieldCipher) -> str | None:
    if party.id_number_enc is None:
        return None
    return mask_id(cipher.decrypt(party.id_number_enc, purpose="party.id_number"))


def party_json(party: PartyDetails, cipher: FieldCipher) -> dict[str, Any]:
    shown = {"position": party.position, **party_fields(party)}
    if party.kind != "organisation":
        shown["id_number_masked"] = masked_id(party, cipher)
    return shown


def case_summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "state": case.state,
        "case_number": case.case_number,
        "dispute_type": case.dispute_type,
        "applicants": [p.name for p in case.parties],
        "agreement_date": case.agreement_date.isoformat(),
        "scheduled_at": court_time(case.scheduled_at).isoformat() if case.scheduled_at else None,
        "room_id": case.room_id,
        "judge_id": case.judge_id,
    }


def case_detail(case: Case, names: Names, cipher: FieldCipher, actor: Actor) -> dict[str, Any]:
    decline = DeclineGround(case.decline_ground) if case.decline_ground else None
    return {
        **case_summary(case),
        "court": names.court,
        "committee": names.committee,
        "mediator": names.accounts.get(case.mediator_id),
        "judge": names.accounts.get(case.judge_id) if case.judge_id else None,
        "clerk": names.accounts.get(case.clerk_id) if case.clerk_id else None,
        "room": names.room,
        "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
        "accepted_at": case.accepted_at.isoformat() if case.accepted_at else None,
        "decline_ground": decline.value if decline else None,
        "decline_ground_text": DECLINE_TEXT[decline] if decline else None,
        "note": case.state_note,
        "parties": [party_json(p, cipher) for p in case.parties],
        "agents": [
            {
                "name": a.name,
                "represents": a.represents_position,
                "authority": a.authority,
                "phone": a.phone,
                "id_number_masked": mask_id(
                    cipher.decrypt(a.id_number_enc, purpose="agent.id_number")
                ),
            }
            for a in case.agents
        ],
        "terms": [{"number": t.number, "text": t.text} for t in case.terms],
        "materials": [
            {
                "id": m.id,
                "category": m.category,
                "filename": m.filename,
                "content_type": m.content_type,
                "size": m.size,
                "sha256": m.sha256,
                "uploaded_at": m.uploaded_at.isoformat(),
            }
            for m in case.materials
            if may_open(actor.role, m.category)
        ],
        "allowed_steps": [s.value for s in steps_from(State(case.state), actor.role)],
    }
