"""Login throttling, case numbers, who may see a case, and configuration errors."""

from __future__ import annotations

import datetime as dt
import itertools
import socket
from pathlib import Path

import pytest

from app.config import ConfigError, Settings
from app.domain.access import KIOSK_STATES, Actor, CaseScope, may_view
from app.domain.case_number import CaseNumber
from app.domain.cases import State
from app.domain.roles import Role
from app.domain.throttle import (
    FORGET_AFTER,
    FREE_FAILURES,
    MAX_LOCK,
    lock_after_failure,
    still_counts,
)

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)

# --- throttle -------------------------------------------------------------------------------


def test_the_first_failures_are_free() -> None:
    assert FREE_FAILURES == 3
    for failures in range(FREE_FAILURES + 1):
        assert lock_after_failure(failures, NOW) is None


def test_delays_double_from_two_seconds_and_stop_at_fifteen_minutes() -> None:
    delays = [
        (lock_after_failure(n, NOW) - NOW).total_seconds()  # type: ignore[operator]
        for n in range(FREE_FAILURES + 1, FREE_FAILURES + 15)
    ]
    assert delays[:5] == [2, 4, 8, 16, 32]
    assert all(b == min(2 * a, 900) for a, b in itertools.pairwise(delays))
    assert max(delays) == MAX_LOCK.total_seconds() == 900
    assert lock_after_failure(1000, NOW) == NOW + MAX_LOCK


def test_failures_are_forgotten_after_an_hour() -> None:
    assert still_counts(NOW, NOW + FORGET_AFTER - dt.timedelta(seconds=1))
    assert not still_counts(NOW, NOW + FORGET_AFTER)
    assert dt.timedelta(hours=1) == FORGET_AFTER


# --- case numbers ---------------------------------------------------------------------------


def test_case_number_format() -> None:
    assert str(CaseNumber(2026, "粤0311", 123)) == "（2026）粤0311民特123号"
    assert str(CaseNumber(2027, "京0105", 1)) == "（2027）京0105民特1号"


@pytest.mark.parametrize("serial", [1, 9, 10, 123, 99999])
def test_case_numbers_round_trip(serial: int) -> None:
    number = CaseNumber(2026, "粤0311", serial)
    parsed = CaseNumber.parse(str(number))
    assert parsed == number and parsed.serial == serial and parsed.type_code == "民特"


@pytest.mark.parametrize(
    "text",
    [
        "(2026)粤0311民特123号",  # ASCII brackets
        "（2026）粤0311民特123",  # no 号
        "（26）粤0311民特123号",  # short year
        "（2026）粤0311民初123号",  # not a special-procedure case
        "（2026）粤0311民特号",  # no serial
        "（2026）粤0311民特0号",  # serials start at 1
        "",
    ],
)
def test_malformed_case_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        CaseNumber.parse(text)


def test_serials_start_at_one() -> None:
    with pytest.raises(ValueError):
        CaseNumber(2026, "粤0311", 0)


# --- access ---------------------------------------------------------------------------------

CASE = CaseScope(court_id=1, committee_id=10, judge_id=5, room_id=3, state=State.SCHEDULED)


def actor(role: Role, account_id: int = 99, **binding: int) -> Actor:
    return Actor(account_id, role.value, role, role.value, **binding)


def test_who_may_view_a_case() -> None:
    assert may_view(actor(Role.MEDIATOR, committee_id=10), CASE)
    assert not may_view(actor(Role.MEDIATOR, committee_id=11), CASE)
    assert may_view(actor(Role.CLERK, court_id=1), CASE)
    assert not may_view(actor(Role.CLERK, court_id=2), CASE)
    assert may_view(actor(Role.JUDGE, 5, court_id=1), CASE)
    assert not may_view(actor(Role.JUDGE, 6, court_id=1), CASE)
    assert not may_view(actor(Role.JUDGE, 5), CaseScope(1, 10, None, None, State.SUBMITTED))
    assert may_view(actor(Role.KIOSK, room_id=3), CASE)
    assert not may_view(actor(Role.KIOSK, room_id=4), CASE)
    assert not may_view(actor(Role.ADMIN, court_id=1, committee_id=10), CASE)
    assert not may_view(actor(Role.SYSTEM), CASE)


