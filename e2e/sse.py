"""Live event streams for the e2e tests: open one, read it in a task of its own, and wait on what
it has received with a deadline (never a sleep)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from plutarc_testkit.waiting import until

from .conftest import Platform

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
    http: httpx.AsyncClient,
    stream_of: str,
    *,
    last_event_id: int | None = None,
    after: int | None = None,
) -> AsyncIterator[Stream]:
    """The stream of workspace `stream_of` (or at the path `stream_of`, such as the operators'
    `/v1/support/events`), open (its head and first frame in) and read in the background."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    params = {"after": after} if after is not None else {}
    url = stream_of if stream_of.startswith("/") else f"/v1/workspaces/{stream_of}/events"
    async with http.stream("GET", url, headers=headers, params=params) as r:
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
