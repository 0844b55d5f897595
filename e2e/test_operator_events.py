"""The operators' live stream (GET /v1/support/events) over real HTTP and Kafka: support's events
of every workspace as they happen, resumable with Last-Event-ID; for operators signed in as
themselves only; bad input refused with a problem."""

from __future__ import annotations

import json

import pytest

from .conftest import Platform
from .sse import live
from .test_support_over_http import open_ticket, org_with

pytestmark = pytest.mark.kafka
URL = "/v1/support/events"


async def test_an_operator_follows_every_workspace_and_resumes_without_a_gap(
    platform: Platform,
) -> None:
    alice, _, _ = await platform.user("alice")
    bob, _, _ = await platform.user("bob")
    op, _, _ = await platform.operator("operator")
    one, two = await org_with(platform, alice), await org_with(platform, bob)
    async with (
        platform.client(alice) as a,
        platform.client(bob) as b,
        platform.client(op) as ops,
    ):
        async with live(ops, URL) as stream:
            assert stream.frames == [], "without Last-Event-ID it starts at the newest event"
            first = await open_ticket(a, one, subject="Orders rejected")
            await a.patch(f"/v1/workspaces/{one}", json={"name": "Renamed"})  # not support's
            [opened] = await stream.wait_for("support.ticket_opened")
        assert opened.data["workspace_id"] == one
        assert all(f.event.startswith("support.") for f in stream.frames)

        # Disconnected: a ticket elsewhere and a reply; read on reconnection, each once.
        second = await open_ticket(b, two, subject="Fills missing")
        r = await ops.post(
            f"/v1/support/tickets/{first['ticket_id']}/messages", json={"body": "On it."}
        )
        assert r.status_code == 201, r.text
        async with live(ops, URL, last_event_id=opened.id) as again:
            [elsewhere] = await again.wait_for("support.ticket_opened")
            await again.wait_for("support.message_posted")
        assert elsewhere.data["workspace_id"] == two
        assert second["ticket_id"] in json.dumps(elsewhere.data)
        assert again.ids == sorted(set(again.ids)) and min(again.ids) > opened.id
        async with live(ops, URL, after=opened.id) as same:
            await same.wait_for("support.message_posted")
        assert same.ids[: len(again.ids)] == again.ids


async def test_only_operators_signed_in_as_themselves_and_bad_input(platform: Platform) -> None:
    user, _, _ = await platform.user("user")
    op, _, _ = await platform.operator("operator")
    async with platform.client(op) as http:
        me = (await http.get("/v1/me")).json()
        pat = await http.post(
            f"/v1/workspaces/{me['personal_workspace_id']}/tokens",
            json={"name": "t", "permissions": ["workspace:read"]},
        )
        assert pat.status_code == 201, pat.text
    for token in (user, pat.json()["token"]):
        async with platform.client(token) as http:
            r = await http.get(URL)
            assert (r.status_code, r.json()["code"]) == (403, "access.not_an_operator")
            assert r.headers["content-type"] == "application/problem+json"
    async with platform.client(op) as http:
        for headers, params in (({"Last-Event-ID": "+1"}, {}), ({}, {"after": "-1"})):
            r = await http.get(URL, headers=headers, params=params)
            assert (r.status_code, r.json()["code"]) == (422, "request.invalid"), r.text
    async with platform.client(None) as http:
        r = await http.get(URL)
        assert r.status_code == 401
