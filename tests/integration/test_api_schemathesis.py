"""schemathesis against our own /api/openapi.json, served by the real app on a real port, as
each role: no 5xx, every response conforms to the document, and every refusal has the
documented error shape with a message in Chinese and English.

Bounded: a few examples per operation and mode, derandomized, so the run is the same every
time and fits the suite's budget. The figures are printed (`-s`) for the issue's closing note;
on 2026-12-06: 72 operations, 1406 cases, 0 5xx. What the runs found is kept as regression
tests in test_schemathesis_findings.py and tests/unit/test_openapi_document.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from integration.conftest import Clock, on_a_real_port
from integration.ruling_flow import scheduled_case

pytestmark = pytest.mark.slow

# Who calls, as a demo login; None is the anonymous caller.
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "mediator": "mediator",
    "clerk": "clerk",
    "judge": "judge",
    "kiosk": "kiosk1",
    "admin": "admin",
}
# Ends the very token the run calls with; its refusals are covered without a session below.
SKIPPED_FOR_ACCOUNTS = {("POST", "/api/logout")}
# About a minute for every operation as six callers; derandomized, so always the same cases.
# Random ids mostly name nothing: each operation on a case runs again on a booked case, where
# valid bodies get past the 404s into the rules.
EXAMPLES = {GenerationMode.POSITIVE: 1, GenerationMode.NEGATIVE: 1}
ON_A_BOOKED_CASE = 2
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{2}")


@dataclasses.dataclass
class Figures:
    operations: int = 0
    cases: int = 0
    server_errors: int = 0
    statuses: Counter[int] = dataclasses.field(default_factory=Counter)
    failures: list[str] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)


def refusal_shape(response: requests.Response) -> str | None:
    """What is wrong with a 4xx answer's body, or None: `{"error": {code, message}}`, the
    message bilingual ("中文 / English")."""
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        return f"not the error shape: {response.text[:200]!r}"
    if not isinstance(code, str) or not isinstance(message, str):
        return f"code or message not text: {error!r}"
    if not (_CJK.search(message) and _LATIN.search(message)):
        return f"message not in Chinese and English: {message!r}"
    return None


CHECKS: list[CheckFunction] = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Run last: they deactivate accounts and end sessions, which the other operations need.
_LAST = re.compile(r"^/api/(admin/accounts/\{account_id\}|account/password)")


def run_all(base: str, tokens: dict[str, str | None], booked: int, figures: Figures) -> None:
    """Each generated case is sent as every role: generating costs more than calling."""
    sessions = {role: requests.Session() for role in tokens}
    for role, token in tokens.items():
        if token:
            sessions[role].headers["Authorization"] = f"Bearer {token}"
    document = requests.get(f"{base}/api/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: bool(_LAST.match(op.path)),
    )
    for operation in operations:
        figures.operations += 1
        started = time.monotonic()
        for mode, examples in EXAMPLES.items():
            strategy = operation.as_strategy(generation_mode=mode)
            run_operation(operation, strategy, mode, examples, base, sessions, figures)
        if "{case_id}" in operation.path:
            strategy = operation.as_strategy(path_parameters={"case_id": booked})
            run_operation(
                operation,
                strategy,
                GenerationMode.POSITIVE,
                ON_A_BOOKED_CASE,
                base,
                sessions,
                figures,
            )
        figures.seconds[f"{operation.method.upper()} {operation.path}"] = round(
            time.monotonic() - started, 2
        )


def run_operation(
    operation: Any,
    strategy: Any,
    mode: GenerationMode,
    examples: int,
    base: str,
    sessions: dict[str, requests.Session],
    figures: Figures,
) -> None:
    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        for role, session in sessions.items():
            signed_in = "Authorization" in session.headers
            if signed_in and (operation.method.upper(), operation.path) in SKIPPED_FOR_ACCOUNTS:
                continue
            call(case, session, f"{label} as {role}", base, figures)

    # schemathesis also raises what its checks found once the examples are done.
    try:
        one()
    except (AssertionError, BaseExceptionGroup) as failure:
        figures.failures.append(f"{label}: {str(failure)[:600]}")


def call(case: Any, session: requests.Session, label: str, base: str, figures: Figures) -> None:
    figures.cases += 1
    response = case.call(base_url=base, session=session, timeout=30)
    figures.statuses[response.status_code] += 1
    if response.status_code >= 500:
        figures.server_errors += 1
        figures.failures.append(f"{label}: {response.status_code} {response.text[:300]}")
        return
    if 400 <= response.status_code < 500:
        problem = refusal_shape(response)
        if problem:
            figures.failures.append(f"{label}: {response.status_code} {problem}")
    try:
        case.validate_response(response, checks=CHECKS)
    except (AssertionError, BaseExceptionGroup) as failure:
        figures.failures.append(f"{label}: {str(failure)[:600]}")


# About a minute on two idle cores; the suite's 180 s would fail it on a busy CI machine.
@pytest.mark.timeout(600)
async def test_every_operation_as_every_role(tmp_path: Path) -> None:
    figures = Figures()
    async with on_a_real_port(tmp_path, Clock()) as sifa:
        client = await sifa.make_client(sifa.app)
        base = str(client.make_url("")).rstrip("/")
        tokens: dict[str, str | None] = {}
        for role, username in ROLES.items():
            tokens[role] = None
            if username is not None:
                login = await client.post(
                    "/api/login", json={"username": username, "password": "demo"}
                )
                assert login.status == 200, (role, await login.text())
                tokens[role] = (await login.json())["token"]
        mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
        booked = await scheduled_case(mediator, clerk)
        # schemathesis calls with blocking requests: off the loop, which keeps serving.
        await asyncio.to_thread(run_all, base, tokens, booked, figures)
    print(
        f"\nschemathesis: {figures.operations} operations, {figures.cases} cases, "
        f"{figures.server_errors} 5xx, statuses {dict(sorted(figures.statuses.items()))}"
    )
    slowest = sorted(figures.seconds.items(), key=lambda item: -item[1])[:8]
    print("slowest operations:", slowest)
    assert figures.operations >= 60
    assert not figures.failures, "\n".join(sorted(set(figures.failures)))
