"""The court's mediation figures per hall, from the video rooms' real audit trail: a mediation
counts under the hall of the first kiosk that joined its video session, else under its
committee's only hall, else under the online row (app/domain/mediation_figures.py)."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from signaling.server import SERVER_KEY

from integration.conftest import Sifa
from integration.ruling_flow import ok
from integration.test_admin_accounts import cookie_login
from integration.test_mediation_agreement_api import in_mediation
from integration.test_mediation_api import filed
from integration.test_mediation_room_api import seat

ROW = re.compile(r"<tr><td>([^<]*)</td>((?:<td>[^<]*</td>){5})</tr>")


async def by_hall(clerk: TestClient, lang: str = "zh-CN") -> dict[str, list[str]]:
    """The page's per-hall mediation table: hall → its five cells."""
    page = await (await clerk.get(f"/figures?lang={lang}")).text()
    table = re.search(r'<table class="list figures" id="mediation-halls">(.*?)</table>', page, re.S)
    assert table is not None, page
    return {hall: re.findall(r"<td>([^<]*)</td>", cells) for hall, cells in ROW.findall(table[1])}


async def visited(sifa: Sifa, mediator: TestClient, mediation_id: int, *kiosks: str) -> None:
    """The mediator hosts the video session; each kiosk in turn joins it and leaves."""
    host = await seat(mediator, mediation_id).join()
    for name in kiosks:
        at_kiosk = await seat(await sifa.as_user(name), mediation_id).join()
        assert at_kiosk.role == "kiosk"
        await host.admit(at_kiosk)
        await at_kiosk.leave()
    await host.leave()


async def test_a_mediation_counts_under_the_hall_of_the_kiosk_that_joined_it(sifa: Sifa) -> None:
    # 光明's committee has six halls; kiosk1 sits in 光明社区, kiosk3 in 东周社区.
    mediator, at_guangming = await in_mediation(sifa, checked=False)
    _, at_dongzhou = await in_mediation(sifa, checked=False)
    _, online = await in_mediation(sifa, checked=False)
    # kiosk1 came first: the mediation stays 光明社区's though kiosk3 joined after it.
    await visited(sifa, mediator, at_guangming, "kiosk1", "kiosk3")
    await visited(sifa, mediator, at_dongzhou, "kiosk3")
    # The mediator alone: no kiosk, and the committee has more than one hall.
    await visited(sifa, mediator, online)
    await ok(
        await mediator.post(f"/api/mediations/{at_dongzhou}/fail", json={"note": "未能达成一致"})
    )
    await sifa.app[SERVER_KEY].audit_flushed()

    clerk = await cookie_login(sifa, "clerk")
    halls = await by_hall(clerk)
    assert list(halls) == ["东周社区", "光明社区", "未在调解室进行（线上）"], halls
    # Received, agreed, not settled, confirmed, settled rate.
    assert halls["光明社区"] == ["1", "0", "0", "0", "0%"]
    assert halls["东周社区"] == ["1", "0", "1", "0", "0%"]
    assert halls["未在调解室进行（线上）"] == ["1", "0", "0", "0", "0%"]
    # In English, the online row in English; halls keep their names.
    english = await by_hall(clerk, "en")
    assert list(english) == ["东周社区", "光明社区", "Not in a hall (online only)"], english
    # 南山's clerk sees none of 光明's mediations: no per-hall table at all.
    elsewhere = await (await (await cookie_login(sifa, "clerk_ns")).get("/figures")).text()
    assert 'id="mediation-halls"' not in elsewhere and "东周社区" not in elsewhere


async def test_without_a_kiosk_a_one_hall_committee_held_it_in_its_hall(sifa: Sifa) -> None:
    # 南山's committee has one hall, 南头社区: a mediation no kiosk joined was held there.
    await filed(await sifa.as_user("mediator_ns"), sifa)
    halls = await by_hall(await cookie_login(sifa, "clerk_ns"))
    assert halls == {"南头社区": ["1", "0", "0", "0", "0%"]}, halls
