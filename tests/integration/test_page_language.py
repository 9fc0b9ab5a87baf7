"""Pages speak the page's language: the timeline's details as words (never Python output),
and punctuation that belongs to the language, on the same mixed hearing the party service
tests run (one party in the hall, one on their own device)."""

from __future__ import annotations

import datetime as dt
import html
import re

from app.domain.clock import COURT_TZ
from app.services.demo import sample_application

from integration.conftest import Sifa
from integration.ruling_flow import ok, sign_for
from integration.test_live_room import served
from integration.test_party_service import ROOM, mixed_hearing

__all__ = ["served"]

PYTHON_OUTPUT = ("{'", "'}", "True", "False", "None", "=")


def cells(page: str, css: str) -> list[str]:
    found = re.findall(rf'<td class="{css}">(.*?)</td>', page, flags=re.S)
    return [html.unescape(c).strip() for c in found]


async def test_the_timeline_details_read_as_words_in_both_languages(served: Sifa) -> None:
    h = await mixed_hearing(served)
    await ok(await sign_for(h.kiosk, h.case_id, 0), 201)
    await ok(await sign_for(h.device, h.case_id, None, h.headers), 201)

    expected = {
        "zh-CN": [
            "摄像头正常；麦克风正常；网络正常",
            "方式：当庭出示身份证件比对；结果：通过",
            "设备：本人设备",
            "设备：确认室终端",
            "自愿、平等达成协议：是；清楚协议内容及法律后果：是",
            "审查：各项情形均不存在",
            "身份：当事人（本人设备）",
            "设备：受送达人本人设备",
            "方式：通过人民法院在线服务平台向受送达人本人设备电子送达",
        ],
        "en": [
            "camera OK; microphone OK; network OK",
            "method: ID card shown to the camera; result: passed",
            "device: own device",
            "device: the room's kiosk",
            "agreed freely and as equals: yes; understands the terms and consequences: yes",
            "review: none of the grounds found",
            "as: Party (own device)",
            "method: served on the party's own device through the court's platform; "
            "device: the party's own device",
            "method: served at the room's kiosk",
        ],
    }
    for lang, texts in expected.items():
        response = await h.clerk.get(
            f"/cases/{h.case_id}/timeline", headers={"Accept-Language": lang}
        )
        assert response.status == 200
        details = cells(await response.text(), "muted")
        assert details, "no details column"
        for text in details:
            assert not any(bad in text for bad in PYTHON_OUTPUT), (lang, text)
            assert not text.endswith(("：", ":")), (lang, text)  # a label without a value
        joined = "\n".join(details)
        for text in texts:
            assert text in joined, (lang, text, joined)
        if lang == "en":
            # No Chinese punctuation but inside what was recorded verbatim (the kiosk's place).
            words = joined.replace(ROOM, "")
            assert not re.search(r"[，；：（）]", words), joined
    # The room's seat is the actor already named in its own column, not repeated.
    assert f"party-{h.case_id}-1" not in joined


async def test_english_pages_use_english_punctuation(served: Sifa) -> None:
    h = await mixed_hearing(served)
    await ok(await sign_for(h.kiosk, h.case_id, 0), 201)
    for lang, who, names, parts in (
        ("zh-CN", "陈静（书记员）", "张三、赵六", ["<strong>张三</strong>，男，", "张三：已签收"]),
        (
            "en",
            "陈静 (Clerk)",
            "张三, 赵六",
            ["<strong>张三</strong>, Male, ", "张三: acknowledged"],
        ),
    ):
        headers = {"Accept-Language": lang}
        listed = await (await h.clerk.get("/cases", headers=headers)).text()
        assert who in listed and names in listed, lang
        page = await (await h.clerk.get(f"/cases/{h.case_id}", headers=headers)).text()
        assert who in page, lang
        for part in parts:
            assert part in page, (lang, part)

    # The actions card puts its heading above the forms: not the row layout of "actions".
    today = dt.datetime.now(COURT_TZ).date()
    draft = await ok(await h.mediator.post("/api/cases", json=sample_application(today)), 201)
    page = await (await h.mediator.get(f"/cases/{draft['id']}")).text()
    card = page.split('<section class="card case-actions"', 1)[1].split("</section>", 1)[0]
    assert card.index("<h2>") < card.index("<form")
    assert 'class="card actions"' not in page
