"""The platform with its policy on a real OPA server (PLUTARC_OPA_URL), and through an OPA outage.

An outage is never a denial and never loses a command: the API answers 503 `policy.unavailable`,
and the identity service holds a command it cannot authorize until the server is back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from plutarc_access import default_policy_dir, start_opa_server
from plutarc_runtime.metrics import Metrics
from plutarc_testkit.waiting import until

from .conftest import running_platform

pytestmark = [pytest.mark.kafka, pytest.mark.opa]


@pytest.fixture
def opa() -> Iterator[dict[str, object]]:
    """An OPA server loaded from deploy/policy, restartable on the same port."""
    url, stop = start_opa_server(default_policy_dir())
    server: dict[str, object] = {"url": url, "stop": stop}
    try:
        yield server
    finally:
        server["stop"]()  # type: ignore[operator]


def restart(server: dict[str, object]) -> None:
    port = urlsplit(str(server["url"])).port
    assert port is not None
    _, server["stop"] = start_opa_server(default_policy_dir(), port)


async def test_both_checks_on_opa_and_an_outage_answers_503(
    kafka_bootstrap: str, tmp_path: Path, opa: dict[str, object]
) -> None:
    url = str(opa["url"])
    async with running_platform(
        kafka_bootstrap, tmp_path, identity_opa_url=url, opa_url=url
    ) as platform:
        olivia, _, _ = await platform.user("olivia")
        bob, _, bob_email = await platform.user("bob")
        async with platform.client(olivia) as http:
            r = await http.post("/v1/organisations", json={"name": "Desk"})
            assert r.status_code == 201, r.text
            ws = r.json()["workspace_id"]
            r = await http.post(
                f"/v1/workspaces/{ws}/invitations", json={"email": bob_email, "role": "viewer"}
            )
            assert r.status_code == 201, r.text
            token = r.json()["token"]
        async with platform.client(bob) as http:
            assert (
                await http.post("/v1/invitations/accept", json={"token": token})
            ).status_code == 200
            denied = await http.post(
                f"/v1/workspaces/{ws}/invitations",
                json={"email": "carol@example.com", "role": "viewer"},
            )
            assert denied.status_code == 403 and denied.json()["code"] == "access.forbidden"

        opa["stop"]()  # type: ignore[operator]
        async with platform.client(olivia) as http:
            r = await http.get(f"/v1/workspaces/{ws}/members")
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "policy.unavailable"
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["Retry-After"] == "1"
        restart(opa)
        async with platform.client(olivia) as http:
            r = await http.get(f"/v1/workspaces/{ws}/members")
            assert r.status_code == 200, r.text
            assert {m["role"] for m in r.json()} == {"owner", "viewer"}


async def test_identity_holds_a_command_through_an_opa_outage_and_dead_letters_nothing(
    kafka_bootstrap: str, tmp_path: Path, opa: dict[str, object]
) -> None:
    # The edge decides in-process here, so the command reaches identity while OPA is down.
    async with running_platform(
        kafka_bootstrap, tmp_path, identity_opa_url=str(opa["url"]), command_deadline=1.0
    ) as platform:
        olivia, _, _ = await platform.user("olivia")
        async with platform.client(olivia) as http:
            ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()[
                "workspace_id"
            ]
            opa["stop"]()  # type: ignore[operator]
            r = await http.patch(f"/v1/workspaces/{ws}", json={"name": "Renamed desk"})
            assert r.status_code == 202, r.text
            status_url = r.json()["status_url"]
            metrics = platform.identity.metrics
            await until(
                lambda: _count(metrics, "retried") > 0, what="identity to retry the command"
            )
            restart(opa)

            async def done() -> dict[str, object] | None:
                body = (await http.get(status_url)).json()
                return body if body["status"] != "pending" else None

            status = await until(done, what="the held command to be handled")
            assert status["status"] == "accepted", status
            name = (await http.get(f"/v1/workspaces/{ws}")).json()["name"]
            assert name == "Renamed desk"
        assert _count(platform.identity.metrics, "dead_lettered") == 0


def _count(metrics: Metrics, outcome: str) -> float:
    """Messages identity's consumers counted with this outcome (plutarc_consumer_messages)."""
    return sum(
        sample.value
        for family in metrics.registry.collect()
        if family.name == "plutarc_consumer_messages"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels.get("outcome") == outcome
    )
