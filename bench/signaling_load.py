"""The load generator of bench/signaling.py (a module: run bench/signaling.py, not this).

`LeanLoad` is what the bench uses: one asyncio Protocol per socket on the selector
loop, the HTTP upgrade written by hand once, then only pre-built WebSocket frames.

- Sending: every message a room will ever send is built once as a masked client
  frame (fixed masking key, which RFC 6455 allows: it only requires client frames
  to be masked). The only per-message work is masking a 22-digit ASCII field, the
  message id and the send time, and one `transport.write`. A single pacer wakes
  every millisecond and writes whatever is due (a one-slot timer wheel: the rate
  is uniform), so there is no task or timer per message.
- Receiving: frame headers are parsed from the read buffer; for a relayed signal
  the field is found with one `bytes.find(b"~")` and its digits read in place. No
  JSON is parsed once the rooms are set up (unless `verify`, for checking).

The field sits where the protocol allows free text: inside the SDP of offers and
answers (`"sdp":"v=0~<id><t>~a=candidate…"`), at the end of the candidate string
of ICE candidates. The server relays the client's text as is, with "seq" and
"from" spliced in front, so the field arrives unchanged.

`AiohttpLoad` is the previous generator (aiohttp client, `await send_str` per
message, a reader task per socket), kept to cross-check counts and to show what
the client costs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

ROLES = (("judge", "j"), ("kiosk", "k"), ("party", "p"))
SDP_BODY = "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\\r\\n" * 38  # ~2.5 KB
CANDIDATE = "candidate:842163049 1 udp 1677729535 127.0.0.1 50123 typ srflx raddr 0.0.0.0 rport 0"
# The marker: "~" + 9 digits of message id + 13 digits of ns since the load
# started (up to 10,000 s) + "~".
ID_DIGITS, T_DIGITS = 9, 13
FIELD = ID_DIGITS + T_DIGITS
FIELD_FORMAT = b"%09d%013d"
MASK_KEY = b"\x5a\x3c\xa7\x19"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def templates(case_id: int, mark: str = "~{}~") -> list[tuple[int, int, str]]:
    """One round of a room's negotiation: (from index, to index, text with the marker).

    Three pairs (kiosk-judge, party-judge, party-kiosk); per pair an offer, an
    answer and four candidates, 18 messages, each member sending 6 of them.
    """
    names = [f"{prefix}{case_id}" for _, prefix in ROLES]
    offer = '{"type":"signal","to":"%s","description":{"type":"offer","sdp":"v=0' + mark + '%s"}}'
    answer = '{"type":"signal","to":"%s","description":{"type":"answer","sdp":"v=0' + mark + '%s"}}'
    cand = (
        '{"type":"signal","to":"%s","candidate":{"candidate":"%s ' + mark + '",'
        '"sdpMid":"0","sdpMLineIndex":0}}'
    )
    out = []
    for a, b in ((1, 0), (2, 0), (2, 1)):
        out.append((a, b, offer % (names[b], SDP_BODY)))
        out.append((b, a, answer % (names[a], SDP_BODY)))
        for src, dst in ((a, b), (b, a), (a, b), (b, a)):
            out.append((src, dst, cand % (names[dst], CANDIDATE)))
    return out


def room_token(secret: bytes, case_id: int, role: str, pid: str) -> str:
    # Imported here: run directly, this file's folder shadows the signaling package.
    from signaling.tokens import issue_room_token

    return issue_room_token(
        secret,
        case_id=case_id,
        participant_id=pid,
        role=role,
        display_name=pid,
        ttl_seconds=600,
        now=time.time(),
    )


@dataclass
class Stats:
    """What the receivers count. Only messages with id >= first_id are measured."""

    first_id: int = 1 << 62
    received: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    last_at_ns: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    closed_by_server: int = 0
    mismatches: int = 0
    checked: int = 0


# -- frames ------------------------------------------------------------------------


def _mask(data: bytes, key_offset: int = 0) -> bytes:
    n = len(data)
    key = (MASK_KEY[key_offset:] + MASK_KEY * (n // 4 + 2))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + MASK_KEY + _mask(payload)


@dataclass(slots=True)
class Prebuilt:
    """A masked text frame with a hole for the masked marker digits."""

    sender: LeanClient
    recipient: LeanClient
    before: bytes
    after: bytes
    field_mask: int
    payload: bytes  # unmasked, with zeros in the hole: only for verify


PLACEHOLDER = b"~" + b"0" * FIELD + b"~"


def prebuild(sender: LeanClient, recipient: LeanClient, text: str) -> Prebuilt:
    payload = text.replace("~{}~", PLACEHOLDER.decode()).encode()
    frame = client_frame(payload)
    header = len(frame) - len(payload)
    hole = payload.index(b"~") + 1  # offset of the digits in the payload
    field_mask = int.from_bytes(_mask(bytes(FIELD), hole % 4), "big")
    return Prebuilt(
        sender,
        recipient,
        frame[: header + hole],
        frame[header + hole + FIELD :],
        field_mask,
        payload,
    )


# -- lean client --------------------------------------------------------------------


class LeanClient(asyncio.Protocol):
    def __init__(self, request: bytes, accept: bytes, stats: Stats, origin_ns: int) -> None:
        self.request = request
        self.accept = accept
        self.stats = stats
        self.origin_ns = origin_ns
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.upgraded = False
        self.setup = True  # until the rooms are ready: JSON-parse non-marked messages
        self.inbox: list[dict[str, object]] = []
        self.waiter: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing = False
        # verify mode: exact relayed text expected, per message id
        self.pid = ""
        self.seq = 0
        self.expected: dict[int, tuple[str, bytes]] | None = None

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            self.stats.closed_by_server += 1
        if not self.closed.done():
            self.closed.set_result(None)
        self._wake()

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            head = buf[:end]
            if not head.startswith(b"HTTP/1.1 101") or self.accept not in head:
                raise RuntimeError(f"upgrade refused: {head[:200]!r}")
            self.upgraded = True
            buf = buf[end + 4 :]
            self._wake()
        pos, n = 0, len(buf)
        now = 0
        stats = self.stats
        while n - pos >= 2:
            b0, length = buf[pos], buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[start : start + 2], "big")
                start += 2
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[start : start + 8], "big")
                start += 8
            end = start + length
            if end > n:
                break
            pos = end
            opcode = b0 & 0x0F
            if opcode == 0x1:
                i = buf.find(b"~", start, end)
                if i >= 0 and self.expected is None:
                    mid = int(buf[i + 1 : i + 1 + ID_DIGITS])
                    if mid >= stats.first_id:
                        if not now:
                            now = time.perf_counter_ns() - self.origin_ns
                        stats.received += 1
                        stats.last_at_ns = now
                        stats.latencies_ns.append(now - int(buf[i + 1 + ID_DIGITS : i + 1 + FIELD]))
                elif i >= 0:
                    if not now:
                        now = time.perf_counter_ns() - self.origin_ns
                    self._verify(buf[start:end], i - start, now)
                elif self.setup or self.expected is not None:
                    self._other(json.loads(buf[start:end]))
                elif b'"type":"error"' in buf[start:end]:
                    self._error(buf[start:end].decode())
            elif opcode == 0x9:  # ping: answer with the same payload
                if self.transport is not None:
                    self.transport.write(client_frame(buf[start:end], 0xA))
            elif opcode == 0x8:
                if not self.closing and self.transport is not None:
                    self.closing = True
                    self.stats.closed_by_server += 1
                    self.transport.write(client_frame(buf[start : start + 2], 0x8))
                    self.transport.close()
            elif opcode != 0xA:
                raise RuntimeError(f"unexpected frame opcode {opcode}")
        self.buf = buf[pos:] if pos < n else b""

    # setup path

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _other(self, message: dict[str, object]) -> None:
        seq = message.get("seq")
        if isinstance(seq, int):
            if self.expected is not None and seq != self.seq + 1:
                self.stats.mismatches += 1
            self.seq = seq
        if message.get("type") == "error":
            self._error(json.dumps(message))
        if self.setup:
            self.inbox.append(message)
            self._wake()

    def _error(self, text: str) -> None:
        self.stats.errors += 1
        if len(self.stats.error_samples) < 5:
            self.stats.error_samples.append(text[:200])

    async def wait_upgraded(self) -> None:
        while not self.upgraded:
            await self._wait()

    async def expect(self, kind: str) -> dict[str, object]:
        while True:
            while self.inbox:
                message = self.inbox.pop(0)
                if message.get("type") == kind:
                    return message
                if message.get("type") == "error":
                    raise RuntimeError(f"error while waiting for {kind}: {message}")
            if self.closed.done():
                raise RuntimeError(f"socket closed while waiting for {kind}")
            await self._wait()

    async def _wait(self) -> None:
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self.waiter, 30)
        finally:
            self.waiter = None

    def send_json(self, message: dict[str, object]) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(json.dumps(message).encode()))

    # verify path: the relayed text must be exactly seq + from + what was sent

    def _verify(self, payload: bytes, hole: int, now: int) -> None:
        assert self.expected is not None
        stats = self.stats
        stats.checked += 1
        mid = int(payload[hole + 1 : hole + 1 + ID_DIGITS])
        sender, sent = self.expected.pop(mid, ("", b""))
        digits = payload[hole + 1 : hole + 1 + FIELD]
        want = b'{"seq":%d,"from":%s,' % (self.seq + 1, json.dumps(sender).encode())
        want += sent[1:].replace(PLACEHOLDER, b"~" + digits + b"~")
        if payload != want:
            stats.mismatches += 1
            if len(stats.error_samples) < 5:
                stats.error_samples.append(f"mismatch: {payload[:120]!r} vs {want[:120]!r}")
        self.seq += 1
        if mid >= stats.first_id:
            stats.received += 1
            stats.last_at_ns = now
            stats.latencies_ns.append(now - int(digits[ID_DIGITS:]))

    async def close(self) -> None:
        if self.transport is None or self.closing:
            return
        self.closing = True
        self.transport.write(client_frame((1000).to_bytes(2, "big"), 0x8))
        self.transport.close()


class LeanLoad:
    """Rooms of three raw-socket clients driven from pre-built frames."""

    name = "lean"

    def __init__(
        self,
        host: str,
        port: int,
        secret: bytes,
        *,
        verify: bool = False,
        port_of: Callable[[int, int], int] | None = None,
    ) -> None:
        self.host, self.port, self.secret = host, port, secret
        # Several nodes: the port of (case id, member index); one port otherwise.
        self.port_of = port_of or (lambda case_id, member: port)
        self.verify = verify
        self.resume_tokens: dict[str, str] = {}
        self.stats = Stats()
        self.origin_ns = time.perf_counter_ns()
        self.rooms: list[list[LeanClient]] = []
        self.slots: list[Prebuilt] = []
        self.next_id = 0

    def now_ns(self) -> int:
        return time.perf_counter_ns() - self.origin_ns

    async def _connect(self, port: int) -> LeanClient:
        key = base64.b64encode(os.urandom(16))
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
        request = (
            b"GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (self.host.encode(), port, key)
        )
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(
            lambda: LeanClient(request, accept, self.stats, self.origin_ns), self.host, port
        )
        await client.wait_upgraded()
        return client

    async def _open_room(self, case_id: int) -> list[LeanClient]:
        members = []
        for member, (role, prefix) in enumerate(ROLES):
            pid = f"{prefix}{case_id}"
            client = await self._connect(self.port_of(case_id, member))
            client.pid = pid
            token = room_token(self.secret, case_id, role, pid)
            client.send_json({"type": "join", "v": 1, "case_id": case_id, "token": token})
            welcome = await client.expect("welcome")
            self.resume_tokens[pid] = str(welcome["resume_token"])
            members.append(client)
        for client in members[1:]:
            members[0].send_json({"type": "admit", "participant": client.pid})
            await client.expect("admitted")
        return members

    async def open(self, n_rooms: int, concurrency: int = 50) -> int:
        sem = asyncio.Semaphore(concurrency)
        rooms: dict[int, list[LeanClient]] = {}

        async def one(case_id: int) -> None:
            async with sem:
                rooms[case_id] = await self._open_room(case_id)

        await asyncio.gather(*(one(c) for c in range(1, n_rooms + 1)))
        self.rooms = [rooms[c] for c in range(1, n_rooms + 1)]
        # Let the last presence notices arrive, then leave the setup path.
        await asyncio.sleep(0.2)
        for members in self.rooms:
            for client in members:
                client.setup = False
                client.inbox.clear()
                if self.verify:
                    client.expected = {}
        # Message n goes to room n % R, the room's (n // R) % 18-th template, as before.
        per_room = [
            [prebuild(members[src], members[dst], t) for src, dst, t in templates(case_id)]
            for case_id, members in enumerate(self.rooms, start=1)
        ]
        self.slots = [per_room[r][k] for k in range(18) for r in range(len(self.rooms))]
        return sum(len(m) for m in self.rooms)

    def start_measuring(self) -> None:
        self.stats.first_id = self.next_id + 1

    async def drive(self, rate: int, seconds: float) -> int:
        """Send rate msg/s for seconds; returns the number sent."""
        slots, n_slots = self.slots, len(self.slots)
        total = int(rate * seconds)
        sent = 0
        origin = self.origin_ns
        clock = time.perf_counter_ns
        fmt = FIELD_FORMAT
        verify = self.verify
        start = clock()
        while sent < total:
            due = min(total, (clock() - start) * rate // 1_000_000_000)
            while sent < due:
                slot = slots[self.next_id % n_slots]
                self.next_id += 1
                mid = self.next_id
                sender = slot.sender
                digits = int.from_bytes(fmt % (mid, clock() - origin), "big") ^ slot.field_mask
                transport = sender.transport
                if transport is not None and not sender.closing:
                    expected = slot.recipient.expected
                    if verify and expected is not None:
                        expected[mid] = (sender.pid, slot.payload)
                    transport.write(slot.before + digits.to_bytes(FIELD, "big") + slot.after)
                sent += 1
            await asyncio.sleep(0.001)
        return sent

    async def close(self) -> None:
        for members in self.rooms:
            for client in members:
                await client.close()
        await asyncio.sleep(0.1)


# -- the previous generator: aiohttp client -----------------------------------------


class AiohttpLoad:
    """aiohttp client, one reader task per socket, `await send_str` per message."""

    name = "aiohttp"

    def __init__(self, host: str, port: int, secret: bytes, *, verify: bool = False) -> None:
        self.url = f"http://{host}:{port}/ws"
        self.secret = secret
        self.stats = Stats()
        self.origin_ns = time.perf_counter_ns()
        self.session: aiohttp.ClientSession | None = None
        self.rooms: list[list[tuple[str, aiohttp.ClientWebSocketResponse]]] = []
        self.readers: list[asyncio.Task[None]] = []
        self.next_id = 0
        self.closing = False

    def now_ns(self) -> int:
        return time.perf_counter_ns() - self.origin_ns

    async def _reader(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        stats = self.stats
        async for msg in ws:
            data = msg.data
            if not isinstance(data, str):
                continue
            start = data.find("~")
            if start < 0:
                if '"type":"error"' in data:
                    stats.errors += 1
                continue
            now = self.now_ns()
            mid = int(data[start + 1 : start + 1 + ID_DIGITS])
            if mid >= stats.first_id:
                stats.received += 1
                stats.last_at_ns = now
                stats.latencies_ns.append(
                    now - int(data[start + 1 + ID_DIGITS : start + 1 + FIELD])
                )
        if not self.closing:
            stats.closed_by_server += 1

    @staticmethod
    async def _expect(ws: aiohttp.ClientWebSocketResponse, kind: str) -> None:
        while True:
            msg = await ws.receive(timeout=30)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"socket ended while waiting for {kind}: {msg}")
            data = msg.json()
            if data.get("type") == kind:
                return
            if data.get("type") == "error":
                raise RuntimeError(f"error while waiting for {kind}: {data}")

    async def _open_room(self, case_id: int) -> list[tuple[str, aiohttp.ClientWebSocketResponse]]:
        assert self.session is not None
        members = []
        for role, prefix in ROLES:
            pid = f"{prefix}{case_id}"
            ws = await self.session.ws_connect(self.url, autoping=True, max_msg_size=0)
            token = room_token(self.secret, case_id, role, pid)
            await ws.send_json({"type": "join", "v": 1, "case_id": case_id, "token": token})
            await self._expect(ws, "welcome")
            members.append((pid, ws))
        judge = members[0][1]
        for pid, ws in members[1:]:
            await judge.send_json({"type": "admit", "participant": pid})
            await self._expect(ws, "admitted")
        return members

    async def open(self, n_rooms: int, concurrency: int = 50) -> int:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        sem = asyncio.Semaphore(concurrency)
        rooms: dict[int, list[tuple[str, aiohttp.ClientWebSocketResponse]]] = {}

        async def one(case_id: int) -> None:
            async with sem:
                rooms[case_id] = await self._open_room(case_id)

        await asyncio.gather(*(one(c) for c in range(1, n_rooms + 1)))
        self.rooms = [rooms[c] for c in range(1, n_rooms + 1)]
        self.readers = [
            asyncio.create_task(self._reader(ws)) for members in self.rooms for _, ws in members
        ]
        return sum(len(m) for m in self.rooms)

    def start_measuring(self) -> None:
        self.stats.first_id = self.next_id + 1

    async def drive(self, rate: int, seconds: float) -> int:
        plans = [
            [(s, t.replace("~{}~", "~%s~")) for s, _d, t in templates(c)]
            for c in range(1, len(self.rooms) + 1)
        ]
        total = int(rate * seconds)
        sent = 0
        start = time.perf_counter()
        n_rooms = len(self.rooms)
        while sent < total:
            due = min(total, int((time.perf_counter() - start) * rate))
            while sent < due:
                r = self.next_id % n_rooms
                src, text = plans[r][(self.next_id // n_rooms) % 18]
                self.next_id += 1
                mark = f"{self.next_id:09d}{self.now_ns():013d}"
                await self.rooms[r][src][1].send_str(text % mark)
                sent += 1
            await asyncio.sleep(0.002)
        return sent

    async def close(self) -> None:
        self.closing = True
        for members in self.rooms:
            for _, ws in members:
                await ws.close()
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        if self.session is not None:
            await self.session.close()


Load = LeanLoad | AiohttpLoad
LOADS: dict[str, Callable[..., Load]] = {"lean": LeanLoad, "aiohttp": AiohttpLoad}


if __name__ == "__main__":
    print("bench/signaling_load.py is the load generator of bench/signaling.py: run that")
