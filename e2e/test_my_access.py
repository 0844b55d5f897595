"""GET /v1/workspaces/{id}/access: what the caller may do, as the one authorizer decides it, so
that a client shows only the actions a role allows (the dashboard does)."""

from __future__ import annotations

import pytest
from plutarc_contracts.permissions import PERMISSIONS, grants

pytestmark = pytest.mark.kafka


async def join(platform, owner: str, ws: str, name: str, role: str) -> str:  # type: ignore[no-untyped-def]
    token, _user_id, email = await platform.user(name)
    async with platform.client(owner) as http:
        r = await http.post(f"/v1/workspaces/{ws}/invitations", json={"email": email, "role": role})
        assert r.status_code == 201, r.text
        invitation = r.json()["token"]
    async with platform.client(token) as http:
        r = await http.post("/v1/invitations/accept", json={"token": invitation})
        assert r.status_code == 200, r.text
    return token


async def test_each_role_is_told_its_permissions_and_the_roles_it_may_grant(platform) -> None:  # type: ignore[no-untyped-def]
    owner, owner_id, _ = await platform.user("olga")
    async with platform.client(owner) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Access Desk"})).json()[
            "workspace_id"
        ]
        r = await http.get(f"/v1/workspaces/{ws}/access")
        assert r.status_code == 200, r.text
        mine = r.json()
    assert mine["role"] == "owner" and mine["actor"] == f"user:{owner_id}"
    assert mine["permissions"] == sorted(PERMISSIONS)
    assert mine["grantable_roles"] == ["owner", "admin", "manager", "trader", "viewer"]

    manager = await join(platform, owner, ws, "mona", "manager")
    viewer = await join(platform, owner, ws, "vic", "viewer")
    async with platform.client(manager) as http:
        body = (await http.get(f"/v1/workspaces/{ws}/access")).json()
    assert body["permissions"] == sorted(grants("manager"))
    assert body["grantable_roles"] == ["manager", "trader", "viewer"]
    async with platform.client(manager) as http:
        # A role outside those is refused, naming the field, so a form shows it beside the role.
        r = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": "al@example.com", "role": "admin"}
        )
    assert r.status_code == 403 and r.json()["code"] == "access.role_escalation"
    assert [e["field"] for e in r.json()["errors"]] == ["role"]
    async with platform.client(viewer) as http:
        body = (await http.get(f"/v1/workspaces/{ws}/access")).json()
        assert body["permissions"] == sorted(grants("viewer"))
        assert body["grantable_roles"] == []
        # A token narrows what its holder may do: the answer says so.
        r = await http.post(
            f"/v1/workspaces/{ws}/tokens",
            json={"name": "ro", "permissions": ["workspace:read"]},
        )
        assert r.status_code == 403  # a viewer has no api_tokens:manage
    async with platform.client(owner) as http:
        r = await http.post(
            f"/v1/workspaces/{ws}/tokens",
            json={"name": "ro", "permissions": ["workspace:read", "members:read"]},
        )
        assert r.status_code == 201, r.text
        pat = r.json()["token"]
    async with platform.client(pat) as http:
        body = (await http.get(f"/v1/workspaces/{ws}/access")).json()
    assert body["role"] == "owner" and body["actor"].startswith("token:")
    assert body["permissions"] == ["members:read", "workspace:read"]
    assert body["grantable_roles"] == []

    stranger, _, _ = await platform.user("sam")
    async with platform.client(stranger) as http:
        r = await http.get(f"/v1/workspaces/{ws}/access")
    assert r.status_code == 404 and r.json()["code"] == "workspace.not_found"
