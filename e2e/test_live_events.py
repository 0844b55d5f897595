"""A workspace's live events (server-sent events) as members see them, over real HTTP and Kafka.

Each test opens the stream with httpx and reads it in a task of its own; what the test waits for is
a condition on the frames received so far, with a deadline, never a sleep.
"""

from __future__ import annotations

import pytest
from plutarc_testkit.waiting import until

from .sse import DEADLINE, audit, join, live, organisation

pytestmark = pytest.mark.kafka


async def test_a_member_sees_their_workspace_live_and_nothing_of_another(platform) -> None:
    olivia, _, _ = await platform.user("olivia")
    mallory, _, _ = await platform.user("mallory")
    async with platform.client(olivia) as http, platform.client(mallory) as other:
        ws = await organisation(http, "Desk")
        elsewhere = await organisation(other, "Elsewhere")
        async with live(http, ws) as stream:
            assert stream.retry == 1000
            assert stream.frames == [], "without Last-Event-ID it starts at the newest event"
            await other.patch(f"/v1/workspaces/{elsewhere}", json={"name": "Elsewhere 2"})
            r = await http.patch(f"/v1/workspaces/{ws}", json={"name": "Prop desk"})
            assert r.status_code == 200, r.text
            await other.post(
                f"/v1/workspaces/{elsewhere}/invitations",
                json={"email": "x@example.com", "role": "viewer"},
            )
            r = await http.post(
                f"/v1/workspaces/{ws}/invitations",
                json={"email": "bob@example.com", "role": "trader"},
            )
            assert r.status_code == 201, r.text
            [invited] = await stream.wait_for("identity.invitation_created")

        [renamed] = stream.of("identity.workspace_renamed")
        assert renamed.data["after"]["name"] == "Prop desk"
        assert invited.data["after"]["email"] == "bob@example.com"
        assert stream.ids == sorted(set(stream.ids)), "ids increase, each once"
        assert renamed.id < invited.id
        assert {f.data["workspace_id"] for f in stream.frames} == {ws}
        assert all(f.data["position"] == f.id for f in stream.frames)
        assert all(f.data["action"] == f.event for f in stream.frames)


async def test_resuming_with_last_event_id_delivers_every_later_event_exactly_once(
    platform,
) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        async with live(http, ws) as first:
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "Desk 1"})
            [seen] = await first.wait_for("identity.workspace_renamed")
        assert first.frames[-1] == seen
        # Disconnected: what happens now is read on reconnection.
        for n in (2, 3):
            r = await http.patch(f"/v1/workspaces/{ws}", json={"name": f"Desk {n}"})
            assert r.status_code == 200, r.text
        r = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": "b@example.com", "role": "viewer"}
        )
        assert r.status_code == 201, r.text

        async with live(http, ws, last_event_id=seen.id) as second:
            await second.wait_for("identity.workspace_renamed", 2)
            await second.wait_for("identity.invitation_created")
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "Desk 4"})
            await second.wait_for("identity.workspace_renamed", 3)

        log = await audit(http, ws)
        later = [e["position"] for e in log if e["position"] > seen.id]
        assert second.ids == later, "every event after Last-Event-ID, in order, once"
        assert [f.data for f in second.frames] == [e for e in log if e["position"] > seen.id]
        names = [f.data["after"]["name"] for f in second.of("identity.workspace_renamed")]
        assert names == ["Desk 2", "Desk 3", "Desk 4"]

        # ?after= is the same resume point, for clients that cannot set the header.
        async with live(http, ws, after=seen.id) as stream:
            await until(lambda: len(stream.frames) >= len(later), what="the events after ?after=")
        assert stream.ids == later


async def test_a_viewer_does_not_see_what_their_role_may_not_read(platform) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        viewer, _ = await join(platform, http, ws, "vic", "viewer")
        async with (
            platform.client(viewer) as vhttp,
            live(vhttp, ws) as as_viewer,
            live(http, ws) as as_owner,
        ):
            issued = await http.post(
                f"/v1/workspaces/{ws}/tokens",
                json={"name": "ci", "permissions": ["workspace:read"]},
            )
            assert issued.status_code == 201, issued.text
            await http.post(
                f"/v1/workspaces/{ws}/invitations",
                json={"email": "c@example.com", "role": "viewer"},
            )
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "Prop desk"})
            await as_owner.wait_for("identity.workspace_renamed")
            await as_viewer.wait_for("identity.workspace_renamed")

    assert as_owner.of("identity.api_token_issued"), "an owner holds audit:read"
    assert as_owner.of("identity.invitation_created"), "an owner holds invitations:read"
    assert [f.event for f in as_viewer.frames] == ["identity.workspace_renamed"]


async def test_a_member_removed_from_the_workspace_has_the_stream_ended(platform) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        bob, bob_id = await join(platform, http, ws, "bob", "trader")
        async with platform.client(bob) as bhttp, live(bhttp, ws) as stream:
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "Before"})
            await stream.wait_for("identity.workspace_renamed")
            r = await http.delete(f"/v1/workspaces/{ws}/members/{bob_id}")
            assert r.status_code == 204, r.text
            await until(lambda: stream.ended, timeout=DEADLINE, what="the stream ended")
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "After"})
            again = await bhttp.get(f"/v1/workspaces/{ws}/events")
            assert (again.status_code, again.json()["code"]) == (404, "workspace.not_found")
    names = [f.data["after"].get("name") for f in stream.of("identity.workspace_renamed")]
    assert names == ["Before"]


async def test_bad_input_is_refused_with_a_problem(platform) -> None:
    olivia, _, _ = await platform.user("olivia")
    mallory, _, _ = await platform.user("mallory")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        url = f"/v1/workspaces/{ws}/events"
        # b"\xb2" is "²" to the server (latin-1): str.isdigit() says yes, int() says no.
        for bad in (b"abc", b"-1", b"1.5", b"\xb2", b"", b"99999999999999999999"):
            r = await http.get(url, headers={"Last-Event-ID": bad})
            assert r.status_code == 422, (bad, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == "request.invalid", bad
        for bad in ("x", "-1", "99999999999999999999"):
            r = await http.get(url, params={"after": bad})
            assert (r.status_code, r.json()["code"]) == (422, "request.invalid"), bad
    async with platform.client(mallory) as outsider:
        r = await outsider.get(url)
        assert (r.status_code, r.json()["code"]) == (404, "workspace.not_found")
    async with platform.client() as anonymous:
        r = await anonymous.get(url)
        assert (r.status_code, r.json()["code"]) == (401, "auth.unauthenticated")
