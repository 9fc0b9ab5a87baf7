"""Where a party confirmed is part of the derived session: the kiosk or their own device."""

from __future__ import annotations

import datetime as dt

from app.domain.session import Device, Event, Kind, derive

T0 = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
PASSED = {"method": "id_card_camera", "result": "passed", "reference": "", "note": ""}


def _event(seq: int, kind: Kind, party: int | None, **payload: object) -> Event:
    return Event(1, seq, kind, party, payload, T0 + dt.timedelta(minutes=seq), "someone")


def test_consent_device_comes_from_the_record() -> None:
    events = [
        _event(1, Kind.ADMIT, None),
        _event(2, Kind.IDENTITY, 0, **PASSED),
        _event(3, Kind.IDENTITY, 1, **PASSED),
        _event(4, Kind.WARNING_ACK, 0),
        _event(5, Kind.WARNING_ACK, 1),
        _event(6, Kind.CONSENT, 0, device="kiosk"),
        _event(7, Kind.CONSENT, 1, device="own_device"),
    ]
    view = derive(events, {0: "张三", 1: "赵六"}, now=T0 + dt.timedelta(hours=1))
    assert [p.consent_device for p in view.parties] == [Device.KIOSK, Device.OWN_DEVICE]


def test_no_consent_no_device_and_older_records_were_the_kiosk() -> None:
    events = [_event(1, Kind.CONSENT, 0)]  # recorded before the device was
    view = derive(events, {0: "张三", 1: "赵六"}, now=T0 + dt.timedelta(hours=1))
    assert [p.consent_device for p in view.parties] == [Device.KIOSK, None]
