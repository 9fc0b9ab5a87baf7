"""Several real `sifa serve` processes on one database and one Redis, behind real HAProxy.

An Installation is what nodes of one Sifa share: the database, the storage folders (certs,
rulings, materials, recordings) and the secret key. A Cluster runs named nodes of one
installation with their own Redis prefix, and HAProxy with deploy/haproxy.cfg in front.
Everything is synchronous (processes and polling), so fixtures of any scope can hold it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[2]
HAPROXY_CFG = REPO / "deploy" / "haproxy.cfg"
NODES_BEGIN = "# --- nodes:"
NODES_END = "# --- end of nodes"
REDIS_URL = "redis://127.0.0.1:6379/0"
READY_SECONDS = 60.0
# The address HAProxy connects to the nodes from, and the only one they take X-Forwarded-For from.
LB_SOURCE = "127.0.0.2"


def free_port(taken: Iterable[int] = ()) -> int:
    """A port nothing listens on now (and not one of `taken`, handed out but not yet bound)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            return port


def sifa_command() -> list[str]:
    """The venv's `sifa` entry point (what an operator runs), else `python -m app`."""
    entry = Path(sys.executable).with_name("sifa")
    return [str(entry)] if entry.exists() else [sys.executable, "-m", "app"]


def redis_available(url: str = REDIS_URL) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def delete_redis_prefix(prefix: str, url: str = REDIS_URL) -> int:
    """Delete every key of one installation's prefix; channels leave nothing behind."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


def get_json(url: str, timeout: float = 2.0) -> tuple[int, Any]:
    """(status, parsed body) of one GET; a refused connection raises OSError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"null")
        except ValueError:
            return error.code, body.decode(errors="replace")


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"({path.name}: no output)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(text)


def render_haproxy(template: str, servers: Iterable[tuple[str, str]]) -> str:
    """deploy/haproxy.cfg with the block between the nodes markers replaced by `servers`."""
    lines = template.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.strip().startswith(NODES_BEGIN))
    end = next(i for i, line in enumerate(lines) if line.strip().startswith(NODES_END))
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    servers = list(servers)
    block = [f"{indent}server {name} {address}" for name, address in servers] + [
        f"{indent}server {name}-open {address} backup no-check" for name, address in servers
    ]
    return "\n".join([*lines[: begin + 1], *block, *lines[end:]]) + "\n"