@pytest.mark.parametrize("state", list(State))
def test_a_kiosk_sees_its_room_only_from_scheduling_until_service(state: State) -> None:
    scope = CaseScope(1, 10, 5, 3, state)
    expected = state in {
        State.SCHEDULED,
        State.IN_SESSION,
        State.CONFIRMED,
        State.REJECTED,
        State.WITHDRAWN,
        State.RULING_ISSUED,
        State.SERVED,
    }
    assert may_view(actor(Role.KIOSK, room_id=3), scope) is expected
    assert (state in KIOSK_STATES) is expected


# --- configuration --------------------------------------------------------------------------


def test_defaults_work_without_any_variable(tmp_path: Path) -> None:
    settings = Settings.from_env({}, base=tmp_path)
    assert settings.port == 8080 and settings.host == "127.0.0.1"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'sifa.db'}"
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.certs_dir == tmp_path / "certs"
    assert settings.max_upload_bytes == 20 * 1024 * 1024


def test_values_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "SIFA_PORT": "9443",
            "SIFA_HOST": "0.0.0.0",
            "SIFA_MAX_UPLOAD_MB": "1",
            "SIFA_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/sifa",
            "SIFA_PUBLIC_URL": "https://sifa.example.cn/",
            "SIFA_CERTS_DIR": "/srv/certs",
        },
        base=tmp_path,
    )
    assert settings.port == 9443 and settings.host == "0.0.0.0"
    assert settings.max_upload_bytes == 1024 * 1024
    assert settings.public_url == "https://sifa.example.cn"
    assert settings.certs_dir == Path("/srv/certs")
    assert Settings.from_env({"SIFA_HOST": "0.0.0.0"}, base=tmp_path).public_url == (
        "http://127.0.0.1:8080"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIFA_PORT", "abc"),
        ("SIFA_PORT", "0"),
        ("SIFA_PORT", "70000"),
        ("SIFA_DATABASE_URL", "mysql://root@localhost/sifa"),
        ("SIFA_DATABASE_URL", "sqlite:///plain-driver.db"),
        ("SIFA_HOST", "nonsense"),
        ("SIFA_PUBLIC_URL", "ftp://x"),
        ("SIFA_PUBLIC_URL", "http://"),
        ("SIFA_MAX_UPLOAD_MB", "lots"),
        ("SIFA_SECRET_KEY", "short"),
        ("SIFA_LOG_LEVEL", "LOUD"),
        ("SIFA_TSA_URL", "ftp://tsa"),
        ("SIFA_STUN_URLS", "http://stun.example"),
        ("SIFA_NODE_NAME", "node one"),
        ("SIFA_NODE_NAME", "-" + "n" * 100),
        ("SIFA_WS_RATE_BURST", "0"),
        ("SIFA_WS_RATE_PER_SECOND", "fast"),
        ("SIFA_WS_FLOOD_STRIKES", "-1"),
        ("SIFA_WS_REPLAY_MB", "0"),
        ("SIFA_EVENT_LOOP", "tokio"),
        ("SIFA_COMMITTEE_P12_DIR", "no-such-folder"),
    ],
)
def test_a_wrong_value_names_its_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({name: value}, base=tmp_path)
    assert error.value.name == name
    assert str(error.value).startswith(f"{name}:")


def test_signaling_limits_and_the_event_loop_are_settings(tmp_path: Path) -> None:
    default = Settings.from_env({}, base=tmp_path)
    assert (default.ws_rate_burst, default.ws_rate_per_second, default.ws_flood_strikes) == (
        120,
        20,
        100,
    )
    assert default.ws_replay_mb == 64 and default.event_loop == "uvloop"
    told = Settings.from_env(
        {
            "SIFA_WS_RATE_BURST": "300",
            "SIFA_WS_RATE_PER_SECOND": "50",
            "SIFA_WS_FLOOD_STRIKES": "400",
            "SIFA_WS_REPLAY_MB": "16",
            "SIFA_EVENT_LOOP": "asyncio",
        },
        base=tmp_path,
    )
    assert (told.ws_rate_burst, told.ws_rate_per_second, told.ws_flood_strikes) == (300, 50, 400)
    assert told.ws_replay_mb == 16 and told.event_loop == "asyncio"


def test_a_server_is_named_by_its_host_unless_told(tmp_path: Path) -> None:
    assert Settings.from_env({}, base=tmp_path).node_name == socket.gethostname()
    told = Settings.from_env({"SIFA_NODE_NAME": " court-2.node_b "}, base=tmp_path)
    assert told.node_name == "court-2.node_b"
