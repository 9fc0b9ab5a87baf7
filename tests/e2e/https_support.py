"""HTTPS for real: `sifa serve` processes with SIFA_TLS_CERT/KEY or behind HAProxy terminating
TLS (deploy/haproxy-tls.cfg), and Chromium that trusts the development root through an NSS
database under its own HOME (no --ignore-certificate-errors), resolving hall.test to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from cluster.cluster_support import (
    REPO,
    Installation,
    Process,
    free_port,
    render_haproxy,
    sifa_command,
    tail,
)

from app.ruling.pki import build_nss_db

from realdeps import CHROMIUM, CHROMIUM_ARGS

HOST = "hall.test"  # not localhost: the browser gives the camera only over HTTPS here
HAPROXY_TLS_CFG = REPO / "deploy" / "haproxy-tls.cfg"
LB_SOURCE = "127.0.0.2"  # HAProxy connects from here; the node trusts only it
READY_SECONDS = 60.0


def root_pem(installation: Installation) -> Path:
    return installation.root / "certs" / "dev-root-ca.pem"


def client_ssl(installation: Installation) -> ssl.SSLContext:
    """A client that trusts the development root and nothing else."""
    return ssl.create_default_context(cafile=root_pem(installation))


def https_installation(root: Path) -> Installation:
    """One Sifa on SQLite, set up as an operator would: `sifa init --server-cert
    hall.test,127.0.0.1` (keys, development root, the server certificate), then `sifa demo`."""
    root.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite+aiosqlite:///{root / 'sifa.db'}"
    installation = Installation(root, database_url, Installation.environment(root, database_url))
    done = installation.check("init", "--server-cert", f"{HOST},127.0.0.1")
    assert f"development TLS server certificate issued for {HOST}, 127.0.0.1" in done.stdout
    installation.check("demo")
    return installation


def server_cert(installation: Installation) -> tuple[Path, Path]:
    certs = installation.root / "certs"
    return certs / "tls-server.pem", certs / "tls-server.key"


def node(installation: Installation, name: str, env: Mapping[str, str]) -> Process:
    full = {
        **installation.env,
        "SIFA_NODE_NAME": name,
        "SIFA_HOST": "127.0.0.1",
        # The recorder offers loopback candidates only: no media leaves this machine.
        "SIFA_RECORDER_ADDRESSES": "127.0.0.1",
        **env,
    }
    root = installation.root
    return Process(name, [*sifa_command(), "serve"], full, root, root / f"{name}.log")


def haproxy_tls(
    installation: Installation, haproxy: str, nodes: list[tuple[str, str]], cert: Path, key: Path
) -> tuple[Process, int, int]:
    """HAProxy with deploy/haproxy-tls.cfg, its nodes block replaced; (process, https port,
    http port). Its certificate file is the server certificate and key in one PEM."""
    root = installation.root
    combined = root / "haproxy-tls.pem"
    combined.write_bytes(cert.read_bytes() + key.read_bytes())
    combined.chmod(0o600)
    config = root / "haproxy-tls.cfg"
    config.write_text(render_haproxy(HAPROXY_TLS_CFG.read_text(), nodes))
    https_port = free_port()
    http_port = free_port({https_port})
    env = {
        **os.environ,
        "SIFA_LB_BIND": f"127.0.0.1:{https_port}",
        "SIFA_LB_HTTP_BIND": f"127.0.0.1:{http_port}",
        "SIFA_LB_CERT": str(combined),
        "SIFA_LB_SOURCE": LB_SOURCE,
    }
    process = Process("haproxy", [haproxy, "-db", "-f", str(config)], env, root, root / "lb.log")
    return process, https_port, http_port


def wait_ready(process: Process, url: str, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if not process.running:
            raise AssertionError(
                f"{process.name} exited before answering {url}\n{tail(process.log_path)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1.0, context=context) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 in {READY_SECONDS} s\n{tail(process.log_path)}")


@contextlib.contextmanager
def running(process: Process, url: str, context: ssl.SSLContext | None = None) -> Any:
    process.spawn()
    try:
        wait_ready(process, url, context)
        yield process
    finally:
        if process.running:
            # SIGINT: at once (SIGTERM lets a single node's hearings finish first).
            process.stop(signal.SIGINT, timeout=20)


def nss_home(home: Path, ca: Path) -> Path:
    """A HOME whose NSS database (~/.pki/nssdb, where Linux Chromium looks) trusts `ca` for
    TLS servers: what trusting the development root on a kiosk amounts to."""
    build_nss_db(home / ".pki" / "nssdb", ca, nickname="sifa-dev-root")
    return home


@contextlib.asynccontextmanager
async def chromium(home: Path | None = None) -> AsyncIterator[Any]:
    """Chromium resolving hall.test to 127.0.0.1; with `home`, trusting what its NSS database
    trusts. A fresh profile each time: HSTS learnt over HTTPS must not leak into a test of
    plain HTTP."""
    from playwright.async_api import async_playwright

    env = {**os.environ, "HOME": str(home)} if home is not None else None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
            env=env,
        )
        try:
            yield browser
        finally:
            await browser.close()


def api_session(
    base: str, context: ssl.SSLContext, token: str | None = None
) -> aiohttp.ClientSession:
    """Bearer-token API calls over HTTPS to 127.0.0.1 (also named in the certificate)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return aiohttp.ClientSession(
        base_url=base,
        headers=headers,
        connector=aiohttp.TCPConnector(ssl=context),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def api_token(base: str, context: ssl.SSLContext, username: str) -> str:
    async with (
        api_session(base, context) as anonymous,
        anonymous.post("/api/login", json={"username": username, "password": "demo"}) as response,
    ):
        assert response.status == 200, await response.text()
        return str((await response.json())["token"])
