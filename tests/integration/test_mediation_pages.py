"""The mediator's mediation pages through real form posts with the session cookie: filing a
dispute (a wrong ID number answered on the form), accepting it, the limit on the list and the
page, a party's refusal; other roles and committees refused."""

from __future__ import annotations

import datetime as dt
import re

from aiohttp.test_utils import TestClient

from app.services.demo import sample_application

from integration.conftest import Sifa
from integration.test_admin_accounts import cookie_login, page_csrf


def filing_form(today: dt.date, csrf: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "dispute_type": "邻里纠纷",
        "facts": "楼上住户装修漏水，致楼下天花板受损。",
        "claims": "要求赔偿维修费人民币5000元。",
    }
    for i, party in enumerate(sample_application(today)["applicants"]):
        form.update({f"a{i}_{key}": str(value) for key, value in party.items()})
    return form


async def post(client: TestClient, path: str, form: dict[str, str]) -> tuple[int, str, str]:
    response = await client.post(path, data=form, allow_redirects=False)
    return response.status, response.headers.get("Location", ""), await response.text()


async def test_file_accept_and_refuse_through_the_pages(sifa: Sifa) -> None:
    mediator = await cookie_login(sifa, "mediator")
    _, csrf = await page_csrf(mediator, "/mediations/new")
    today = sifa.clock.now.date()
    wrong = {**filing_form(today, csrf), "a0_id_number": "440311198005120010"}
    status, _, page = await post(mediator, "/mediations/new", wrong)
    assert status == 422 and "parties[0].id_number" in page
    assert "楼上住户装修漏水" in page  # what was typed stays in the form

    status, where, _ = await post(mediator, "/mediations/new", filing_form(today, csrf))
    assert status == 303 and re.fullmatch(r"/mediations/\d+", where), where
    page = await (await mediator.get(where)).text()
    assert "待受理" in page and "受理后起算三十日" in page and "4403" in page
    assert "440311198005120" not in page  # masked

    me = re.search(r'<option value="(\d+)" selected>李华</option>', page)
    assert me is not None, page
    form = {"csrf_token": csrf, "mediator_id": me.group(1)}
    status, back, _ = await post(mediator, f"{where}/accept", form)
    assert (status, back) == (303, where)
    listing = await (await mediator.get("/mediations")).text()
    assert "还剩 30 天" in listing and 'data-urgency="on_time"' in listing

    sifa.clock.now += dt.timedelta(days=31)
    mediator = await cookie_login(sifa, "mediator")  # the earlier login has expired
    listing = await (await mediator.get("/mediations")).text()
    assert "已超期 1 天" in listing and 'data-urgency="overdue"' in listing
    _, csrf = await page_csrf(mediator, where)
    status, _, page = await post(mediator, f"{where}/agree", {"csrf_token": csrf})
    assert status == 409 and "本调解案件已受理，不能记录达成协议。" in page
    form = {"csrf_token": csrf, "party": "1", "note": "赵六不同意调解"}
    status, back, _ = await post(mediator, f"{where}/refuse", form)
    assert (status, back) == (303, where)
    page = await (await mediator.get(where)).text()
    assert (
        "当事人拒绝调解" in page
        and "赵六不同意调解" in page
        and 'id="mediation-actions"' not in page
    )


async def test_a_failure_through_the_page_leaves_its_sealed_record(sifa: Sifa) -> None:
    mediator = await cookie_login(sifa, "mediator")
    _, csrf = await page_csrf(mediator, "/mediations/new")
    _, where, _ = await post(mediator, "/mediations/new", filing_form(sifa.clock.now.date(), csrf))
    page = await (await mediator.get(where)).text()
    me = re.search(r'<option value="(\d+)" selected>李华</option>', page)
    assert me is not None
    await post(mediator, f"{where}/accept", {"csrf_token": csrf, "mediator_id": me.group(1)})
    status, _, page = await post(mediator, f"{where}/fail", {"csrf_token": csrf, "note": ""})
    assert status == 422 and "请写明终止调解的情况" in page
    form = {"csrf_token": csrf, "note": "双方对赔偿数额分歧过大"}
    status, back, _ = await post(mediator, f"{where}/fail", form)
    assert (status, back) == (303, where)
    page = await (await mediator.get(where)).text()
    link = re.search(r'<a href="(/api/mediations/\d+/termination\.pdf)">人民调解终止书', page)
    assert link is not None, page
    pdf = await mediator.get(link.group(1))
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")


async def test_only_the_committees_mediators_see_the_pages(sifa: Sifa) -> None:
    mediator = await cookie_login(sifa, "mediator")
    _, csrf = await page_csrf(mediator, "/mediations/new")
    _, where, _ = await post(mediator, "/mediations/new", filing_form(sifa.clock.now.date(), csrf))
    for username in ("clerk", "judge", "admin"):
        other = await cookie_login(sifa, username)
        for path in ("/mediations", "/mediations/new", where):
            assert (await other.get(path)).status == 403, (username, path)
    stranger = await cookie_login(sifa, "mediator_ns")
    assert (await stranger.get(where)).status == 404
    _, csrf = await page_csrf(stranger, "/mediations")
    status, _, _ = await post(stranger, f"{where}/accept", {"csrf_token": csrf, "mediator_id": "1"})
    assert status == 404
    assert "暂无调解案件" in await (await stranger.get("/mediations")).text()
    # An action that does not exist names no page.
    _, csrf = await page_csrf(mediator, where)
    status, _, _ = await post(mediator, f"{where}/archive", {"csrf_token": csrf})
    assert status == 404


async def test_a_party_applies_on_the_public_page(sifa: Sifa) -> None:
    from integration.test_mediation_filing import texted_code

    party: TestClient = await sifa.make_client(sifa.app)
    page = await (await party.get("/mediation/apply")).text()
    assert "光明街道人民调解委员会" in page and "获取短信验证码" in page
    form = filing_form(sifa.clock.now.date(), "")
    form.pop("csrf_token")
    form.update({"committee_id": "1", "phone": "13800000001", "code": ""})
    status, _, page = await post(party, "/mediation/apply/code", form)
    assert status == 200 and "验证码已发送至 138****0001" in page
    assert "楼上住户装修漏水" in page  # what was typed stays
    status, _, page = await post(party, "/mediation/apply", {**form, "code": "000000"})
    if status != 400:  # 000000 may, once in a million, be the code itself
        assert status == 201
    else:
        assert "验证码不正确或已失效" in page
        code = await texted_code(sifa)
        status, _, page = await post(party, "/mediation/apply", {**form, "code": code})
        assert status == 201
    assert "申请已提交（调解第" in page
