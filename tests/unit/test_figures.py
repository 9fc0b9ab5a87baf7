"""Caseload figures: counting per ISO week and hall, medians, and the SVG charts."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from app.domain.figures import (
    Bar,
    CaseFact,
    bar_chart_svg,
    by_hall,
    iso_week,
    median,
    minutes,
    percent,
    percentile,
    weekly,
)
from app.domain.mediation import MediationState as S
from app.domain.mediation_figures import (
    ONLINE,
    MediationFact,
    held_in,
    mediation_committees,
    mediation_halls,
    mediation_weeks,
)

MON = dt.date(2026, 11, 23)  # ISO week 48
NEXT = MON + dt.timedelta(days=7)  # week 49


def fact(hall: str = "光明社区", **kw: object) -> CaseFact:
    return CaseFact(hall=hall, received=kw.pop("received", MON), **kw)  # type: ignore[arg-type]


def test_iso_week_crosses_the_year_like_iso_does() -> None:
    assert iso_week(dt.date(2026, 11, 27)) == "2026-W48"
    assert iso_week(dt.date(2027, 1, 1)) == "2026-W53"
    assert iso_week(dt.date(2024, 12, 30)) == "2025-W01"


def test_median_and_percentile() -> None:
    assert median([]) is None
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert percentile([], 95) is None
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([7], 95) == 7
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_weekly_counts_received_and_decided_in_their_own_weeks() -> None:
    facts = [
        fact(decided=MON, decision="confirm"),
        fact(decided=NEXT, decision="reject"),
        fact(),
        fact(received=NEXT, decided=NEXT, decision="withdraw"),
    ]
    rows = {r.week: r.counts for r in weekly(facts)}
    assert list(rows) == ["2026-W48", "2026-W49"]
    w48, w49 = rows["2026-W48"], rows["2026-W49"]
    assert (w48.received, w48.confirmed, w48.rejected, w48.withdrawn) == (3, 1, 0, 0)
    assert (w49.received, w49.confirmed, w49.rejected, w49.withdrawn) == (1, 0, 1, 1)
    # Of week 48's three applications, two are decided so far (one of them in week 49).
    assert w48.resolved_rate == pytest.approx(2 / 3)
    assert w49.resolved_rate == 1.0
    assert weekly([]) == []


def test_by_hall_medians_of_served_sessions_and_steps() -> None:
    facts = [
        fact(
            decided=MON,
            decision="confirm",
            session_seconds=600,
            step_seconds={"identity": 120, "inquiry": 200},
        ),
        fact(decided=MON, decision="confirm", session_seconds=900, step_seconds={"identity": 180}),
        fact(decided=MON, decision="confirm", session_seconds=1500),
        fact("东周社区"),
    ]
    rows = {r.hall: r for r in by_hall(facts)}
    guangming = rows["光明社区"]
    assert guangming.sessions == 3
    assert guangming.median_session_seconds == 900
    assert guangming.p95_session_seconds == 1500
    assert guangming.median_step_seconds["identity"] == 150
    assert guangming.median_step_seconds["inquiry"] == 200
    assert guangming.median_step_seconds["review"] is None
    assert guangming.counts.resolved_rate == 1.0
    dongzhou = rows["东周社区"]
    assert dongzhou.sessions == 0 and dongzhou.median_session_seconds is None
    assert dongzhou.counts.resolved_rate == 0.0


def test_a_fact_must_be_consistent() -> None:
    with pytest.raises(ValueError):
        CaseFact("h", MON, decided=MON, decision="maybe")
    with pytest.raises(ValueError):
        CaseFact("h", MON, decided=MON)


def test_formatting() -> None:
    assert minutes(725) == "12:05"
    assert minutes(None) == "–"
    assert percent(0.5) == "50%"
    assert percent(None) == "–"


def test_bar_chart_is_valid_svg_with_escaped_labels_and_scaled_bars() -> None:
    svg = bar_chart_svg(
        [Bar("<光明>", 10), Bar("东周", 5, "5 件")], title='Cases "per" hall', width=500
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert "style" not in svg  # the CSP forbids inline styles
    rects = root.findall(f"{ns}rect")
    assert [float(r.get("width", "0")) for r in rects] == [290.0, 145.0]
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "<光明>" in texts and "5 件" in texts
    assert root.findtext(f"{ns}title") == 'Cases "per" hall'


def test_bar_chart_edge_cases() -> None:
    empty = ET.fromstring(bar_chart_svg([], title="none"))
    assert empty.findall("{http://www.w3.org/2000/svg}rect") == []
    zero = ET.fromstring(bar_chart_svg([Bar("a", 0)], title="zero"))
    assert zero.find("{http://www.w3.org/2000/svg}rect").get("width") == "0.0"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        bar_chart_svg([Bar("a", -1)], title="bad")


def test_weeks_read_as_dates() -> None:
    from app.domain.figures import week_dates

    assert week_dates("2026-W49", "zh-CN") == "11月30日–12月6日"
    assert week_dates("2026-W49", "en") == "30 Nov – 6 Dec"
    assert week_dates("2026-W53", "zh-CN") == "2026年12月28日–2027年1月3日"
    assert week_dates("2026-W53", "en") == "28 Dec 2026 – 3 Jan 2027"


def test_mediation_figures_by_week_and_by_committee() -> None:
    monday = dt.date(2026, 11, 30)  # ISO week 2026-W49
    facts = [
        # Filed in W49, agreed in W49, confirmed by the court in W50.
        MediationFact("甲委员会", monday, monday + dt.timedelta(days=2), S.AGREED,
                      monday + dt.timedelta(days=8), hall="光明社区"),
        # Filed in W49, refused in W50.
        MediationFact("甲委员会", monday, monday + dt.timedelta(days=9), S.REFUSED, hall=ONLINE),
        # Filed in W50, still open.
        MediationFact("乙委员会", monday + dt.timedelta(days=7), hall="南头社区"),
    ]  # fmt: skip
    weeks = {r.key: r.counts for r in mediation_weeks(facts)}
    assert list(weeks) == ["2026-W49", "2026-W50"]
    w49, w50 = weeks["2026-W49"], weeks["2026-W50"]
    assert (w49.received, w49.agreed, w49.not_settled, w49.confirmed) == (2, 1, 0, 0)
    assert w49.settled_rate == 0.5
    assert (w50.received, w50.agreed, w50.not_settled, w50.confirmed) == (1, 0, 1, 1)
    assert w50.settled_rate == 0.0
    committees = {r.key: r.counts for r in mediation_committees(facts)}
    assert (committees["甲委员会"].received, committees["甲委员会"].confirmed) == (2, 1)
    assert committees["乙委员会"].settled_rate == 0.0
    with pytest.raises(ValueError):
        MediationFact("甲委员会", monday, monday, None, hall="光明社区")
    with pytest.raises(ValueError):
        MediationFact("甲委员会", monday, monday, S.SCHEDULED, hall="光明社区")


def test_a_mediation_counts_under_its_kiosks_hall_else_its_committees_only_hall() -> None:
    two_halls = ["光明社区", "东周社区"]
    # A kiosk joined: its hall, even the committee's second one, or another committee's.
    assert held_in("东周社区", two_halls) == "东周社区"
    assert held_in("南头社区", two_halls) == "南头社区"
    # No kiosk: the committee's hall when it has only one, else nowhere in particular.
    assert held_in(None, ["南头社区"]) == "南头社区"
    assert held_in(None, two_halls) == ONLINE
    assert held_in(None, []) == ONLINE


def test_mediation_figures_by_hall_with_the_online_row_last() -> None:
    monday = dt.date(2026, 11, 30)
    later = monday + dt.timedelta(days=3)
    # 甲 has two halls (光明, 东周); 乙 one (南头). Which kiosk joined, if any, decides.
    facts = [
        # 甲's kiosk in 光明 joined: agreed, and confirmed by the court.
        MediationFact("甲委员会", monday, later, S.AGREED, later,
                      hall=held_in("光明社区", ["光明社区", "东周社区"])),
        # 甲's kiosk in its second hall, 东周, joined: failed.
        MediationFact("甲委员会", monday, later, S.FAILED,
                      hall=held_in("东周社区", ["光明社区", "东周社区"])),
        # No kiosk, 甲 has two halls: online only, withdrawn.
        MediationFact("甲委员会", monday, later, S.WITHDRAWN,
                      hall=held_in(None, ["光明社区", "东周社区"])),
        # No kiosk, 乙 has one hall: counted there; still open.
        MediationFact("乙委员会", monday, hall=held_in(None, ["南头社区"])),
        # Another of 甲's held in 光明, still open: the rate is of those received.
        MediationFact("甲委员会", later, hall="光明社区"),
        # A hall whose name sorts after the online row's (翠 > 未).
        MediationFact("甲委员会", later, hall="翠湖社区"),
    ]  # fmt: skip
    rows = mediation_halls(facts)
    # By name (code points, as for committees), the online row last whatever its name.
    assert [r.key for r in rows] == ["东周社区", "光明社区", "南头社区", "翠湖社区", ONLINE]
    counts = {r.key: r.counts for r in rows}
    guangming, dongzhou, nantou, online = (
        counts[k] for k in ("光明社区", "东周社区", "南头社区", ONLINE)
    )
    assert (guangming.received, guangming.agreed, guangming.not_settled) == (2, 1, 0)
    assert (guangming.confirmed, guangming.settled_rate) == (1, 0.5)
    assert (dongzhou.received, dongzhou.agreed, dongzhou.not_settled) == (1, 0, 1)
    assert (nantou.received, nantou.not_settled, nantou.settled_rate) == (1, 0, 0.0)
    assert (online.received, online.agreed, online.not_settled, online.confirmed) == (1, 0, 1, 0)
    # Every mediation is in exactly one hall's row: the halls add up to the committees.
    by_committee = mediation_committees(facts)
    assert sum(r.counts.received for r in rows) == sum(r.counts.received for r in by_committee)
    assert sum(r.counts.not_settled for r in rows) == 2
    # A hall nobody used has no row; no mediations, no rows.
    assert mediation_halls([]) == []


def test_the_hall_is_required() -> None:
    with pytest.raises(TypeError):
        MediationFact("甲委员会", dt.date(2026, 11, 30))  # type: ignore[call-arg]
