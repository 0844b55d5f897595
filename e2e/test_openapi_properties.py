"""schemathesis against the published OpenAPI document: no 5xx, no response outside its schema.

Cases run over HTTP against the live platform (real Kafka, the identity and support services, the
API), signed in as a user who owns a workspace and is a support operator (so the `operator` routes
are exercised past their gate), with positive and negative (malformed) inputs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from plutarc_cli.support_cmd import send
from plutarc_contracts import CommandAccepted
from plutarc_contracts import support as s
from plutarc_support.api.models import is_operator
from plutarc_testkit.waiting import wait_until
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks as oc

from .live import LivePlatform

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    platform = LivePlatform(
        kafka_bootstrap,
        Path(tmp_path_factory.mktemp("schemathesis")),
        command_deadline=2.0,
        token_rate=10_000.0,
        token_burst=10_000,
        ip_rate=10_000.0,
        ip_burst=10_000,
    ).start()
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="module")
def session(live: LivePlatform, kafka_bootstrap: str) -> dict[str, str]:
    with httpx.Client(base_url=live.base_url, timeout=30) as http:
        email = "fuzz@example.com"
        assert (
            http.post(
                "/v1/auth/register",
                json={
                    "email": email,
                    "password": "a long fuzzing password",
                    "display_name": "Fuzz",
                },
            ).status_code
            == 201
        )
        token = http.post(
            "/v1/auth/login", json={"email": email, "password": "a long fuzzing password"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        ws = http.post("/v1/organisations", json={"name": "Fuzz Desk"}, headers=headers).json()[
            "workspace_id"
        ]
        user_id = http.get("/v1/me", headers=headers).json()["user_id"]
        reply = asyncio.run(send(kafka_bootstrap, s.GrantOperator(user_id=user_id), 30))
        assert isinstance(reply, CommandAccepted), reply
        wait_until(lambda: is_operator(live.api.engine, user_id), what="the fuzzer an operator")
        ticket = http.post(
            f"/v1/workspaces/{ws}/support/tickets",
            json={"subject": "Fuzz", "body": "A ticket to aim at", "category": "other"},
            headers=headers,
        )
        assert ticket.status_code == 201, ticket.text
        return {"token": token, "workspace_id": ws, "ticket_id": ticket.json()["ticket_id"]}


# Positive-data acceptance is left out on purpose: the API rejects some schema-valid input on
# meaning (an email under a reserved domain, a role above your own) with a 4xx problem.
CHECKS = [
    not_a_server_error,
    oc.status_code_conformance,
    oc.content_type_conformance,
    oc.response_headers_conformance,
    oc.response_schema_conformance,
    oc.negative_data_rejection,
    oc.unsupported_method,
]


def test_no_server_errors_and_responses_match_their_schema(
    live: LivePlatform, session: dict[str, str]
) -> None:
    """Every operation, positive and negative inputs; half the cases aim at the caller's workspace."""
    api = schemathesis.openapi.from_url(f"{live.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {session['token']}"}
    failures: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 25
    # A live stream never ends on its own, and schemathesis reads whole bodies: the workspace's
    # server-sent events are tested on their own (e2e/test_live_events.py), bad input included.
    operations = [o for o in operations if not o.path.endswith("/events")]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            path_parameters = (
                {
                    name: session[name]
                    for name in ("workspace_id", "ticket_id")
                    if "{" + name + "}" in operation.path
                }
                or None
                if mode is GenerationMode.POSITIVE
                else None
            )

            @given(
                case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            )
            @settings(
                max_examples=12,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=live.base_url, headers=headers, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                continue  # nothing in this operation can be made invalid (e.g. no body, free-text path)
            except Exception as exc:  # collect every operation's failure, then report them together
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
                if len(failures) >= 3:
                    break
    assert not failures, "\n\n".join(failures)
