"""Multipart uploads parsed defensively: a truncated body, a broken part header or a NUL in a
file name gets 400 with the error shape, and nothing is stored."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from integration.api_support import error_of, make_pdf

FORM = {"Content-Type": "multipart/form-data; boundary=b"}


def part(name: str, body: bytes, filename: bytes | None = None) -> bytes:
    disposition = b'form-data; name="' + name.encode() + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    return b"--b\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + body + b"\r\n"


async def materials_of(client: TestClient, case_id: int) -> list[Any]:
    detail = await (await client.get(f"/api/cases/{case_id}")).json()
    return list(detail["materials"])


async def test_broken_multipart_uploads_are_refused_with_400(sifa: Any) -> None:
    mediator = await sifa.as_user("mediator")
    case_id = (await (await mediator.get("/api/cases")).json())["cases"][0]["id"]
    url = f"/api/cases/{case_id}/materials"
    before = await materials_of(mediator, case_id)
    pdf = make_pdf()
    whole = part("category", b"agreement") + part("file", pdf, b"a.pdf") + b"--b--\r\n"
    bodies = {
        "truncated": whole[: len(whole) // 2],
        "no closing boundary": part("category", b"agreement") + part("file", pdf, b"a.pdf"),
        "NUL in the file name": part("file", pdf, b"a\x00.pdf") + b"--b--\r\n",
        "encoded NUL in the file name": (
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=utf-8''a%00.pdf"
            b"\r\n\r\n" + pdf + b"\r\n--b--\r\n"
        ),
    }
    for what, body in bodies.items():
        response = await mediator.post(url, data=body, headers=FORM)
        error = await error_of(response, 400, response_code(await response.json()))
        assert " / " in error["message"], what
    no_boundary = await mediator.post(
        url, data=whole, headers={"Content-Type": "multipart/form-data"}
    )
    await error_of(no_boundary, 400, "bad_request")
    assert await materials_of(mediator, case_id) == before
    fine = await mediator.post(url, data=whole, headers=FORM)
    assert fine.status == 201, await fine.text()


def response_code(body: dict[str, Any]) -> str:
    code = body["error"]["code"]
    assert code in {"bad_request", "bad_text"}, body
    return str(code)


async def test_a_page_form_upload_with_a_nul_file_name_is_refused(sifa: Any) -> None:
    client = await sifa.make_client(sifa.app)
    body = (
        b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=utf-8''a%00.pdf"
        b"\r\n\r\n%PDF-1.4\r\n--b--\r\n"
    )
    response = await client.post("/login", data=body, headers=FORM, allow_redirects=False)
    assert response.status == 400, await response.text()
