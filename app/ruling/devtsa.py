"""A development RFC 3161 timestamp authority over HTTP, for B-T signatures in tests, the
benchmark and a local server. Never for real rulings: it stamps whatever it is sent with a
development certificate (pyHanko's DummyTimeStamper, which signs with RSA only).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from aiohttp import web
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from app.ruling.pki import TsaPaths, load_identity

CONTENT_TYPE_QUERY = "application/timestamp-query"
CONTENT_TYPE_REPLY = "application/timestamp-reply"


def make_tsa_app(paths: TsaPaths) -> web.Application:
    identity = load_identity(paths.key, paths.cert)
    key_der = identity.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(identity.cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
    )

    async def stamp(request: web.Request) -> web.Response:
        if request.content_type != CONTENT_TYPE_QUERY:
            return web.Response(status=415, text=f"expected {CONTENT_TYPE_QUERY}")
        try:
            query = tsp.TimeStampReq.load(await request.read())
            _ = query.native  # parse eagerly: asn1crypto is lazy and would fail later
        except ValueError:
            return web.Response(status=400, text="malformed TimeStampReq")
        reply = stamper.request_tsa_response(query)
        return web.Response(body=reply.dump(), content_type=CONTENT_TYPE_REPLY)

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post("/", stamp)
    return app


@asynccontextmanager
async def running_tsa(
    paths: TsaPaths, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve the development TSA on the current loop; yields its URL."""
    runner = web.AppRunner(make_tsa_app(paths), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        bound = runner.addresses[0][1]  # the real port when port=0 asked for any free one
        yield f"http://{host}:{bound}/"
    finally:
        await runner.cleanup()


@contextmanager
def tsa_in_thread(paths: TsaPaths, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the development TSA from a background thread (for synchronous callers, whose
    signing runs its own event loop); yields its URL."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[str] = loop.create_future()
    stop = asyncio.Event()

    async def serve() -> None:
        async with running_tsa(paths, host) as url:
            ready.set_result(url)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    url = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(timeout=10)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


async def _wait(fut: asyncio.Future[str]) -> str:
    return await fut
