"""Property tests of the two parsers that take text from strangers: the API's JSON body and the
signaling wire format. Whatever the input, each either returns a value every later step can
encode and store, or refuses with its own error: never another exception."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.errors import DomainError
from app.domain.ids import MAX_ID, parse_id
from app.domain.json_body import MAX_DEPTH, MAX_INTEGER, parse_body
from app.domain.text import unsafe_text
from signaling.messages import CLIENT_TYPES, ProtocolError, error, parse

from wire_fields import CLIENT_FIELDS

BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text Python can hold; lone surrogates and control characters, which Hypothesis draws
# rarely or never by itself, often.
HOSTILE = ["\ud800", "\udfff", "\udc00", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\\", '"']
any_text = st.text(st.characters(exclude_categories=()) | st.sampled_from(HOSTILE), max_size=20)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=30,
)


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def acceptable(value: object) -> bool:
    """What the body reader must accept: safe text, integers within 64 bits."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and unsafe_text(item):
            return False
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INTEGER:
            return False
        if isinstance(item, dict):
            pending.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            pending.extend(item)
    return True


@BOUNDED
@given(st.dictionaries(any_text, json_values, max_size=5))
def test_a_json_object_is_read_back_whole_or_refused_as_a_bad_body(data: dict[str, Any]) -> None:
    raw = json.dumps(data).encode()  # ASCII: a lone surrogate travels as an escape
    try:
        parsed = parse_body(raw)
    except DomainError as refused:
        assert refused.code in {"bad_text", "number_out_of_range", "too_deep"}, refused.code
        assert not acceptable(data) or depth(data) > MAX_DEPTH
        return
    assert parsed == data
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # storable anywhere


@BOUNDED
@given(st.binary(max_size=200))
def test_any_bytes_are_an_object_or_a_bad_body(raw: bytes) -> None:
    with contextlib.suppress(DomainError):
        assert isinstance(parse_body(raw), dict)


@BOUNDED
@given(st.integers(min_value=1, max_value=2000), st.sampled_from(["[", '{"a":']))
def test_nesting_is_refused_past_the_limit_at_any_depth(levels: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    raw = ('{"x":' + opener * levels + "1" + closer * levels + "}").encode()
    try:
        parse_body(raw)
    except DomainError as refused:
        assert refused.code == "too_deep" and levels + 1 > MAX_DEPTH
    else:
        assert levels + 1 <= MAX_DEPTH


@BOUNDED
@given(st.one_of(any_text, st.integers(), st.none(), st.booleans()))
def test_ids_are_canonical_positive_and_bounded(value: object) -> None:
    parsed = parse_id(value)
    if parsed is not None:
        assert 1 <= parsed <= MAX_ID
        assert str(parsed) == value or parsed == value


# -- signaling ----------------------------------------------------------------------------------


def encodable(value: object) -> None:
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, inner in value.items():
            encodable(key)
            encodable(inner)
    elif hasattr(value, "__slots__"):
        for name in value.__slots__:
            encodable(getattr(value, name))


def parsed_or_refused(text: str) -> None:
    try:
        message = parse(text)
    except ProtocolError as refused:
        error(refused.code, refused.message, refused.ref).encode("utf-8")
        return
    encodable(message)


@BOUNDED
@given(any_text)
def test_any_text_is_a_message_or_a_protocol_error(text: str) -> None:
    parsed_or_refused(text)


message_fields = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(CLIENT_TYPES)) | any_text},
    optional={
        key: any_text | any_text | json_values  # mostly text: most fields are strings
        for key in CLIENT_FIELDS
    },
)


@settings(BOUNDED, max_examples=1000)
@given(message_fields, st.booleans())
def test_messages_of_every_type_with_any_values_parse_or_are_refused(
    raw: dict[str, Any], ascii_only: bool
) -> None:
    try:
        text = json.dumps(raw, ensure_ascii=ascii_only)
    except (ValueError, RecursionError):
        pytest.skip("not serialisable")
    if not ascii_only:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return  # a socket only ever delivers decoded UTF-8
    parsed_or_refused(text)


VALID: dict[str, dict[str, Any]] = {
    "join": {"type": "join", "case_id": 1, "token": "t"},
    "resume": {
        "type": "resume",
        "case_id": 1,
        "participant": "p",
        "resume_token": "r",
        "last_seq": 0,
    },
    "admit": {"type": "admit", "participant": "p"},
    "remove": {"type": "remove", "participant": "p", "reason": "r"},
    "offer": {"type": "signal", "to": "p", "description": {"type": "offer", "sdp": "v=0"}},
    "candidate": {"type": "signal", "to": "p", "candidate": {"candidate": "c", "sdpMid": "0"}},
}


def text_paths(value: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [p for key, inner in value.items() for p in text_paths(inner, (*path, key))]
    return [path] if isinstance(value, str) and path != ("type",) else []


@settings(BOUNDED, max_examples=600)
@given(st.sampled_from(sorted(VALID)), st.data())
def test_any_text_in_any_field_of_a_valid_message_parses_or_is_refused(
    name: str, data: st.DataObject
) -> None:
    message = json.loads(json.dumps(VALID[name]))
    path = data.draw(st.sampled_from(text_paths(message)))
    target = message
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(any_text)
    parsed_or_refused(json.dumps(message))  # ASCII, as a client may well escape it
