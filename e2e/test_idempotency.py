"""Every write route honours Idempotency-Key: the same key and request answer as the first time
(the same resource, the same working secret), the same key with another request is refused."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest
from plutarc_api.commands import command_id_for

from .test_role_matrix import body_for, prepare, setup, workspace_routes

pytestmark = pytest.mark.kafka
WRITES = ("POST", "PUT", "PATCH", "DELETE")


ANSWERED_ELSEWHERE = {
    ("PUT", "/v1/workspaces/{workspace_id}/compute/sleep-policy"),
    ("POST", "/v1/workspaces/{workspace_id}/bots/{bot_id}/host/wake"),
}
"""Compute's writes need a compute service answering, which this platform does not run (a wake
also needs a host the service planned): their Idempotency-Key is tested with a stand-in service in
services/compute/tests/http/test_compute_api.py."""


def write_routes() -> list[tuple[str, str]]:
    """The workspace's write routes (those outside a workspace are tested one by one below)."""
    return [
        (m, p)
        for m, p, _ in workspace_routes()
        if m in WRITES and "{workspace_id}" in p and (m, p) not in ANSWERED_ELSEWHERE
    ]


async def twice(http: httpx.AsyncClient, method: str, url: str, body: Any) -> list[httpx.Response]:
    key = {"Idempotency-Key": uuid4().hex}
    return [await http.request(method, url, json=body, headers=key) for _ in range(2)]


async def test_every_write_route_answers_a_repeated_key_as_the_first_time(platform) -> None:
    owner = await platform.user("owner")
    victim = await platform.user("victim")
    member = await platform.user("member")
    routes = write_routes()
    assert len(routes) >= 12
    # The repeat changes nothing: the audit log holds the first call's events only.
    for method, path in routes:
        env = await setup(platform, "admin", owner, member, victim, path=path)
        url = path.format(**env)
        caller = member if path.endswith("/leave") else owner  # the last owner may not leave
        async with platform.client(caller[0]) as http, platform.client(owner[0]) as auditor:
            audit = f"/v1/workspaces/{env['workspace_id']}/audit"
            key = {"Idempotency-Key": uuid4().hex}
            body = body_for(method, path, env)
            await prepare(http, method, path, env)
            first = await http.request(method, url, json=body, headers=key)
            assert first.status_code < 300, f"{method} {path}: {first.text}"
            after_first = (await auditor.get(audit, params={"limit": 500})).json()["entries"]
            second = await http.request(method, url, json=body, headers=key)
            assert second.status_code == first.status_code, f"{method} {path}: {second.text}"
            if first.status_code != 204:
                assert second.json() == first.json(), f"{method} {path}"
            after_second = (await auditor.get(audit, params={"limit": 500})).json()["entries"]
            assert after_second == after_first, f"{method} {path}: the repeat changed something"


async def test_a_repeated_key_hands_back_the_same_working_token(platform) -> None:
    token, _, _ = await platform.user("tia")
    async with platform.client(token) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Keys"})).json()["workspace_id"]
        body = {"name": "ci", "permissions": ["workspace:read"]}
        first, second = await twice(http, "POST", f"/v1/workspaces/{ws}/tokens", body)
        assert first.status_code == second.status_code == 201
        assert first.json()["token"] == second.json()["token"]
        assert len((await http.get(f"/v1/workspaces/{ws}/tokens")).json()) == 1
    async with platform.client(second.json()["token"]) as as_token:
        assert (await as_token.get(f"/v1/workspaces/{ws}")).status_code == 200


async def test_a_key_reused_for_another_request_is_refused_and_changes_nothing(platform) -> None:
    token, _, _ = await platform.user("rex")
    async with platform.client(token) as http:
        key = {"Idempotency-Key": "one-key"}
        r = await http.post("/v1/organisations", json={"name": "First"}, headers=key)
        assert r.status_code == 201
        other = await http.post("/v1/organisations", json={"name": "Second"}, headers=key)
        assert other.status_code == 422
        assert other.json()["code"] == "request.idempotency_key_reused"
        names = [w["name"] for w in (await http.get("/v1/me/workspaces")).json()]
        assert "Second" not in names and names.count("First") == 1


async def test_login_and_register_honour_the_key(platform) -> None:
    email = f"kai-{uuid4().hex[:6]}@example.com"
    async with platform.client() as http:
        body = {"email": email, "password": "correct horse battery", "display_name": "Kai"}
        first, second = await twice(http, "POST", "/v1/auth/register", body)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        login = {"email": email, "password": "correct horse battery"}
        a, b = await twice(http, "POST", "/v1/auth/login", login)
        assert a.status_code == b.status_code == 200
        assert a.json()["token"] == b.json()["token"]
    async with platform.client(a.json()["token"]) as as_kai:
        assert (await as_kai.get("/v1/me")).status_code == 200


async def test_a_command_status_answers_only_the_caller_who_issued_it(platform) -> None:
    ann, ann_id, _ = await platform.user("ann")
    ben, _, _ = await platform.user("ben")
    key = uuid4().hex
    command_id = command_id_for(f"user:{ann_id}", key)  # how the API names a keyed command
    async with platform.client(ann) as http:
        r = await http.post(
            "/v1/organisations", json={"name": "Ann's"}, headers={"Idempotency-Key": key}
        )
        assert r.status_code == 201
        mine = await http.get(f"/v1/commands/{command_id}")
        assert mine.status_code == 200 and mine.json()["status"] == "accepted"
    async with platform.client(ben) as http:
        theirs = await http.get(f"/v1/commands/{command_id}")
        assert theirs.status_code == 404 and theirs.json()["code"] == "command.not_found"
        for unknown in ("not-a-uuid", str(uuid4())):
            r = await http.get(f"/v1/commands/{unknown}")
            assert r.status_code == 404 and r.json()["code"] == "command.not_found"
