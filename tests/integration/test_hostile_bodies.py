"""Hostile request bodies get a clear 4xx with the error shape, never a 500: nesting, lone
surrogates, control characters, huge numbers and bodies that are not JSON at all."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from app.domain.clock import court_date
from app.services.demo import sample_application

from integration.api_support import error_of

JSON = {"Content-Type": "application/json"}


async def post_raw(client: TestClient, path: str, body: bytes) -> aiohttp.ClientResponse:
    return await client.post(path, data=body, headers=JSON)


async def case_count(client: TestClient) -> int:
    return len((await (await client.get("/api/cases")).json())["cases"])


def bilingual(error: dict[str, Any]) -> None:
    zh, sep, en = error["message"].partition(" / ")
    assert sep and zh and en.isascii(), error["message"]


async def test_the_login_refuses_what_is_not_a_strict_json_object(sifa: Any) -> None:
    client = await sifa.make_client(sifa.app)
    deep = b'{"username": ' + b"[" * 900 + b"]" * 900 + b', "password": "x"}'
    bilingual(await error_of(await post_raw(client, "/api/login", deep), 400, "too_deep"))
    for field in ("username", "password"):
        body = {"username": "judge", "password": "demo", field: "\\ud800"}
        raw = json.dumps(body).replace("\\\\ud800", "\\ud800").encode()
        assert b"\\ud800" in raw
        error = await error_of(await post_raw(client, "/api/login", raw), 400, "bad_text")
        bilingual(error)
    nul = json.dumps({"username": "judge\u0000", "password": "demo"}).encode()
    await error_of(await post_raw(client, "/api/login", nul), 400, "bad_text")
    as_text = await client.post(
        "/api/login",
        data=json.dumps({"username": "judge", "password": "demo"}),
        headers={"Content-Type": "text/plain"},
    )
    bilingual(await error_of(as_text, 415, "unsupported_media_type"))
    for constant in (b"NaN", b"Infinity", b"1e999"):
        body = b'{"username": "judge", "password": "demo", "n": ' + constant + b"}"
        response = await post_raw(client, "/api/login", body)
        assert response.status == 400, await response.text()
    # brackets inside strings are text, not nesting
    text = json.dumps({"username": "[" * 100, "password": "{" * 100}).encode()
    await error_of(await post_raw(client, "/api/login", text), 401, "unauthenticated")
    ok = await client.post("/api/login", json={"username": "judge", "password": "demo"})
    assert ok.status == 200


async def test_application_bodies_with_hostile_values_are_refused_whole(sifa: Any) -> None:
    mediator = await sifa.as_user("mediator")
    before = await case_count(mediator)
    application = sample_application(court_date(sifa.clock.now))
    application["applicants"][0]["name"] = "张\u0000三"  # type: ignore[index]
    error = await error_of(await mediator.post("/api/cases", json=application), 400, "bad_text")
    bilingual(error)
    application["applicants"][0]["name"] = "张\u0007三"  # type: ignore[index]
    await error_of(await mediator.post("/api/cases", json=application), 400, "bad_text")
    application["applicants"][0]["name"] = "张三"  # type: ignore[index]
    application["extra"] = 2**64
    bilingual(
        await error_of(
            await mediator.post("/api/cases", json=application), 400, "number_out_of_range"
        )
    )
    del application["extra"]
    deep: Any = "x"
    for _ in range(33):
        deep = [deep]
    application["terms"] = deep
    await error_of(await mediator.post("/api/cases", json=application), 400, "too_deep")
    plain = await mediator.post(
        "/api/cases", data=json.dumps(sample_application(court_date(sifa.clock.now)))
    )
    await error_of(plain, 415, "unsupported_media_type")
    assert await case_count(mediator) == before
    # lines and tabs are text: an agreement's terms may span lines
    application["terms"] = ["第一条\n第二条\t完"]
    created = await mediator.post("/api/cases", json=application)
    assert created.status == 201, await created.text()
    assert await case_count(mediator) == before + 1


async def test_page_forms_refuse_control_characters_and_broken_bodies(sifa: Any) -> None:
    client = await sifa.make_client(sifa.app)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    nul = await client.post(
        "/login", data=b"username=judge%00&password=demo", headers=form, allow_redirects=False
    )
    assert nul.status == 400, await nul.text()
    assert "控制字符" in await nul.text()
    truncated = b'--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nju'
    broken = await client.post(
        "/login",
        data=truncated,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        allow_redirects=False,
    )
    assert broken.status == 400, await broken.text()
    fine = await client.post(
        "/login", data={"username": "judge", "password": "demo"}, allow_redirects=False
    )
    assert fine.status == 303


async def test_api_refusals_speak_chinese_first_then_english(sifa: Any) -> None:
    mediator = await sifa.as_user("mediator")
    bilingual(await error_of(await mediator.get("/api/no-such-thing"), 404, "not_found"))
    bilingual(await error_of(await mediator.get("/api/cases/x"), 404, "not_found"))
    bilingual(await error_of(await mediator.put("/api/cases"), 405, "method_not_allowed"))
    empty = await error_of(await mediator.post("/api/cases", json={}), 422, "validation_failed")
    for field in empty["fields"]:
        zh, sep, en = field["problem"].partition(" / ")
        assert sep and zh and not zh.isascii() and en.isascii(), field
    state = await error_of(await mediator.get("/api/cases?state=lost"), 422, "validation_failed")
    bilingual({"message": state["fields"][0]["problem"]})


async def test_urls_with_control_characters_are_refused(sifa: Any) -> None:
    clerk = await sifa.as_user("clerk")
    for path in ("/api/rulings?party=%00", "/api/rulings?case_number=%1b", "/api/cases?%00=1"):
        bilingual(await error_of(await clerk.get(path), 400, "bad_text"))
    page = await clerk.get("/rulings?party=%00")
    assert page.status == 400
    for path in ("/verify/%00", "/verify/abc%07"):  # a path parameter, looked up as text
        assert (await clerk.get(path)).status == 400
    bilingual(await error_of(await clerk.get("/api/cases/%00"), 400, "bad_text"))
    assert (await clerk.get("/api/rulings?party=%E5%BC%A0")).status == 200
