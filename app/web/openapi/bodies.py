"""Request-body schemas, generated from the models that decode the bodies (app/domain/bodies):
each shape is one component, referenced wherever it is used."""

from __future__ import annotations

from typing import Any

import msgspec

from app.domain.bodies import (
    admin,
    application,
    cases,
    mediation,
    service,
    session,
    transcript,
)

MODELS: tuple[type[msgspec.Struct], ...] = (
    cases.Login,
    application.Application,
    cases.Accept,
    cases.Decline,
    cases.ReturnForMaterials,
    cases.Schedule,
    cases.RevealId,
    cases.Decision,
    session.SelfTest,
    session.Identity,
    session.ForParty,
    session.NamedParty,
    session.Answers,
    session.Review,
    session.WithoutRecording,
    session.Join,
    session.RoomToken,
    service.ServiceChoice,
    service.PaperReceipt,
    transcript.ConfirmTranscript,
    transcript.Correction,
    transcript.NotSignedNote,
    admin.NewAccount,
    admin.SetActive,
    admin.ResetPassword,
    admin.OwnPassword,
    admin.BindKiosk,
    mediation.NewMediation,
    mediation.AcceptMediation,
    mediation.ScheduleMediation,
    mediation.EndMediation,
    mediation.PartyEnds,
    mediation.CodeRequest,
    mediation.PartyFiling,
    mediation.AgreementDraftBody,
    mediation.FreezeAgreement,
    mediation.SignCodeRequest,
    mediation.SignsOnDevice,
    mediation.PartySigns,
    mediation.JoinWithCode,
    mediation.RecordCheck,
    mediation.ChangeRequest,
    mediation.MediatorSigns,
    *(model for pair in admin.UNIT_BODIES.values() for model in pair),
)
REF = "#/components/schemas/{name}"


def components() -> dict[str, Any]:
    """Every request body's schema and the shapes and enums inside them, by name."""
    _refs, schemas = msgspec.json.schema_components(MODELS, ref_template=REF)
    return schemas


def body_schema(model: type[msgspec.Struct]) -> dict[str, Any]:
    """An operation's requestBody: a reference to the model's component. A body whose fields
    are all optional may be left out (the steps read an absent body as an empty object)."""
    if model not in MODELS:
        raise LookupError(f"{model.__name__} is not among the documented request bodies")
    info = msgspec.inspect.type_info(model)
    assert isinstance(info, msgspec.inspect.StructType)
    return {
        "required": any(field.required for field in info.fields),
        "content": {"application/json": {"schema": {"$ref": REF.format(name=model.__name__)}}},
    }
