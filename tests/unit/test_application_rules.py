"""Validating a joint application: the CPL 205 window and every field problem at once."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from app.domain.application import (
    APPLICATION_WINDOW_DAYS,
    WindowClosed,
    check_window,
    parse_application,
    window_closes,
)
from app.domain.errors import ValidationError
from app.domain.people import Organisation, Person, Sex
from app.services.demo import sample_application, with_check_digit

TODAY = dt.date(2026, 11, 20)


def payload(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(sample_application(TODAY))
    data.update(changes)
    return data


def fields_of(error: ValidationError) -> set[str]:
    return {field for field, _ in error.problems}


def problem_for(error: ValidationError, field: str) -> str:
    texts = [text for f, text in error.problems if f == field]
    assert texts, f"no problem reported for {field}: {error.problems}"
    return " | ".join(texts)


def test_the_sample_application_is_valid() -> None:
    app = parse_application(payload(), today=TODAY)
    assert app.agreement_date == TODAY - dt.timedelta(days=3)
    assert len(app.applicants) == 2 and all(isinstance(p, Person) for p in app.applicants)
    assert len(app.terms) == 3


def test_day_30_is_the_last_day_and_day_31_is_refused() -> None:
    assert APPLICATION_WINDOW_DAYS == 30
    signed = dt.date(2026, 1, 31)
    last_day = signed + dt.timedelta(days=30)  # 2 March 2026
    assert window_closes(signed) == last_day == dt.date(2026, 3, 2)
    check_window(signed, last_day)  # day 30: allowed
    check_window(signed, signed)  # the same day
    with pytest.raises(WindowClosed) as closed:
        check_window(signed, last_day + dt.timedelta(days=1))
    message = str(closed.value)
    assert last_day.isoformat() in message and signed.isoformat() in message
    assert "第二百零五条" in message
    assert closed.value.code == "application_window_closed"
    assert closed.value.field == "agreement_date"


def test_the_window_applies_when_parsing_an_application() -> None:
    day30 = (TODAY - dt.timedelta(days=30)).isoformat()
    day31 = (TODAY - dt.timedelta(days=31)).isoformat()
    assert (
        parse_application(payload(agreement_date=day30), today=TODAY).agreement_date.isoformat()
        == day30
    )
    with pytest.raises(WindowClosed) as closed:
        parse_application(payload(agreement_date=day31), today=TODAY)
    assert (TODAY - dt.timedelta(days=1)).isoformat() in str(closed.value)


def test_an_agreement_dated_in_the_future_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        parse_application(
            payload(agreement_date=(TODAY + dt.timedelta(days=1)).isoformat()), today=TODAY
        )
    assert "future" in problem_for(refused.value, "agreement_date")


@pytest.mark.parametrize("value", ["2026-02-30", "20/11/2026", None, 20261120])
def test_an_agreement_date_that_is_not_a_date_is_refused(value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_application(payload(agreement_date=value), today=TODAY)
    assert "agreement_date" in fields_of(refused.value)


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_applicants_is_refused(count: int) -> None:
    data = payload()
    data["applicants"] = data["applicants"][:count]
    with pytest.raises(ValidationError) as refused:
        parse_application(data, today=TODAY)
    assert "CPL 205" in problem_for(refused.value, "applicants")


def test_an_agreement_without_terms_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        parse_application(payload(terms=[]), today=TODAY)
    assert "At least one term" in problem_for(refused.value, "terms")
    with pytest.raises(ValidationError) as blank:
        parse_application(payload(terms=["  "]), today=TODAY)
    assert "terms[0]" in fields_of(blank.value)


def test_a_bad_id_number_in_an_applicant_is_refused() -> None:
    data = payload()
    good = data["applicants"][1]["id_number"]
    data["applicants"][1]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError) as refused:
        parse_application(data, today=TODAY)
    assert fields_of(refused.value) == {"applicants[1].id_number"}
    assert "Check digit" in problem_for(refused.value, "applicants[1].id_number")


def test_birth_date_and_sex_must_match_the_id_number() -> None:
    data = payload()
    data["applicants"][0]["birth_date"] = "1980-05-13"  # the ID says 1980-05-12
    data["applicants"][0]["sex"] = "female"  # the ID's 17th digit 1 says male
    with pytest.raises(ValidationError) as refused:
        parse_application(data, today=TODAY)
    assert fields_of(refused.value) == {"applicants[0].birth_date", "applicants[0].sex"}
    assert "Does not match" in problem_for(refused.value, "applicants[0].birth_date")
    assert "Does not match" in problem_for(refused.value, "applicants[0].sex")


def test_a_lowercase_x_is_accepted_and_stored_in_capitals() -> None:
    data = payload()
    data["applicants"][0].update(
        id_number="11010519491231002x", birth_date="1949-12-31", sex="female"
    )
    parsed = parse_application(data, today=TODAY)
    first = parsed.applicants[0]
    assert isinstance(first, Person)
    assert first.id_number == "11010519491231002X" and first.sex is Sex.FEMALE


def organisation(code: str) -> dict[str, Any]:
    return {
        "kind": "organisation",
        "name": "深圳市腾讯计算机系统有限公司",
        "credit_code": code,
        "legal_representative": "马化腾",
        "address": "深圳市南山区科技园",
        "phone": "0755-86013388",
    }


def test_an_organisation_with_a_valid_credit_code_is_accepted() -> None:
    data = payload()
    data["applicants"][1] = organisation("91440300708461136t")
    parsed = parse_application(data, today=TODAY)
    org = parsed.applicants[1]
    assert isinstance(org, Organisation) and org.credit_code == "91440300708461136T"


def test_an_organisation_with_a_bad_credit_code_is_refused() -> None:
    data = payload()
    data["applicants"][1] = organisation("91440300708461136U")
    with pytest.raises(ValidationError) as refused:
        parse_application(data, today=TODAY)
    assert fields_of(refused.value) == {"applicants[1].credit_code"}
    assert "GB 32100" in problem_for(refused.value, "applicants[1].credit_code")


@pytest.mark.parametrize("key", ["terms", "applicants", "agents"])
@pytest.mark.parametrize("value", ["一、赔偿", {"0": "x"}, 3])
def test_fields_that_must_be_lists(key: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_application(payload(**{key: value}), today=TODAY)
    assert "Must be a list" in problem_for(refused.value, key)


def test_applicants_that_are_not_objects_are_refused() -> None:
    data = payload()
    data["applicants"][1] = "赵六"
    with pytest.raises(ValidationError) as refused:
        parse_application(data, today=TODAY)
    assert "Must be an object" in problem_for(refused.value, "applicants[1]")


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def test_an_agent_must_represent_an_applicant_and_carry_a_valid_id() -> None:
    lawyer_id = with_check_digit("44030519850101001")
    data = payload()
    data["agents"] = [
        {
            "name": "孙律师",
            "id_number": lawyer_id,
            "phone": "13900000000",
            "authority": "特别授权",
            "represents": 1,
        },
        {
            "name": "周代理",
            "id_number": wrong_check(lawyer_id),
            "phone": "13900000001",
            "authority": "一般授权",
            "represents": 2,
        },
    ]
    with pytest.raises(ValidationError) as refused:
        parse_application(data, today=TODAY)
    assert fields_of(refused.value) == {"agents[1].represents", "agents[1].id_number"}
    data["agents"] = data["agents"][:1]
    parsed = parse_application(data, today=TODAY)
    assert parsed.agents[0].represents == 1 and parsed.agents[0].id_number == lawyer_id


def test_every_problem_is_reported_at_once() -> None:
    data = payload(dispute_type="", terms=[], agreement_date="not a date")
    data["applicants"][0]["id_number"] = wrong_check(data["applicants"][0]["id_number"])
    data["applicants"][0]["phone"] = "call me"
    data["applicants"][1]["sex"] = "unknown"
    data["applicants"][1]["name"] = ""
    with pytest.raises(ValidationError) as refused:
        parse_application(data, today=TODAY)
    assert {
        "dispute_type",
        "terms",
        "agreement_date",
        "applicants[0].id_number",
        "applicants[0].phone",
        "applicants[1].sex",
        "applicants[1].name",
    } <= fields_of(refused.value)
    # the summary message names every field too
    for field in fields_of(refused.value):
        assert field in str(refused.value)
