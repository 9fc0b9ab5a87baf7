"""The JSON log line, the redaction safety net, request ids, and the relay's message kinds."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import logs
from app.metrics.db import operation_of
from app.metrics.relay import kind_of
from app.services.demo import with_check_digit

ID_NUMBER = with_check_digit("44031119800512001")


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RedactFilter())
    logger = logging.getLogger("sifa.test.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_carries_the_ids_of_its_context(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("outside")
    logs.case_context(42).run(lambda: logger.warning("case %s", 42))
    token = logs.REQUEST_ID.set("req-12345678")
    try:
        logger.info("inside")
    finally:
        logs.REQUEST_ID.reset(token)
    outside, case, inside = lines(stream)
    assert outside.keys() == {"time", "level", "logger", "message"}
    assert case["case_id"] == 42 and case["level"] == "WARNING" and case["message"] == "case 42"
    assert inside["request_id"] == "req-12345678" and "case_id" not in inside
    assert str(outside["time"]).endswith("Z") and len(str(outside["time"])) == 24


def test_secrets_are_masked_in_messages_args_and_tracebacks(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("party %s", ID_NUMBER)
    logger.info("header Authorization: Bearer abc.DEF-123_xyz")
    logger.info("login password=hunter2&next=/ and {'token': 'r00m-t0ken'}")
    logger.info("GET /verify/Zm9vYmFy HTTP/1.1")
    try:
        raise ValueError(f"bad id {ID_NUMBER}")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    for secret in (ID_NUMBER, "abc.DEF-123_xyz", "hunter2", "r00m-t0ken", "Zm9vYmFy"):
        assert secret not in text
    first, bearer, password, verify, failed = lines(stream)
    assert first["message"] == "party [ID]"
    assert bearer["message"] == "header Authorization: Bearer ***"
    assert "password=***" in str(password["message"])
    assert verify["message"] == "GET /verify/*** HTTP/1.1"
    assert "[ID]" in str(failed["exception"])


def test_an_id_number_inside_a_longer_number_is_left_alone() -> None:
    # Only an 18-character number standing alone is shaped like an ID (not a long hash).
    assert logs.redact("x" + ID_NUMBER + "1") == "x" + ID_NUMBER + "1"
    assert logs.redact(f"({ID_NUMBER})") == "([ID])"


def test_request_ids_are_taken_only_when_well_formed() -> None:
    assert logs.request_id_from("lb-7f3a9c21") == "lb-7f3a9c21"
    for bad in (None, "", "short", "has space inside", "x" * 65, 'json"{}', "新的请求编号"):
        made = logs.request_id_from(bad)
        assert made != bad and len(made) == 16


def test_relayed_kinds_and_statement_operations() -> None:
    assert kind_of('{"from":"judge-1","type":"signal","to":"kiosk-2"}') == "signal"
    assert kind_of('{"type":"presence","event":"joined"}') == "presence"
    assert kind_of('{"type":"made-up"}') == "other"
    assert kind_of('{"seq":1,"type":"presence"}') == "other"
    assert operation_of("  select 1") == "SELECT"
    assert operation_of("INSERT INTO cases VALUES (?)") == "INSERT"
    assert operation_of("VACUUM") == "OTHER"
