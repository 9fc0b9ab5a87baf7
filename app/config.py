"""Settings read once from the environment, with defaults that work out of the box."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_FONT = Path("/usr/share/fonts/truetype/arphic/uming.ttc")


class ConfigError(Exception):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


_NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def node_name(raw: str) -> str:
    """SIFA_NODE_NAME, or the host's name: stable across restarts of the same server."""
    value = raw.strip() or socket.gethostname()
    if not _NODE_NAME.match(value):
        raise ConfigError("SIFA_NODE_NAME", f"must be letters, digits, . _ - (≤100), got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    certs_dir: Path
    rulings_dir: Path
    materials_dir: Path
    recordings_dir: Path
    host: str
    port: int
    public_url: str
    secret_key: bytes | None = None  # None: generated once and kept under certs_dir
    max_upload_bytes: int = 20 * 1024 * 1024
    session_hours: int = 12
    demo_password: str = "demo"
    font_path: Path = DEFAULT_FONT
    font_index: int = 0
    seal_image: Path | None = None
    tsa_url: str | None = None
    signing_p12: Path | None = None
    # Other courts' production keys: {court code}.p12, opened with signing_p12_password.
    signing_p12_dir: Path | None = None
    signing_p12_password: str = ""
    # Mediation committees' production sealing keys, {committee id}.p12; None: development
    # certificates (app/ruling/committee_keys.py).
    committee_p12_dir: Path | None = None
    committee_p12_password: str = ""
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    log_level: str = "INFO"
    recordings_retention_days: int = 3650
    # This server among several on one database: what it records is its own to settle after a
    # crash (see app/recording/service.py recover_interrupted).
    node_name: str = "local"
    # Several nodes: Redis holds the room directory and carries messages between nodes.
    # SIFA_PUBLIC_URL was given: addresses handed to browsers use it, never a node's own host.
    public_url_configured: bool = False
    redis_url: str | None = None
    redis_prefix: str = "sifa"
    # The addresses the server's recorder offers as ICE host candidates (a multi-homed server:
    # the interface facing the halls); empty: every interface but loopback, aioice's default.
    recorder_addresses: tuple[str, ...] = ()
    # Balancers whose X-Forwarded-For is believed (SIFA_TRUSTED_PROXIES): login throttling
    # then counts the client's address, not the balancer's.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # After SIGTERM with several nodes: how long /healthz answers "draining" (503) before the
    # node hands its rooms on, so the balancer has taken it out by then.
    drain_seconds: int = 3
    # After SIGTERM on one node: how long hearings under way may go on to their end before the
    # node stops anyway (no new one starts meanwhile). A second SIGTERM stops at once.
    finish_seconds: int = 1800
    # TLS served by the node itself (SIFA_TLS_CERT/SIFA_TLS_KEY, PEM); None: plain HTTP, as
    # behind a balancer that terminates TLS.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # "relay": browsers and the recorder use TURN relays only (halls whose firewall lets
    # nothing else through); "all": any candidate.
    ice_transport_policy: str = "all"
    # /metrics is open to these networks, or to a bearer token (SIFA_METRICS_TOKEN).
    metrics_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    metrics_token: str = ""
    log_format: str = "text"  # or "json": one object per line
    # Signaling's per-connection limit (docs/protocol.md, Limits): a burst, a steady rate, and
    # how many dropped messages close the connection as a flood.
    ws_rate_burst: int = 120
    ws_rate_per_second: int = 20
    ws_flood_strikes: int = 100
    # What every seat of the node holds for resumes, together (docs/protocol.md, Memory).
    ws_replay_mb: int = 64
    # "uvloop" (libuv, the default) or "asyncio" (the standard library's loop).
    event_loop: str = "uvloop"
    # /readyz fails below this much free space where rulings and recordings are written.
    min_free_mb: int = 512
    # The court whose development signing certificate `sifa init` creates.
    court_name: str = "深圳市光明区人民法院"
    court_code: str = "粤0311"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, base: Path | None = None) -> Settings:
        """Read SIFA_* variables; a wrong value raises ConfigError naming the variable."""
        root = base or Path.cwd()

        def path(name: str, default: str) -> Path:
            value = env.get(name, "").strip() or default
            p = Path(value)
            return p if p.is_absolute() else (root / p)

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
            if not low <= value <= high:
                raise ConfigError(name, f"must be between {low} and {high}, got {value}")
            return value

        def url_list(name: str, schemes: tuple[str, ...]) -> tuple[str, ...]:
            items = tuple(u.strip() for u in env.get(name, "").split(",") if u.strip())
            for item in items:
                if item.split(":", 1)[0] not in schemes:
                    raise ConfigError(name, f"{item!r} must start with one of {schemes}")
            return items

        database_url = env.get("SIFA_DATABASE_URL", "").strip()
        if not database_url:
            database_url = f"sqlite+aiosqlite:///{path('SIFA_VAR_DIR', 'var') / 'sifa.db'}"
        elif not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ConfigError(
                "SIFA_DATABASE_URL",
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg://",
            )

        host = env.get("SIFA_HOST", "").strip() or "127.0.0.1"
        if host != "localhost":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ConfigError("SIFA_HOST", f"must be an IP address, got {host!r}") from None
        port = integer("SIFA_PORT", 8080, 1, 65535)

        public_url = env.get("SIFA_PUBLIC_URL", "").strip().rstrip("/")
        if not public_url:
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            public_url = f"http://{shown}:{port}"
        elif (
            urlsplit(public_url).scheme not in ("http", "https") or not urlsplit(public_url).netloc
        ):
            raise ConfigError("SIFA_PUBLIC_URL", f"must be an http(s) URL, got {public_url!r}")

        secret = env.get("SIFA_SECRET_KEY", "").strip()
        if secret and len(secret) < 32:
            raise ConfigError("SIFA_SECRET_KEY", "must be at least 32 characters")

        tsa_url = env.get("SIFA_TSA_URL", "").strip() or None
        if tsa_url and urlsplit(tsa_url).scheme not in ("http", "https"):
            raise ConfigError("SIFA_TSA_URL", f"must be an http(s) URL, got {tsa_url!r}")

        level = env.get("SIFA_LOG_LEVEL", "INFO").strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError("SIFA_LOG_LEVEL", f"must be DEBUG, INFO, WARNING or ERROR: {level!r}")

        turn_urls = url_list("SIFA_TURN_URLS", ("turn", "turns"))
        if turn_urls and not env.get("SIFA_TURN_SECRET", ""):
            raise ConfigError("SIFA_TURN_SECRET", "is required when SIFA_TURN_URLS is set")
        redis_url = env.get("SIFA_REDIS_URL", "").strip() or None
        if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError("SIFA_REDIS_URL", f"must be a redis:// URL, got {redis_url!r}")
        redis_prefix = env.get("SIFA_REDIS_PREFIX", "").strip() or "sifa"
        if not _NODE_NAME.match(redis_prefix):
            raise ConfigError(
                "SIFA_REDIS_PREFIX", f"must be letters, digits, . _ -, got {redis_prefix!r}"
            )
        recorder_addresses = tuple(
            a.strip() for a in env.get("SIFA_RECORDER_ADDRESSES", "").split(",") if a.strip()
        )
        for address in recorder_addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigError(
                    "SIFA_RECORDER_ADDRESSES", f"must be IP addresses, got {address!r}"
                ) from None

        def networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
            found = []
            for item in env.get(name, "").split(","):
                if not item.strip():
                    continue
                try:
                    found.append(ipaddress.ip_network(item.strip(), strict=False))
                except ValueError:
                    raise ConfigError(
                        name, f"must be addresses or networks, got {item!r}"
                    ) from None
            return tuple(found)

        def existing_file(name: str) -> Path | None:
            raw = env.get(name, "").strip()
            if not raw:
                return None
            found = path(name, raw)
            if not found.is_file():
                raise ConfigError(name, f"must be an existing file, got {str(found)!r}")
            return found

        def existing_folder(name: str) -> Path | None:
            raw = env.get(name, "").strip()
            if not raw:
                return None
            found = path(name, raw)
            if not found.is_dir():
                raise ConfigError(name, f"must be an existing folder, got {str(found)!r}")
            return found

        tls_cert, tls_key = existing_file("SIFA_TLS_CERT"), existing_file("SIFA_TLS_KEY")
        if (tls_cert is None) != (tls_key is None):
            raise ConfigError("SIFA_TLS_KEY", "SIFA_TLS_CERT and SIFA_TLS_KEY go together")
        policy = env.get("SIFA_ICE_TRANSPORT_POLICY", "").strip().lower() or "all"
        if policy not in ("all", "relay"):
            raise ConfigError("SIFA_ICE_TRANSPORT_POLICY", f"must be all or relay, got {policy!r}")
        if policy == "relay" and not turn_urls:
            raise ConfigError("SIFA_ICE_TRANSPORT_POLICY", "relay needs SIFA_TURN_URLS")
        metrics_token = env.get("SIFA_METRICS_TOKEN", "").strip()
        if metrics_token and len(metrics_token) < 16:
            raise ConfigError("SIFA_METRICS_TOKEN", "must be at least 16 characters")
        log_format = env.get("SIFA_LOG_FORMAT", "").strip().lower() or "text"
        if log_format not in ("text", "json"):
            raise ConfigError("SIFA_LOG_FORMAT", f"must be text or json, got {log_format!r}")
        event_loop = env.get("SIFA_EVENT_LOOP", "").strip().lower() or "uvloop"
        if event_loop not in ("uvloop", "asyncio"):
            raise ConfigError("SIFA_EVENT_LOOP", f"must be uvloop or asyncio, got {event_loop!r}")
        p12 = env.get("SIFA_SIGNING_P12", "").strip()
        seal = env.get("SIFA_SEAL_IMAGE", "").strip()
        return cls(
            database_url=database_url,
            certs_dir=path("SIFA_CERTS_DIR", "certs"),
            rulings_dir=path("SIFA_RULINGS_DIR", "rulings"),
            materials_dir=path("SIFA_MATERIALS_DIR", "var/materials"),
            recordings_dir=path("SIFA_RECORDINGS_DIR", "var/recordings"),
            recordings_retention_days=integer("SIFA_RECORDINGS_RETENTION_DAYS", 3650, 1, 36500),
            node_name=node_name(env.get("SIFA_NODE_NAME", "")),
            public_url_configured=bool(env.get("SIFA_PUBLIC_URL", "").strip()),
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            recorder_addresses=recorder_addresses,
            trusted_proxies=networks("SIFA_TRUSTED_PROXIES"),
            tls_cert=tls_cert,
            tls_key=tls_key,
            ice_transport_policy=policy,
            metrics_networks=networks("SIFA_METRICS_ADDRESSES") or cls.metrics_networks,
            metrics_token=metrics_token,
            log_format=log_format,
            ws_rate_burst=integer("SIFA_WS_RATE_BURST", 120, 1, 100_000),
            ws_rate_per_second=integer("SIFA_WS_RATE_PER_SECOND", 20, 1, 100_000),
            ws_flood_strikes=integer("SIFA_WS_FLOOD_STRIKES", 100, 1, 1_000_000),
            ws_replay_mb=integer("SIFA_WS_REPLAY_MB", 64, 1, 64 * 1024),
            event_loop=event_loop,
            min_free_mb=integer("SIFA_MIN_FREE_MB", 512, 0, 10**7),
            drain_seconds=integer("SIFA_DRAIN_SECONDS", 3, 0, 300),
            finish_seconds=integer("SIFA_FINISH_SECONDS", 1800, 0, 24 * 3600),
            host=host,
            port=port,
            public_url=public_url,
            secret_key=secret.encode() if secret else None,
            max_upload_bytes=integer("SIFA_MAX_UPLOAD_MB", 20, 1, 1024) * 1024 * 1024,
            session_hours=integer("SIFA_SESSION_HOURS", 12, 1, 24 * 7),
            demo_password=env.get("SIFA_DEMO_PASSWORD", "") or "demo",
            font_path=path("SIFA_FONT", str(DEFAULT_FONT)),
            font_index=integer("SIFA_FONT_INDEX", 0, 0, 16),
            seal_image=path("SIFA_SEAL_IMAGE", seal) if seal else None,
            tsa_url=tsa_url,
            signing_p12=path("SIFA_SIGNING_P12", p12) if p12 else None,
            signing_p12_dir=existing_folder("SIFA_SIGNING_P12_DIR"),
            signing_p12_password=env.get("SIFA_SIGNING_P12_PASSWORD", ""),
            committee_p12_dir=existing_folder("SIFA_COMMITTEE_P12_DIR"),
            committee_p12_password=env.get("SIFA_COMMITTEE_P12_PASSWORD", ""),
            stun_urls=url_list("SIFA_STUN_URLS", ("stun", "stuns")),
            turn_urls=turn_urls,
            turn_secret=env.get("SIFA_TURN_SECRET", ""),
            log_level=level,
            court_name=env.get("SIFA_COURT_NAME", "").strip() or "深圳市光明区人民法院",
            court_code=env.get("SIFA_COURT_CODE", "").strip() or "粤0311",
        )
