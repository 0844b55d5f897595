"""A workspace's live events as the command line reads them: server-sent events parsed from the
response's lines, and a follower that resumes the stream (`Last-Event-ID`) whenever it ends or
breaks, so that every event arrives once, with no gap, until the caller stops."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .client import ApiError, PlutarcClient

RETRY_AFTER = 1.0
"""Seconds before resuming, until the server names its own (`retry:`)."""
MAX_WAIT = 30.0
_RESUMABLE = {"cli.unreachable", "api.warming_up", "policy.unavailable"}


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Retry:
    """The server's advice: wait this long before reconnecting."""

    seconds: float


def parse(lines: Iterable[str]) -> Iterator[Event | Retry]:
    """Server-sent events from a response's lines (comments and unknown fields ignored)."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "retry" and value.isascii() and value.isdigit():
                yield Retry(int(value) / 1000)
            else:
                fields[name] = value
            continue
        event_id = fields.get("id", "")
        if data and event_id.isascii() and event_id.isdigit():
            body = json.loads("\n".join(data))
            if isinstance(body, dict):
                yield Event(int(event_id), fields.get("event", "message"), body)
        fields, data = {}, []


def resumable(e: ApiError) -> bool:
    """Worth another try: the API is unreachable, starting up or briefly unable to decide.
    Anything else (not a member any more, the session ended) is the answer."""
    return e.code in _RESUMABLE or e.status in (502, 504)


def follow(
    client: PlutarcClient,
    workspace_id: str,
    after: int,
    *,
    on_resume: Callable[[str], None] = lambda _why: None,
) -> Iterator[Event]:
    """Every event after position `after` (0: from the first), for as long as the caller reads.

    The stream is opened again after the last event received whenever the server ends it (a
    server shutting down does) or the connection breaks; `on_resume` hears why. An answer that is
    not worth another try (ApiError) ends the iteration."""
    wait = RETRY_AFTER
    failures = 0
    while True:
        try:
            with client.event_lines(workspace_id, after=after) as lines:
                for item in parse(lines):
                    if isinstance(item, Retry):
                        wait = min(item.seconds, MAX_WAIT)
                        continue
                    failures = 0
                    after = item.id
                    yield item
            why = "the API ended the stream"
        except ApiError as e:
            if not resumable(e):
                raise
            why = e.one_line()
        on_resume(why)
        client.pause(min(wait * 2**failures, MAX_WAIT))
        failures += 1
