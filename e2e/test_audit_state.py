"""A workspace as of three instants, over HTTP from the gateway's events, and the same from the store.

The gateway replays `identity.events.v1`; `plutarc audit replay` (`plutarc_runtime.audit`) reads the
identity service's own store. Both run the one fold in `plutarc_contracts.audit_state`, so their
answers must be equal.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from plutarc_runtime.audit import AuditReader

pytestmark = pytest.mark.kafka


def after_this() -> datetime:
    """An instant after everything answered so far (the events carry the identity clock's time)."""
    return datetime.now(UTC)


async def test_state_as_of_three_instants_equals_the_store_replay(platform) -> None:
    olivia, olivia_id, olivia_email = await platform.user("olivia")
    bob, bob_id, bob_email = await platform.user("bob")
    async with platform.client(olivia) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()["workspace_id"]
        t1 = after_this()
        r = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": bob_email, "role": "trader"}
        )
        token = r.json()["token"]
        t2 = after_this()
    async with platform.client(bob) as http:
        assert (await http.post("/v1/invitations/accept", json={"token": token})).status_code == 200
    async with platform.client(olivia) as http:
        r = await http.patch(f"/v1/workspaces/{ws}/members/{bob_id}", json={"role": "manager"})
        assert r.status_code == 200, r.text
        r = await http.patch(f"/v1/workspaces/{ws}", json={"name": "Prop desk"})
        assert r.status_code == 200, r.text
        t3 = after_this()

        states = {}
        for name, instant in (("t1", t1), ("t2", t2), ("t3", t3)):
            r = await http.get(f"/v1/workspaces/{ws}/audit/state", params={"as_of": instant})
            assert r.status_code == 200, r.text
            states[name] = r.json()
        now = await http.get(f"/v1/workspaces/{ws}/audit/state")
        assert now.status_code == 200 and now.json()["members"] == states["t3"]["members"]
        naive = await http.get(
            f"/v1/workspaces/{ws}/audit/state", params={"as_of": "2026-01-01T00:00:00"}
        )
        assert naive.status_code == 422 and naive.json()["code"] == "request.invalid"

    def members(state: dict[str, Any]) -> list[tuple[str, str | None, str]]:
        return [(m["user_id"], m["email"], m["role"]) for m in state["members"]]

    assert members(states["t1"]) == [(olivia_id, olivia_email, "owner")]
    assert states["t1"]["pending_invitations"] == [] and states["t1"]["name"] == "Desk"
    assert members(states["t2"]) == [(olivia_id, olivia_email, "owner")]
    [pending] = states["t2"]["pending_invitations"]
    assert (pending["email"], pending["role"]) == (bob_email, "trader")
    assert members(states["t3"]) == [
        (olivia_id, olivia_email, "owner"),
        (bob_id, bob_email, "manager"),
    ]
    assert states["t3"]["pending_invitations"] == [] and states["t3"]["name"] == "Prop desk"

    log = AuditReader(platform.identity.store)
    for name, instant in (("t1", t1), ("t2", t2), ("t3", t3)):
        from_store = await asyncio.to_thread(log.as_of, ws, instant)
        assert msgspec.to_builtins(from_store) == {
            **states[name],
            "as_of": msgspec.to_builtins(instant),
        }, name


async def test_outsiders_and_unknown_workspaces_get_404(platform) -> None:
    olivia, _, _ = await platform.user("olivia")
    mallory, _, _ = await platform.user("mallory")
    async with platform.client(olivia) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()["workspace_id"]
    async with platform.client(mallory) as http:
        r = await http.get(f"/v1/workspaces/{ws}/audit/state")
        assert (r.status_code, r.json()["code"]) == (404, "workspace.not_found")
