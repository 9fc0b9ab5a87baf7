"""The `sifa` command run as a real process: python -m app …"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main, parser
from app.passwords import verify_password

ROOT = Path(__file__).resolve().parents[2]
DEMO_USERNAMES = [
    *["admin", "mediator", "clerk", "judge"],
    *[f"kiosk{i}" for i in range(1, 9)],
    *["mediator_ns", "clerk_ns", "judge_ns", "kiosk_ns1"],  # the second court, 南山
]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIFA_")}
    env.update(
        SIFA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'var' / 'sifa.db'}",
        SIFA_CERTS_DIR=str(tmp_path / "certs"),
        SIFA_RULINGS_DIR=str(tmp_path / "rulings"),
        SIFA_MATERIALS_DIR=str(tmp_path / "materials"),
        PYTHONPATH=str(ROOT),
    )
    return env


def sifa(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def many(
    env: dict[str, str], commands: list[list[str]], stdins: list[str] | None = None
) -> list[tuple[int, str, str]]:
    """Run independent commands side by side (each one starts a Python process)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    for process, stdin in zip(processes, stdins or [""] * len(commands), strict=True):
        out, err = process.communicate(stdin, timeout=120)
        results.append((process.returncode, out, err))
    return results


def in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """The same `main` without a new interpreter, for the many small refusals."""
    for name in [k for k in os.environ if k.startswith("SIFA_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("SIFA_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def listed_usernames(output: str) -> list[str]:
    return [line.split()[0] for line in output.splitlines() if line.startswith("  ")]


def test_init_demo_users_and_audit_verify(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "var" / "sifa.db"
    init = sifa(cli_env, "init")
    assert init.returncode == 0, init.stderr
    assert "database ready" in init.stdout and db.exists()
    assert (tmp_path / "certs" / "data.key").exists()

    first = sifa(cli_env, "demo")
    assert first.returncode == 0, first.stderr
    assert listed_usernames(first.stdout) == DEMO_USERNAMES
    accounts_after_first = query(db, "SELECT username FROM accounts ORDER BY id")
    assert [u for (u,) in accounts_after_first] == DEMO_USERNAMES
    cases_after_first = query(db, "SELECT count(*) FROM cases")
    code, out, err = in_process(monkeypatch, capsys, cli_env, "demo")  # again, quicker in-process
    assert code == 0, err
    assert listed_usernames(out) == DEMO_USERNAMES
    assert query(db, "SELECT username FROM accounts ORDER BY id") == accounts_after_first
    assert query(db, "SELECT count(*) FROM cases") == cases_after_first == [(1,)]
    assert query(db, "SELECT count(*) FROM rooms") == [(9,)]  # 光明's eight, 南山's one

    (code, out, err), (short_code, _, short_err) = many(
        cli_env,
        [
            ["user", "add", "judge2", "--role", "judge", "--court", "粤0311", "--name", "张审判员"],
            ["user", "add", "judge3", "--role", "judge", "--court", "粤0311"],
        ],
        ["a-long-passphrase\n", "short\n"],
    )
    assert code == 0, err
    assert "judge2" in out
    assert short_code == 2 and "password" in short_err
    [(role, name, stored)] = query(
        db, "SELECT role, display_name, password_hash FROM accounts WHERE username = 'judge2'"
    )
    assert (role, name) == ("judge", "张审判员")
    assert verify_password(str(stored), "a-long-passphrase")
    assert not verify_password(str(stored), "a-long-passphrase\n")

    code, _, err = in_process(
        monkeypatch,
        capsys,
        cli_env,
        "user",
        "add",
        "judge2",
        "--role",
        "judge",
        "--court",
        "粤0311",
        stdin="another-long-one\n",
    )
    assert code == 2 and "taken" in err
    code, _, err = in_process(
        monkeypatch,
        capsys,
        cli_env,
        "user",
        "add",
        "clerk9",
        "--role",
        "clerk",
        "--court",
        "粤9999",
        stdin="another-long-one\n",
    )
    assert code == 2 and "court" in err
    code, _, err = in_process(
        monkeypatch,
        capsys,
        cli_env,
        "user",
        "add",
        "bad name!",
        "--role",
        "admin",
        stdin="another-long-one\n",
    )
    assert code == 2 and "username" in err
    assert query(db, "SELECT count(*) FROM accounts") == [(len(DEMO_USERNAMES) + 1,)]

    code, out, err = in_process(monkeypatch, capsys, cli_env, "audit", "verify")
    [(events,)] = query(db, "SELECT count(*) FROM audit_events")
    assert code == 0, out + err
    assert f"intact: {events} events" in out

    with sqlite3.connect(db) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_events SET details = '{}' WHERE seq = 5")
        conn.execute("DROP TRIGGER audit_events_no_update")
        conn.execute("""UPDATE audit_events SET details = '{"tampered":1}' WHERE seq = 5""")
    broken = sifa(cli_env, "audit", "verify")  # as a real process: exit status 1
    assert broken.returncode == 1
    assert "event 5" in broken.stdout and "4 events before it are intact" in broken.stdout

    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER audit_events_no_delete")
        conn.execute("DELETE FROM audit_events WHERE seq = 3")
    code, out, _ = in_process(monkeypatch, capsys, cli_env, "audit", "verify")
    assert code == 1 and "event 3" in out


def test_a_wrong_setting_stops_every_command_naming_the_variable(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {**cli_env, "SIFA_PORT": "eighty"}
    process = sifa(env, "init")
    assert process.returncode == 2
    assert "SIFA_PORT" in process.stderr and "eighty" in process.stderr
    assert "Traceback" not in process.stderr
    commands = [
        ["init"],
        ["serve"],
        ["demo"],
        ["audit", "verify"],
        ["user", "add", "x", "--role", "admin"],
    ]
    for args in commands:
        code, _, err = in_process(monkeypatch, capsys, env, *args)
        assert code == 2 and "SIFA_PORT" in err, (args, err)
    code, _, err = in_process(
        monkeypatch, capsys, {**cli_env, "SIFA_DATABASE_URL": "mysql://x/y"}, "init"
    )
    assert code == 2 and "SIFA_DATABASE_URL" in err
    assert not (tmp_path / "var" / "sifa.db").exists()  # nothing was done


def subcommands(
    top: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += subcommands(sub, (*prefix, name))
    return found


def test_help_works_for_every_subcommand(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    top = sifa(cli_env, "--help")
    assert top.returncode == 0 and top.stdout.startswith("usage: sifa")
    commands = subcommands(parser())
    assert {("init",), ("serve",), ("demo",), ("user", "add"), ("audit", "verify")} <= set(commands)
    for command in commands:
        code, out, err = in_process(monkeypatch, capsys, cli_env, *command, "--help")
        assert code == 0, (command, err)
        assert out.startswith(f"usage: {' '.join(('sifa', *command))}"), (command, out)
        assert err == ""
    for name in {c[0] for c in commands if c}:
        assert name in top.stdout
