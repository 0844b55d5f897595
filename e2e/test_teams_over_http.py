"""End to end on the real Kafka: a team forms, works and is audited, all over HTTP."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kafka


async def test_register_organise_invite_accept_switch_change_role_and_audit(platform) -> None:
    olivia, olivia_id, _ = await platform.user("olivia")
    bob, bob_id, bob_email = await platform.user("bob")

    async with platform.client(olivia) as http:
        r = await http.post("/v1/organisations", json={"name": "Tokyo Desk"})
        assert r.status_code == 201, r.text
        ws = r.json()["workspace_id"]
        assert r.json()["your_role"] == "owner"
        assert (await http.get(f"/v1/workspaces/{ws}")).json()["name"] == "Tokyo Desk"

        r = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": bob_email, "role": "trader"}
        )
        assert r.status_code == 201, r.text
        invitation = r.json()
        assert invitation["status"] == "pending" and invitation["token"].startswith("pli_")

    async with platform.client(bob) as http:
        assert (await http.get(f"/v1/workspaces/{ws}")).status_code == 404, (
            "not a member yet: no leak"
        )
        r = await http.post("/v1/invitations/accept", json={"token": invitation["token"]})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "accepted"
        r = await http.get("/v1/me/workspaces")
        kinds = {(w["kind"], w["role"]) for w in r.json()}
        assert kinds == {("personal", "owner"), ("organisation", "trader")}
        # Switching workspace is naming it in the path: the same session reaches both.
        personal = next(w["workspace_id"] for w in r.json() if w["kind"] == "personal")
        assert (await http.get(f"/v1/workspaces/{personal}")).json()["your_role"] == "owner"
        assert (await http.get(f"/v1/workspaces/{ws}")).json()["your_role"] == "trader"
        r = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": "x@example.com", "role": "viewer"}
        )
        assert r.status_code == 403 and r.json()["code"] == "access.forbidden"

    async with platform.client(olivia) as http:
        r = await http.patch(f"/v1/workspaces/{ws}/members/{bob_id}", json={"role": "manager"})
        assert r.status_code == 200, r.text
        assert {m["user_id"]: m["role"] for m in r.json()} == {
            olivia_id: "owner",
            bob_id: "manager",
        }

        r = await http.get(
            f"/v1/workspaces/{ws}/audit", params={"action": "identity.member_role_changed"}
        )
        assert r.status_code == 200, r.text
        [entry] = r.json()["entries"]
        assert entry["actor"] == f"user:{olivia_id}" and entry["target"] == f"user:{bob_id}"
        assert (entry["before"], entry["after"]["role"]) == ({"role": "trader"}, "manager")

        everything = (await http.get(f"/v1/workspaces/{ws}/audit", params={"limit": 2})).json()
        assert len(everything["entries"]) == 2 and everything["next_cursor"]
        rest = (
            await http.get(
                f"/v1/workspaces/{ws}/audit", params={"cursor": everything["next_cursor"]}
            )
        ).json()
        actions = [e["action"] for e in everything["entries"] + rest["entries"]]
        assert actions[:2] == ["identity.workspace_created", "identity.member_joined"]
        assert "identity.invitation_accepted" in actions

        # Newest first, a page at a time: the same entries in the reverse order, no gap, no repeat.
        newest: list[dict] = []
        params: dict[str, str | int] = {"limit": 2, "order": "newest"}
        while True:
            page = (await http.get(f"/v1/workspaces/{ws}/audit", params=params)).json()
            newest += page["entries"]
            if not page["next_cursor"]:
                break
            params = {"limit": 2, "order": "newest", "cursor": page["next_cursor"]}
        oldest = (await http.get(f"/v1/workspaces/{ws}/audit", params={"limit": 500})).json()
        assert [e["position"] for e in newest] == [e["position"] for e in oldest["entries"]][::-1]
        assert len(newest) > 2

    async with platform.client(bob) as http:
        r = await http.get(f"/v1/workspaces/{ws}/audit")
        assert r.status_code == 200, "a manager reads the audit log"


async def test_idempotency_key_replays_the_first_outcome(platform) -> None:
    token, _, _ = await platform.user("ida")
    async with platform.client(token) as http:
        headers = {"Idempotency-Key": "create-desk-1"}
        first = await http.post("/v1/organisations", json={"name": "Desk"}, headers=headers)
        second = await http.post("/v1/organisations", json={"name": "Desk"}, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json()["workspace_id"] == second.json()["workspace_id"]
        organisations = [
            w for w in (await http.get("/v1/me/workspaces")).json() if w["kind"] == "organisation"
        ]
        assert len(organisations) == 1


async def test_a_missed_deadline_answers_202_with_a_status_url(platform) -> None:
    token, _, _ = await platform.user("pat")
    await platform.stop_identity()
    platform.api.settings.command_deadline = 1.0
    async with platform.client(token) as http:
        r = await http.post("/v1/organisations", json={"name": "Later"})
        assert r.status_code == 202, r.text
        assert r.headers["Location"] == r.json()["status_url"]
        status = await http.get(r.json()["status_url"])
        assert status.status_code == 200 and status.json()["status"] == "pending"


async def test_login_errors_and_logout(platform) -> None:
    token, _, email = await platform.user("lou")
    async with platform.client() as http:
        wrong = await http.post(
            "/v1/auth/login", json={"email": email, "password": "not the password"}
        )
        unknown = await http.post(
            "/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["code"] == unknown.json()["code"] == "auth.invalid_credentials"
        assert wrong.headers["content-type"] == "application/problem+json"
        taken = await http.post(
            "/v1/auth/register",
            json={"email": email, "password": "another long one", "display_name": "X"},
        )
        assert taken.status_code == 409 and taken.json()["code"] == "identity.email_taken"
    async with platform.client(token) as http:
        assert (await http.post("/v1/auth/logout")).status_code == 204
        after = await http.get("/v1/me")
        assert after.status_code == 401 and after.json()["code"] == "auth.unauthenticated"


async def test_a_retried_invitation_hands_back_the_same_working_token(platform) -> None:
    owner, _, _ = await platform.user("owen")
    guest, _, guest_email = await platform.user("gail")
    async with platform.client(owner) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()["workspace_id"]
        headers = {"Idempotency-Key": "invite-gail"}
        body = {"email": guest_email, "role": "viewer"}
        first = await http.post(f"/v1/workspaces/{ws}/invitations", json=body, headers=headers)
        second = await http.post(f"/v1/workspaces/{ws}/invitations", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json()["token"] == second.json()["token"]
    async with platform.client(guest) as http:
        accepted = await http.post("/v1/invitations/accept", json={"token": second.json()["token"]})
        assert accepted.status_code == 200, accepted.text


async def test_answers_that_carry_tokens_are_never_stored(platform) -> None:
    """A shared cache or the browser's must not keep a session, API or invitation token."""
    email = "nina@example.com"
    password = "correct horse battery"
    async with platform.client() as http:
        registered = await http.post(
            "/v1/auth/register",
            json={"email": email, "password": password, "display_name": "Nina"},
        )
        login = await http.post("/v1/auth/login", json={"email": email, "password": password})
    assert registered.status_code == 201 and login.status_code == 200, login.text
    async with platform.client(login.json()["token"]) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()["workspace_id"]
        issued = await http.post(
            f"/v1/workspaces/{ws}/tokens", json={"name": "bot", "permissions": ["workspace:read"]}
        )
        invited = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": "x@example.com", "role": "viewer"}
        )
        listed = await http.get(f"/v1/workspaces/{ws}/tokens")
    assert "token" in issued.json() and "token" in invited.json() and listed.status_code == 200
    for r in (registered, login, issued, invited, listed):
        assert r.headers.get_list("cache-control") == ["no-store"], r.url
