"""Support over HTTP on the running platform (identity, support and the API on real Kafka):
members open, list, read, reply and resolve; operators work the queue, reply, assign, write notes
and read their times; the notification feed; bad input refused with stable codes, nothing changed.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Platform

pytestmark = pytest.mark.kafka

TICKET = {"subject": "Bot stopped", "body": "My bot stopped at 09:00", "category": "bots"}


async def org_with(platform: Platform, owner: str, **members: str) -> str:
    """An organisation owned by `owner`'s token, with each of `members` (token -> role) in it."""
    async with platform.client(owner) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()["workspace_id"]
        for token, role in members.items():
            async with platform.client(token) as them:
                email = (await them.get("/v1/me")).json()["email"]
            inv = await http.post(
                f"/v1/workspaces/{ws}/invitations", json={"email": email, "role": role}
            )
            async with platform.client(token) as them:
                r = await them.post("/v1/invitations/accept", json={"token": inv.json()["token"]})
                assert r.status_code == 200, r.text
    return ws


async def open_ticket(http: Any, ws: str, **fields: Any) -> dict[str, Any]:
    r = await http.post(f"/v1/workspaces/{ws}/support/tickets", json={**TICKET, **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_ticket_from_opening_to_resolution(platform: Platform) -> None:
    user, user_id, _ = await platform.user("trader")
    op, op_id, _ = await platform.operator("operator")
    _, other_op_id, _ = await platform.operator("second")
    ws = await org_with(platform, user)
    async with platform.client(user) as http, platform.client(op) as ops:
        low = await open_ticket(http, ws, priority="low", subject="Invoice")
        urgent = await open_ticket(http, ws, priority="urgent", links={"bot_ids": ["bot-1"]})
        assert (urgent["status"], urgent["opened_by"], urgent["links"]["bot_ids"]) == (
            "open",
            user_id,
            ["bot-1"],
        )
        assert urgent["thread"] == [] and urgent["body"] == TICKET["body"]

        # The operators' queue: most urgent first, then oldest first.
        queue = (await ops.get("/v1/support/queue")).json()["tickets"]
        mine = [t["ticket_id"] for t in queue if t["workspace_id"] == ws]
        assert mine == [urgent["ticket_id"], low["ticket_id"]]

        tid = urgent["ticket_id"]
        r = await ops.post(f"/v1/support/tickets/{tid}/messages", json={"body": "Looking now"})
        assert r.status_code == 201, r.text
        answered = r.json()
        assert answered["status"] == "waiting_on_user"
        assert [(m["side"], m["author"]) for m in answered["thread"]] == [("operator", op_id)]
        assert answered["first_response_seconds"] is not None
        # Names beside the ids: the workspace's, the opener's and each author's.
        assert (answered["workspace_name"], answered["opened_by_name"]) == ("Desk", "Trader")
        assert answered["thread"][0]["author_name"] == "Operator"

        # Every operator, by name; a ticket goes to any of them.
        listed = {
            o["user_id"]: o["display_name"] for o in (await ops.get("/v1/support/operators")).json()
        }
        assert (listed[op_id], listed[other_op_id]) == ("Operator", "Second")
        assert user_id not in listed
        r = await ops.put(f"/v1/support/tickets/{tid}/assignee", json={"operator_id": other_op_id})
        assert (r.status_code, r.json()["assignee"], r.json()["assignee_name"]) == (
            200,
            other_op_id,
            "Second",
        )
        r = await ops.put(f"/v1/support/tickets/{tid}/assignee", json={"operator_id": op_id})
        assert (r.status_code, r.json()["assignee"]) == (200, op_id)
        queued = (await ops.get("/v1/support/tickets", params={"workspace_id": ws})).json()
        assert {t["assignee_name"] for t in queued["tickets"]} == {"Operator", None}
        r = await ops.put(f"/v1/support/tickets/{tid}/assignee", json={"operator_id": user_id})
        assert (r.status_code, r.json()["code"]) == (404, "support.unknown_operator")

        r = await http.post(
            f"/v1/workspaces/{ws}/support/tickets/{tid}/messages", json={"body": "Thanks!"}
        )
        assert (r.status_code, r.json()["status"]) == (201, "open")
        r = await http.post(
            f"/v1/workspaces/{ws}/support/tickets/{tid}/status", json={"status": "resolved"}
        )
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["status"] == "resolved" and done["resolution_seconds"] is not None

        feed = (await http.get("/v1/me/notifications")).json()["notifications"]
        assert [(n["kind"], n["ticket_id"]) for n in feed] == [("operator_reply", tid)]
        assert feed[0]["detail"]["preview"] == "Looking now"

        stats = (await ops.get("/v1/support/stats")).json()["priorities"]
        by = {p["priority"]: p for p in stats}
        assert [p["priority"] for p in stats] == ["urgent", "high", "normal", "low"]
        assert by["urgent"]["opened"] >= 1 and by["urgent"]["responded"] >= 1
        assert by["urgent"]["resolved"] >= 1 and by["urgent"]["first_response_seconds"]["count"]
        assert by["low"]["opened"] >= 1


async def test_members_page_through_their_workspace_tickets_only(platform: Platform) -> None:
    owner, _, _ = await platform.user("owner")
    viewer, _, _ = await platform.user("viewer")
    other, _, _ = await platform.user("other")
    ws = await org_with(platform, owner, **{viewer: "viewer"})
    other_ws = await org_with(platform, other)
    async with platform.client(owner) as http:
        opened = [(await open_ticket(http, ws, subject=f"T{i}"))["ticket_id"] for i in range(3)]
    async with platform.client(other) as http:
        foreign = (await open_ticket(http, other_ws))["ticket_id"]
    async with platform.client(viewer) as http:  # viewers hold support:read
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await http.get(f"/v1/workspaces/{ws}/support/tickets", params=params)).json()
            seen += [t["ticket_id"] for t in page["tickets"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(opened))  # newest first, each once
        r = await http.get(f"/v1/workspaces/{ws}/support/tickets/{foreign}")
        assert (r.status_code, r.json()["code"]) == (404, "support.ticket_not_found")
        r = await http.get(f"/v1/workspaces/{ws}/support/tickets", params={"cursor": "nope"})
        assert (r.status_code, r.json()["code"]) == (422, "request.invalid")


async def test_only_operators_signed_in_as_themselves_reach_operator_routes(
    platform: Platform,
) -> None:
    user, _, _ = await platform.user("user")
    op, _, _ = await platform.operator("operator")
    ws = await org_with(platform, user)
    async with platform.client(op) as http:
        pat = await http.post(
            f"/v1/workspaces/{(await http.get('/v1/me')).json()['personal_workspace_id']}/tokens",
            json={"name": "t", "permissions": ["workspace:read"]},
        )
        assert pat.status_code == 201, pat.text
    async with platform.client(user) as http:
        tid = (await open_ticket(http, ws))["ticket_id"]
    for token in (user, pat.json()["token"]):
        async with platform.client(token) as http:
            for method, path, body in (
                ("GET", "/v1/support/queue", None),
                ("GET", f"/v1/support/tickets/{tid}", None),
                ("GET", f"/v1/support/tickets/{tid}/notes", None),
                ("POST", f"/v1/support/tickets/{tid}/notes", {"body": "sneaky"}),
                ("POST", f"/v1/support/tickets/{tid}/messages", {"body": "as an operator"}),
            ):
                r = await http.request(method, path, json=body)
                assert r.status_code == 403, (method, path, r.text)
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["code"] == "access.not_an_operator"
    async with platform.client(op) as http:
        detail = (await http.get(f"/v1/support/tickets/{tid}")).json()
        assert detail["thread"] == [] and detail["status"] == "open"
        assert (await http.get(f"/v1/support/tickets/{tid}/notes")).json() == []


async def test_writes_honour_the_idempotency_key(platform: Platform) -> None:
    user, _, _ = await platform.user("user")
    op, _, _ = await platform.operator("operator")
    ws = await org_with(platform, user)
    headers = {"Idempotency-Key": "open-once"}
    async with platform.client(user) as http:
        url = f"/v1/workspaces/{ws}/support/tickets"
        first = await http.post(url, json=TICKET, headers=headers)
        again = await http.post(url, json=TICKET, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["ticket_id"] == again.json()["ticket_id"]
        other = await http.post(url, json={**TICKET, "subject": "else"}, headers=headers)
        assert (other.status_code, other.json()["code"]) == (
            422,
            "request.idempotency_key_reused",
        )
        assert len((await http.get(url)).json()["tickets"]) == 1
    tid = first.json()["ticket_id"]
    async with platform.client(op) as http:
        note_headers = {"Idempotency-Key": "note-once"}
        url = f"/v1/support/tickets/{tid}/notes"
        a = await http.post(url, json={"body": "n"}, headers=note_headers)
        b = await http.post(url, json={"body": "n"}, headers=note_headers)
        assert a.status_code == b.status_code == 201
        assert a.json()["note_id"] == b.json()["note_id"]
        assert len((await http.get(url)).json()) == 1


async def test_bad_input_is_refused_with_a_stable_code_and_changes_nothing(
    platform: Platform,
) -> None:
    user, _, _ = await platform.user("user")
    other, _, _ = await platform.user("other")
    ws = await org_with(platform, user)
    other_ws = await org_with(platform, other)
    async with platform.client(other) as http:
        foreign = (await open_ticket(http, other_ws))["ticket_id"]
    async with platform.client(user) as http:
        tid = (await open_ticket(http, ws))["ticket_id"]
        url = f"/v1/workspaces/{ws}/support/tickets"
        before = (await http.get(url)).json()
        cases: list[tuple[str, str, Any, int, str, str | None]] = [
            ("POST", url, {**TICKET, "subject": ""}, 422, "request.invalid", "subject"),
            ("POST", url, {**TICKET, "subject": "   "}, 422, "request.invalid", "subject"),
            ("POST", url, {**TICKET, "subject": "a\x1b[2Jb"}, 422, "request.invalid", "subject"),
            ("POST", url, {**TICKET, "category": "gossip"}, 422, "request.invalid", "category"),
            ("POST", url, {**TICKET, "priority": "asap"}, 422, "request.invalid", "priority"),
            ("POST", url, {**TICKET, "body": "x" * 20_001}, 422, "request.invalid", "body"),
            ("POST", url, {**TICKET, "attachment": "x"}, 422, "request.invalid", "attachment"),
            ("POST", url, {**TICKET, "body": "x" * 1_000_000}, 413, "request.too_large", None),
            (
                "POST",
                f"{url}/{foreign}/messages",
                {"body": "let me in"},
                404,
                "support.ticket_not_found",
                None,
            ),
            (
                "POST",
                f"{url}/{foreign}/status",
                {"status": "closed"},
                404,
                "support.ticket_not_found",
                None,
            ),
            (
                "POST",
                f"{url}/{tid}/status",
                {"status": "waiting_on_user"},
                422,
                "request.invalid",
                "status",
            ),
            (
                "POST",
                f"/v1/support/tickets/{tid}/notes",
                {"body": "a note by a user"},
                403,
                "access.not_an_operator",
                None,
            ),
        ]
        for method, path, body, status, code, field in cases:
            r = await http.request(method, path, json=body)
            assert r.headers["content-type"] == "application/problem+json", (path, r.text)
            problem = r.json()
            assert (r.status_code, problem["code"]) == (status, code), (path, body, r.text)
            if field is not None:
                assert field in [e["field"].split(".")[-1] for e in problem["errors"]], problem
        assert (await http.get(url)).json() == before
        assert (await http.get(f"{url}/{tid}")).json()["thread"] == []
    async with platform.client(other) as http:
        detail = (await http.get(f"/v1/workspaces/{other_ws}/support/tickets/{foreign}")).json()
        assert (detail["thread"], detail["status"]) == ([], "open")
