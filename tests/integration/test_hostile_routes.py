"""Every API route, as every role, against hostile ids and bodies: always an answer below 500
with the error shape, never a server error. A small, fixed sweep that runs in the suite."""

from __future__ import annotations

import re
from typing import Any

from integration.conftest import Sifa

HOSTILE_IDS = ["99999999999999999999", "2147483648", "%2029", "+1", "%EF%BC%91", "0", "-1", "x"]
JSON = "application/json"
HOSTILE_BODIES: list[tuple[bytes, str]] = [
    (b"[" * 900 + b"]" * 900, JSON),
    (b'{"a": "\\ud800", "username": "\\udfff", "password": "\\ud800"}', JSON),
    (b'{"name": "a\\u0000b", "party": 0, "judge_id": 1}', JSON),
    (b'{"judge_id": 99999999999999999999, "room_id": 1e999, "party": -99999999999999999999}', JSON),
    (b'{"party": NaN}', JSON),
    (b"\xff\xfe\x00{", JSON),
    (b'{"username": "judge", "password": "demo"}', "text/plain"),
    (b'{"truncated": ', JSON),
    (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00"\r\n\r\nx',
        "multipart/form-data; boundary=b",
    ),
]
ROLES = ["admin", "clerk", "mediator", "judge", "kiosk1"]
PARAM = re.compile(r"\{[^}]+\}")


def api_routes(sifa: Sifa) -> list[tuple[str, str]]:
    routes = set()
    for route in sifa.app.router.routes():
        info = route.resource.canonical if route.resource is not None else ""
        if info.startswith("/api/") and route.method not in ("HEAD", "*"):
            routes.add((route.method, info))
    return sorted(routes)


def requests_for(method: str, path: str) -> list[tuple[str, bytes, str]]:
    """Hostile ids in every path parameter (with a hostile body on changes); every hostile
    body where the path has none. Valid ids are left out: a route that reads no body would act."""
    if "{" in path:
        body, content_type = HOSTILE_BODIES[1] if method != "GET" else (b"", "")
        return [(PARAM.sub(raw, path), body, content_type) for raw in HOSTILE_IDS]
    if method == "GET":
        return [(path + "?state=%00&party=%00", b"", ""), (path + "?page=-1&lang=xx", b"", "")]
    return [(path, body, content_type) for body, content_type in HOSTILE_BODIES]


async def test_no_route_answers_a_hostile_request_with_a_server_error(sifa: Sifa) -> None:
    routes = [r for r in api_routes(sifa) if r[1] != "/api/logout"]
    assert len(routes) > 40
    sent = 0
    for username in ROLES:
        client = await sifa.as_user(username)
        for method, path in routes:
            for target, body, content_type in requests_for(method, path):
                headers = {"Content-Type": content_type} if content_type else {}
                response = await client.request(method, target, data=body, headers=headers)
                sent += 1
                what = (username, method, target, body[:40])
                assert response.status < 500, (*what, await response.text())
                if response.status >= 400:
                    answer: Any = await response.json()
                    assert set(answer) == {"error"} and answer["error"]["message"], (*what, answer)
    assert sent > 2000


HOSTILE_FORMS: list[tuple[bytes, str]] = [
    (b"username=a%00&x=%ED%A0%80", "application/x-www-form-urlencoded"),
    (
        b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nab',
        "multipart/form-data; boundary=b",
    ),
    (b"[" * 900, JSON),
]
HOSTILE_QUERY = "?id=%00&done=x&account=99999999999999999999&next=%00&role=%00"


def page_routes(sifa: Sifa) -> list[tuple[str, str]]:
    return sorted(
        (route.method, route.resource.canonical)
        for route in sifa.app.router.routes()
        if route.resource is not None
        and not route.resource.canonical.startswith(("/api/", "/static", "/ws"))
        and route.method not in ("HEAD", "*")
        and route.resource.canonical != "/logout"
    )


async def test_no_page_answers_a_hostile_request_with_a_server_error(sifa: Sifa) -> None:
    routes = page_routes(sifa)
    assert len(routes) > 30
    sent = 0
    for username in [*ROLES, None]:
        client = await (sifa.as_user(username) if username else sifa.make_client(sifa.app))
        for method, path in routes:
            if "{" in path:
                targets = [PARAM.sub(raw, path) for raw in HOSTILE_IDS]
            else:
                targets = [path, path + HOSTILE_QUERY]
            for target in targets:
                for body, content_type in HOSTILE_FORMS if method == "POST" else [(b"", "")]:
                    headers = {"Content-Type": content_type} if content_type else {}
                    response = await client.request(
                        method, target, data=body, headers=headers, allow_redirects=False
                    )
                    sent += 1
                    assert response.status < 500, (username, method, target, body[:40])
    assert sent > 1000
