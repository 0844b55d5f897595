"""A workspace's live events (server-sent events) as members see them, over real HTTP and Kafka.

Each test opens the stream with httpx and reads it in a task of its own; what the test waits for is
a condition on the frames received so far, with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from plutarc_testkit.waiting import until

from .conftest import Platform

pytestmark = pytest.mark.kafka

DEADLINE = 20.0


@dataclass
class Frame:
    id: int
    event: str
    data: dict[str, Any]


@dataclass
class Stream:
    """What one open stream has received so far; `ended` once the server closed it."""

    response: httpx.Response
    frames: list[Frame] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None
    ended: bool = False

    async def read(self) -> None:
        fields: dict[str, str] = {}
        async for line in self.response.aiter_lines():
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "retry" in fields:
                self.retry = int(fields["retry"])
            if "data" in fields:
                self.frames.append(
                    Frame(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                )
            fields = {}
        self.ended = True

    @property
    def ids(self) -> list[int]:
        return [f.id for f in self.frames]

    def of(self, event: str) -> list[Frame]:
        return [f for f in self.frames if f.event == event]

    async def wait_for(self, event: str, count: int = 1) -> list[Frame]:
        await until(
            lambda: len(self.of(event)) >= count or self.ended,
            timeout=DEADLINE,
            what=f"{count} {event} event(s) on the stream",
        )
        assert len(self.of(event)) >= count, f"the stream ended first: {self.frames}"
        return self.of(event)


@contextlib.asynccontextmanager
async def live(
    http: httpx.AsyncClient, ws: str, *, last_event_id: int | None = None
) -> AsyncIterator[Stream]:
    """The stream, open (its head and first frame in) and read in the background."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    async with http.stream("GET", f"/v1/workspaces/{ws}/events", headers=headers) as r:
        assert r.status_code == 200, (await r.aread()).decode()
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = Stream(r)
        reading = asyncio.create_task(stream.read())
        try:
            await until(
                lambda: stream.retry is not None or reading.done(), what="the stream's first frame"
            )
            yield stream
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reading


async def organisation(http: httpx.AsyncClient, name: str) -> str:
    r = await http.post("/v1/organisations", json={"name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["workspace_id"])


async def join(
    platform: Platform, owner: httpx.AsyncClient, ws: str, name: str, role: str
) -> tuple[str, str]:
    """A new user who is a member of `ws` with `role`: (token, user_id)."""
    token, user_id, email = await platform.user(name)
    r = await owner.post(f"/v1/workspaces/{ws}/invitations", json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    async with platform.client(token) as http:
        accepted = await http.post("/v1/invitations/accept", json={"token": r.json()["token"]})
        assert accepted.status_code == 200, accepted.text
    return token, user_id


async def audit(http: httpx.AsyncClient, ws: str) -> list[dict[str, Any]]:
    """The whole audit log, page by page."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await http.get(f"/v1/workspaces/{ws}/audit", params=params)).json()
        entries += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


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
        async with http.stream(
            "GET", f"/v1/workspaces/{ws}/events", params={"after": seen.id}
        ) as r:
            stream = Stream(r)
            reading = asyncio.create_task(stream.read())
            await until(lambda: len(stream.frames) >= len(later), what="the events after ?after=")
            reading.cancel()
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
