"""The request bodies, declared once (app/domain/bodies): the document's schemas are the
models', every documented JSON body is one of them, and decoding says every problem at once,
in Chinese and English, under its field. Whatever the body, decoding either gives the model or
refuses with ValidationError; and it refuses exactly what msgspec refuses."""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import refusals
from app.domain.bodies import admin, cases, session
from app.domain.bodies.application import Application
from app.domain.bodies.check import decode, problems
from app.domain.errors import ValidationError
from app.services.demo import sample_application
from app.web.openapi import document
from app.web.openapi.bodies import MODELS, REF

TODAY = dt.date(2026, 12, 6)
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CJK = re.compile(r"[\u4e00-\u9fff]")


def bilingual(text: str) -> bool:
    zh, sep, en = text.partition(" / ")
    return bool(sep and _CJK.search(zh) and re.search(r"[A-Za-z]", en))


def json_bodies(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation["requestBody"]["content"]["application/json"]["schema"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def test_every_json_body_in_the_document_is_a_model_and_each_model_is_one_schema() -> None:
    doc = document()
    bodies = json_bodies(doc)
    assert len(bodies) >= 36
    names = {m.__name__ for m in MODELS}
    for path, method, schema in bodies:
        # A reference, never a schema written out in the operation: one schema per shape.
        assert set(schema) == {"$ref"}, (path, method)
        assert schema["$ref"].removeprefix(REF.format(name="")) in names, (path, method)
    _refs, generated = msgspec.json.schema_components(MODELS, ref_template=REF)
    assert doc["components"]["schemas"] == generated
    assert len(names) == len(MODELS), "two models with one name would share one schema"


def test_the_models_limits_are_the_ones_the_document_states() -> None:
    schemas = document()["components"]["schemas"]
    application = schemas["Application"]["properties"]
    assert application["applicants"]["minItems"] == 2
    assert application["terms"]["items"]["maxLength"] == 2000
    assert schemas["Person"]["properties"]["name"]["maxLength"] == 50
    assert schemas["Decision"]["properties"]["decision"]["enum"] == [
        "confirm",
        "reject",
        "withdraw",
    ]
    assert schemas["NewAccount"]["properties"]["password"]["minLength"] == 12


def test_an_application_is_read_whole_and_its_problems_listed_at_once() -> None:
    body = decode(Application, sample_application(TODAY))
    assert isinstance(body, Application)
    assert len(body.applicants) == 2

    bad = sample_application(TODAY)
    bad["dispute_type"] = "  "
    bad["terms"] = ["x" * 2001]
    applicants = bad["applicants"]
    assert isinstance(applicants, list)
    applicants[0]["sex"] = "unknown"
    applicants[1]["kind"] = "robot"
    with pytest.raises(ValidationError) as refused:
        decode(Application, bad)
    found = dict(refused.value.problems)
    assert found["dispute_type"] == refusals.REQUIRED
    assert found["terms[0]"] == refusals.too_long(2000)
    assert found["applicants[0].sex"].startswith("须为以下之一：male, female。")
    assert "applicants[1].kind" in found
    assert all(bilingual(text) for text in found.values()), found


def test_a_missing_body_field_and_a_wrong_type_are_named() -> None:
    with pytest.raises(ValidationError) as refused:
        decode(cases.Schedule, {"room_id": True, "scheduled_at": "2026-12-06T09:00:00"})
    assert dict(refused.value.problems) == {
        "room_id": refusals.RECORD_ID,
        "scheduled_at": refusals.NEEDS_OFFSET,
    }
    with pytest.raises(ValidationError) as refused:
        decode(cases.Login, {})
    assert dict(refused.value.problems) == {
        "username": refusals.CREDENTIALS,
        "password": refusals.CREDENTIALS,
    }


def test_the_administrators_bodies_name_a_field_they_do_not_know() -> None:
    """A misspelt field must not be dropped: an account would be made without its court."""
    found = problems(
        admin.NewAccount,
        {"username": "a", "role": "judge", "password": "x" * 12, "cuort": "粤0311"},
    )
    assert found == [("cuort", refusals.UNKNOWN_FIELD)]


def test_ids_past_an_integer_key_and_positions_below_zero_are_refused() -> None:
    assert problems(cases.Accept, {"judge_id": 2**31}) == [("judge_id", refusals.RECORD_ID)]
    assert problems(cases.RevealId, {"party": -1}) == [("party", refusals.PARTY_POSITION)]
    assert problems(admin.BindKiosk, {"account_id": "7"}) == [("account_id", refusals.RECORD_ID)]


def test_a_review_names_each_ground_it_does_not_know() -> None:
    found = problems(session.Review, {"items": {"nope": {"present": False}, "unclear": {}}})
    assert [field for field, _ in found] == ["items.nope", "items.unclear.present"]
    assert found[0][1].startswith("须为以下之一：mandatory_law")


# --- properties: the walk over the declaration agrees with msgspec --------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["2026-12-06", "2026-12-06T09:00:00+08:00", "person", "male", "", " "]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def paths_of(value: object, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths_of(item, (*at, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(paths_of(item, (*at, i)))
    return found


@st.composite
def mutated_applications(draw: st.DrawFn) -> object:
    """A valid application with one of its parts replaced, removed or left as it was."""
    data: Any = copy.deepcopy(sample_application(TODAY))
    path = draw(st.sampled_from(paths_of(data)))
    if not path:
        return data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return data


@BOUNDED
@given(mutated_applications())
def test_decoding_refuses_exactly_what_msgspec_refuses(data: object) -> None:
    try:
        msgspec.convert(data, Application)
        accepted = True
    except msgspec.ValidationError:
        accepted = False
    found = problems(Application, data)
    assert accepted == (not found), found
    assert all(bilingual(text) for _, text in found), found


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MODELS), st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_any_body_decodes_or_is_refused_with_reasons(model: Any, data: dict[str, Any]) -> None:
    try:
        decode(model, data)
        accepted = True
    except ValidationError as refused:
        accepted = False
        assert refused.problems
        assert all(bilingual(text) for _, text in refused.problems), refused.problems
    assert accepted == (not problems(model, data))
