"""A real coturn on free loopback ports, run from deploy/turnserver.conf, and a real TURN
Allocate through aioice's TURN client.

The configuration is the deployment file itself with only the values of named settings
replaced (ports, secret, realm, addresses, paths), the way tests/cluster renders
deploy/haproxy.cfg: what the docs show is what the tests ran.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aioice import stun
from aioice.turn import create_turn_endpoint

from signaling.ice import turn_credentials

REPO = Path(__file__).resolve().parents[1]
TURNSERVER_CONF = REPO / "deploy" / "turnserver.conf"
TURNSERVER = "/usr/bin/turnserver"
READY_SECONDS = 10.0
# With `verbose`, coturn writes what a session relayed when it closes; "peer usage" counts the
# relayed data (to and from peers), "usage" everything on the client's side of the allocation:
#   session 001000000000000001: peer usage: realm=<r>, username=<u>, rp=12, rb=3456, sp=10, sb=3000
PEER_USAGE = re.compile(
    r"session \S+: peer usage: realm=<(?P<realm>[^>]*)>, username=<(?P<username>[^>]*)>, "
    r"rp=(?P<rp>\d+), rb=(?P<rb>\d+), sp=(?P<sp>\d+), sb=(?P<sb>\d+)"
)


def render_turnserver(template: str, values: Mapping[str, str | None]) -> str:
    """The template with each named setting's line (active or commented out) set to the value;
    None turns a flag on. A name the template does not have is an error: every setting the
    tests rely on is documented in the file."""
    lines = template.splitlines()
    for name, value in values.items():
        pattern = re.compile(rf"^#?\s*{re.escape(name)}(=.*)?$")
        found = [i for i, line in enumerate(lines) if pattern.match(line.strip())]
        if len(found) != 1:
            raise KeyError(f"{name}: {len(found)} lines in the template, expected one")
        lines[found[0]] = name if value is None else f"{name}={value}"
    return "\n".join(lines) + "\n"


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (coturn listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port


def stun_answers(address: tuple[str, int], timeout: float = 0.3) -> bool:
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(timeout)
        probe.sendto(bytes(request), address)
        try:
            data, _ = probe.recvfrom(2048)
        except OSError:
            return False
    return stun.parse_message(data).transaction_id == request.transaction_id


@dataclass
class Coturn:
    """One turnserver process; stop() it (fixtures do)."""

    root: Path
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    realm: str = "sifa.test"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    @property
    def log_path(self) -> Path:
        return self.root / "turnserver.log"

    @property
    def config_path(self) -> Path:
        return self.root / "turnserver.conf"

    def start(self) -> Coturn:
        self.root.mkdir(parents=True, exist_ok=True)
        values: dict[str, str | None] = {
            "listening-port": str(self.port),
            "listening-ip": "127.0.0.1",
            "relay-ip": "127.0.0.1",
            "static-auth-secret": self.secret,
            "realm": self.realm,
            # Everything runs on 127.0.0.1: the relayed addresses themselves are loopback.
            "allow-loopback-peers": None,
            "log-file": str(self.log_path),
            "pidfile": str(self.root / "turnserver.pid"),
            "userdb": str(self.root / "turndb"),
        }
        self.config_path.write_text(render_turnserver(TURNSERVER_CONF.read_text(), values))
        self.process = subprocess.Popen(
            [TURNSERVER, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "turnserver.stderr").open("wb"),
        )
        deadline = time.monotonic() + READY_SECONDS
        while not stun_answers(self.address):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"coturn did not start:\n{self.log()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self.log_path,) if p.exists()]
        return "".join(parts)

    def credentials(self, participant_id: str, expires_at: int) -> tuple[str, str]:
        return turn_credentials(self.secret.encode(), participant_id, expires_at)

    def peer_usage(self) -> dict[str, tuple[int, int]]:
        """Bytes relayed to and from peers per username, over the closed sessions:
        (received from peers, sent to peers)."""
        found: dict[str, tuple[int, int]] = {}
        for m in PEER_USAGE.finditer(self.log()):
            rb, sb = found.get(m["username"], (0, 0))
            found[m["username"]] = (rb + int(m["rb"]), sb + int(m["sb"]))
        return found


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


async def allocate(server: tuple[str, int], username: str, password: str) -> tuple[str, int]:
    """A TURN Allocate over UDP (RFC 8656) with long-term credentials: the relayed address, or
    Refused with the server's error code. The allocation is released before returning."""
    try:
        transport, protocol = await asyncio.wait_for(
            create_turn_endpoint(_Released, server, username, password), 10
        )
    except stun.TransactionFailed as exc:
        code, reason = exc.response.attributes["ERROR-CODE"]
        raise Refused(int(code), str(reason)) from None
    relayed: tuple[str, int] = transport.get_extra_info("sockname")
    transport.close()
    await asyncio.wait_for(protocol.released, 5)
    return relayed


class _Released(asyncio.DatagramProtocol):
    """Done once the allocation is deleted (a Refresh with lifetime 0) and the socket closed."""

    def __init__(self) -> None:
        self.released: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.released.done():
            self.released.set_result(None)