@dataclass
class Installation:
    """One Sifa: a migrated PostgreSQL database with the demo data, shared folders and key."""

    root: Path
    database_url: str
    env: dict[str, str]

    @staticmethod
    def environment(root: Path, database_url: str) -> dict[str, str]:
        """What an installation's processes share: this process's environment without any
        SIFA_ setting of its own, the database, the storage folders under `root`, a key."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SIFA_")}
        return {
            **inherited,
            "PYTHONUNBUFFERED": "1",
            "SIFA_DATABASE_URL": database_url,
            "SIFA_CERTS_DIR": str(root / "certs"),
            "SIFA_RULINGS_DIR": str(root / "rulings"),
            "SIFA_MATERIALS_DIR": str(root / "materials"),
            "SIFA_RECORDINGS_DIR": str(root / "recordings"),
            "SIFA_SECRET_KEY": secrets.token_hex(32),
        }

    @classmethod
    def create(cls, root: Path, database_url: str) -> Installation:
        root.mkdir(parents=True, exist_ok=True)
        installation = cls(root, database_url, cls.environment(root, database_url))
        installation.check("init")
        installation.check("demo")
        return installation

    @property
    def postgres_dsn(self) -> str:
        """The database for asyncpg (which does not take SQLAlchemy's +asyncpg)."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """`sifa ARGS` with this installation's environment (plus `env`), output captured."""
        return subprocess.run(
            [*sifa_command(), *args],
            env={**self.env, **(env or {})},
            cwd=self.root,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def check(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done = self.run(*args, **kw)
        if done.returncode != 0:
            raise AssertionError(
                f"sifa {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done


@dataclass
class Process:
    """A long-running child with its output appended to a log file, restartable."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        assert not self.running, f"{self.name} is already running"
        with self.log_path.open("ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` and wait for the exit; a process still there after `timeout` is killed
        and the stop fails. Returns the exit code (negative: the signal that ended it)."""
        assert self.popen is not None, f"{self.name} was never started"
        if self.popen.poll() is not None:
            return self.popen.returncode
        self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(
                f"{self.name} did not exit within {timeout} s of signal {sig}\n"
                f"{tail(self.log_path)}"
            ) from None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Cluster:
    """Named `sifa serve` nodes of one installation, with HAProxy in front of them.

    Built stopped; `up()` starts the nodes, waits for each one's /readyz, then HAProxy."""

    installation: Installation
    names: tuple[str, ...] = ("node-a", "node-b")
    redis_url: str = REDIS_URL
    haproxy: str = "haproxy"
    prefix: str = field(default_factory=lambda: f"sifa-test-{secrets.token_hex(6)}")
    lb_port: int = field(default_factory=free_port)
    nodes: dict[str, Process] = field(init=False)
    balancer: Process = field(init=False)

    def __post_init__(self) -> None:
        root = self.installation.root
        self.nodes, taken = {}, {self.lb_port}
        for name in self.names:
            env = {
                **self.installation.env,
                **self.node_env(),
                "SIFA_NODE_NAME": name,
                "SIFA_HOST": "127.0.0.1",
                "SIFA_PORT": str(free_port(taken)),
            }
            taken.add(int(env["SIFA_PORT"]))
            argv = [*sifa_command(), "serve"]
            self.nodes[name] = Process(name, argv, env, root, root / f"{name}.log")
        config = root / f"haproxy-{self.prefix}.cfg"
        servers = [(name, f"127.0.0.1:{self.port(name)}") for name in self.nodes]
        config.write_text(render_haproxy(HAPROXY_CFG.read_text(), servers))
        lb_env = {
            **os.environ,
            "SIFA_LB_BIND": f"127.0.0.1:{self.lb_port}",
            "SIFA_LB_SOURCE": LB_SOURCE,
        }
        argv = [self.haproxy, "-db", "-f", str(config)]
        self.balancer = Process("haproxy", argv, lb_env, root, root / "haproxy.log")

    def node_env(self) -> dict[str, str]:
        """What every node of this cluster has on top of the installation's environment."""
        return {
            "SIFA_REDIS_URL": self.redis_url,
            "SIFA_REDIS_PREFIX": self.prefix,
            "SIFA_PUBLIC_URL": self.lb_url,
            # The recorder offers loopback candidates only: no media leaves this machine.
            "SIFA_RECORDER_ADDRESSES": "127.0.0.1",
            # HAProxy reaches the nodes from 127.0.0.2 (SIFA_LB_SOURCE): only it is believed.
            "SIFA_TRUSTED_PROXIES": LB_SOURCE,
        }

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    def url(self, name: str) -> str:
        """A node's own address, past the balancer."""
        return f"http://127.0.0.1:{self.port(name)}"

    def port(self, name: str) -> int:
        return int(self.nodes[name].env["SIFA_PORT"])

    def up(self) -> Cluster:
        for node in self.nodes.values():
            node.spawn()
        for name in self.nodes:
            self.wait_ready(name)
        self.balancer.spawn()
        self._wait_http(self.balancer, f"{self.lb_url}/healthz")
        return self

    def start(self, name: str) -> None:
        """(Re)start a node on its port with its environment, and wait until it answers."""
        self.nodes[name].spawn()
        self.wait_ready(name)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        return self.nodes[name].stop(sig, timeout)

    def wait_ready(self, name: str) -> None:
        self._wait_http(self.nodes[name], f"{self.url(name)}/readyz")

    def wait_in_rotation(self, name: str, timeout: float = 15.0) -> None:
        """Until the balancer sends requests to `name` again (its checks need a few seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body = get_json(f"{self.lb_url}/healthz")
            if status == 200 and isinstance(body, dict) and body.get("node") == name:
                return
            time.sleep(0.1)
        raise AssertionError(f"the balancer did not route to {name} within {timeout} s")

    def logs(self, name: str) -> str:
        """Everything a node (or "haproxy") has written, across restarts."""
        return dict(self._all())[name].logs()

    def log_tails(self, lines: int = 60) -> str:
        parts = [f"--- {n} ({p.log_path}) ---\n{tail(p.log_path, lines)}" for n, p in self._all()]
        return "\n".join(parts)

    def down(self) -> None:
        """Stop HAProxy and every node (SIGINT: at once, without SIGTERM's drain window;
        SIGKILL and a failure for one that hangs), then delete the cluster's Redis keys."""
        hung: list[str] = []
        try:
            for _, process in reversed(self._all()):
                if process.running:
                    try:
                        process.stop(signal.SIGINT, timeout=20)
                    except AssertionError as error:
                        hung.append(str(error))
        finally:
            if redis_available(self.redis_url):
                delete_redis_prefix(self.prefix, self.redis_url)
        assert not hung, "\n".join(hung)

    def _all(self) -> list[tuple[str, Process]]:
        return [*self.nodes.items(), ("haproxy", self.balancer)]

    def _wait_http(self, process: Process, url: str) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if not process.running:
                raise AssertionError(
                    f"{process.name} exited ({process.popen and process.popen.returncode}) "
                    f"before answering {url}\n{tail(process.log_path)}"
                )
            try:
                status, _ = get_json(url, timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(
            f"{url} did not answer 200 within {READY_SECONDS} s\n{tail(process.log_path)}"
        )


def private_redis(root: Path) -> Process:
    """A Redis server of the test's own (keeping nothing on disk, like the machine's), so
    that stopping it mid-session disturbs no other test."""
    port = free_port()
    argv = [
        "redis-server",
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(root),
    ]
    process = Process(f"redis-{port}", argv, dict(os.environ), root, root / f"redis-{port}.log")
    process.spawn()
    deadline = time.monotonic() + READY_SECONDS
    while not redis_available(redis_url(process)):
        assert process.running and time.monotonic() < deadline, tail(process.log_path)
        time.sleep(0.05)
    return process


def redis_url(process: Process) -> str:
    return f"redis://127.0.0.1:{process.argv[4]}/0"
