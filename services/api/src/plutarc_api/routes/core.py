"""Routes every deployment has, whatever the contexts: a command's outcome, a workspace's audit
log, and its live events."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Row, Select, select

from ..caller import Caller, unauthorized
from ..core_models import outcomes, workspace_log
from ..deps import (
    Access,
    Authenticated,
    PermissionRoute,
    Runtime,
    allowed,
    authorize,
    bearer,
)
from ..problems import Problem
from ..runtime import ApiRuntime
from ..schemas import READ_ERRORS, AuditEntryOut, AuditPage, CommandStatusOut

router = APIRouter(prefix="/v1", tags=["audit"], responses=READ_ERRORS, route_class=PermissionRoute)


def _cursor(seq: int, newest: bool = False) -> str:
    """An opaque cursor: the last position read and the order read in ("s" oldest first, "n"
    newest first), so a cursor cannot be replayed in the other order by mistake."""
    mark = "n" if newest else "s"
    return base64.urlsafe_b64encode(f"{mark}{seq}".encode()).decode().rstrip("=")


MAX_SEQ = 2**63 - 1
"""The largest position a BIGINT holds: a larger one reaches the database as an overflow (500)."""


def event_id(text: str) -> int | None:
    """A position as a client sends it back (ASCII digits, in range), else None. Not `int()`,
    which also reads "+1", " 1" and "1_0", nor `str.isdigit()`, which also accepts "²"."""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_SEQ else None


def _seq(cursor: str, newest: bool = False) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        seq = event_id(text[1:]) if text[:1] in ("s", "n") else None
        if seq is None:
            raise ValueError
    except ValueError:
        raise Problem(
            422,
            "request.invalid",
            "the cursor is not one this API issued",
            errors=[{"field": "cursor", "message": "malformed"}],
        ) from None
    if (text[0] == "n") != newest:
        raise Problem(
            422,
            "request.invalid",
            "the cursor was issued for the other order; ask again without it",
            errors=[{"field": "cursor", "message": "issued for the other order"}],
        )
    return seq


def need_zone(name: str, instant: datetime | None) -> None:
    if instant is not None and instant.tzinfo is None:
        raise Problem(
            422,
            "request.invalid",
            f"{name} needs a time zone",
            errors=[{"field": name, "message": "naive datetime"}],
        )


@router.get("/workspaces/{workspace_id}/audit", response_model=AuditPage)
async def audit_log(
    workspace_id: str,
    access: Annotated[Access, allowed("audit:read")],
    actor: Annotated[
        str | None, Query(max_length=100, description="user:<id> or token:<id>")
    ] = None,
    action: Annotated[
        str | None,
        Query(max_length=100, description="event type, e.g. identity.member_role_changed"),
    ] = None,
    since: Annotated[datetime | None, Query(description="entries at or after this instant")] = None,
    until: Annotated[
        datetime | None, Query(description="entries at or before this instant")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    order: Annotated[
        Literal["oldest", "newest"], Query(description="oldest first (the default) or newest first")
    ] = "oldest",
) -> AuditPage:
    """Who changed what, when, in every context: filtered, a page at a time, oldest or newest
    first (`order`); a page's `next_cursor` goes on in the same order."""
    need_zone("since", since)
    need_zone("until", until)
    t = workspace_log.c
    q = select(t.seq, t.entry).where(t.workspace_id == workspace_id)
    newest = order == "newest"
    if cursor:
        after = _seq(cursor, newest)
        q = q.where(t.seq < after if newest else t.seq > after)
    if actor is not None:
        q = q.where(t.actor == actor)
    if action is not None:
        q = q.where(t.type == action)
    if since is not None:
        q = q.where(t.occurred_at >= since)
    if until is not None:
        q = q.where(t.occurred_at <= until)
    rows = await access.rt.reader.all(
        q.order_by(t.seq.desc() if newest else t.seq).limit(limit + 1)
    )
    entries = [AuditEntryOut(position=row.seq, **row.entry) for row in rows[:limit]]
    more = len(rows) > limit
    return AuditPage(
        entries=entries, next_cursor=_cursor(rows[limit - 1][0], newest) if more else None
    )


@router.get("/commands/{command_id}", response_model=CommandStatusOut, tags=["commands"])
async def command_status(
    command_id: Annotated[str, Path(max_length=64)], rt: Runtime, caller: Authenticated
) -> CommandStatusOut:
    """Where a command you issued stands, when its reply missed the request's deadline.

    Answers only the caller who issued it; any other id (never issued, or someone else's) is 404."""
    row = await rt.reader.one(select(outcomes).where(outcomes.c.command_id == command_id))
    if row is not None and row.actor == caller.actor:
        if row.status == "accepted":
            return CommandStatusOut(command_id=command_id, status="accepted", result=row.result)
        return CommandStatusOut(
            command_id=command_id, status="rejected", code=row.code, detail=row.detail
        )
    if row is None:
        issued = await rt.issued(command_id)
        if issued is not None and issued[0] == caller.actor:
            return CommandStatusOut(command_id=command_id, status="pending")
    raise Problem(404, "command.not_found", "no command of yours has this id")


PAGE = 200


@router.get(
    "/workspaces/{workspace_id}/events",
    tags=["events"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def events(
    workspace_id: str,
    request: Request,
    access: Annotated[Access, allowed("workspace:read")],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_SEQ, description="resume after this event id (as Last-Event-ID)"),
    ] = None,
) -> StreamingResponse:
    """The workspace's events as they happen (server-sent events), those the caller may see.

    Each event's `id` is its position in the workspace log; reconnect with `Last-Event-ID` (or
    `?after=`) to resume with no gap and no duplicate. Without either, the stream starts at the
    newest event. What the caller may see is decided again for every batch: the stream ends once
    they leave the workspace, their session ends or their token is revoked."""
    token = bearer(request.headers.get("authorization"))
    assert token is not None  # `allowed` authenticated it
    viewer = _Viewer(access.rt, access.caller, token, workspace_id)
    return await event_stream(access.rt, request, viewer, resume_after(last_event_id, after))


def resume_after(last_event_id: str | None, after: int | None) -> int | None:
    """Where a stream resumes: `Last-Event-ID` (422 on `Last-Event-ID` if it is not one a stream
    sent), else `?after=`, else None (from the newest event on)."""
    if last_event_id is None:
        return after
    resume = event_id(last_event_id)
    if resume is None:
        raise Problem(
            422,
            "request.invalid",
            "Last-Event-ID is an event id this stream sent",
            errors=[{"field": "Last-Event-ID", "message": "not an event id"}],
        )
    return resume


class StreamViewer(Protocol):
    """Who reads a live stream of the workspace log: which rows it reads, and what of them the
    caller may see (a Problem, ending the stream, once they may see nothing)."""

    def rows(self, after: int) -> Select[Any]: ...

    async def frames(self, rows: Sequence[Row[Any]]) -> list[bytes]: ...


async def event_stream(
    rt: ApiRuntime, request: Request, viewer: StreamViewer, after: int | None
) -> StreamingResponse:
    """Server-sent events of the workspace log rows `viewer` reads after `after` (None: after the
    newest one), as they are written, with heartbeats; resumable by event id."""
    if after is None:
        newest = await rt.reader.one(
            viewer.rows(0)
            .with_only_columns(workspace_log.c.seq)
            .order_by(None)
            .order_by(workspace_log.c.seq.desc())
            .limit(1)
        )
        after = newest[0] if newest else 0
    return StreamingResponse(
        _stream(rt, request, viewer, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    rt: ApiRuntime, request: Request, viewer: StreamViewer, after: int
) -> AsyncIterator[bytes]:
    heartbeat = rt.settings.events_heartbeat
    rt.metrics.live_streams.inc()
    try:
        yield b"retry: 1000\n\n"
        last_sent = time.monotonic()
        while not (rt.stop.is_set() or rt.draining.is_set()):
            if await request.is_disconnected():
                return
            seen = rt.log_version
            rows = await rt.reader.all(viewer.rows(after))
            try:
                frames = await viewer.frames(rows)
            except Problem:
                # Not a member any more, the session or token ended, or the policy could not
                # decide: end here, before this batch. A client that may still read resumes
                # after the last id it received.
                return
            for frame in frames:
                yield frame
                last_sent = time.monotonic()
            if rows:
                after = rows[-1].seq
            if len(rows) == PAGE:
                continue
            if time.monotonic() - last_sent >= heartbeat:
                yield b": keep-alive\n\n"
                last_sent = time.monotonic()
            await rt.log_changed(seen, timeout=min(1.0, heartbeat))
    finally:
        rt.metrics.live_streams.dec()


class _Viewer:
    """Who reads a stream, and what they may see of a batch of rows, decided when it is read."""

    def __init__(self, rt: ApiRuntime, caller: Caller, token: str, workspace_id: str) -> None:
        self.rt, self.caller, self.token, self.workspace_id = rt, caller, token, workspace_id

    def rows(self, after: int) -> Select[Any]:
        t = workspace_log.c
        return (
            select(t.seq, t.type, t.entry)
            .where(t.workspace_id == self.workspace_id, t.seq > after)
            .order_by(t.seq)
            .limit(PAGE)
        )

    async def frames(self, rows: Sequence[Row[Any]]) -> list[bytes]:
        """The frames of `rows` the caller may see now; a Problem when they may see none.

        Decided after the rows were read, so that no row newer than the caller's access is sent;
        and afresh each time, so that a role taken away applies to the next batch."""
        again = await self.rt.authenticate(self.token)
        if again is None or again.actor != self.caller.actor:
            raise unauthorized("the session or token this stream was opened with has ended")
        await authorize(self.rt, self.caller, self.workspace_id, "workspace:read")
        allowed: dict[str, bool] = {}
        frames = []
        for row in rows:
            permission = self.rt.visible_with(row.type)
            if permission is None:
                continue
            if permission not in allowed:
                allowed[permission] = await self._holds(permission)
            if allowed[permission]:
                frames.append(sse_frame(row.seq, row.type, {"position": row.seq, **row.entry}))
        return frames

    async def _holds(self, permission: str) -> bool:
        try:
            await authorize(self.rt, self.caller, self.workspace_id, permission)
        except Problem as p:
            if p.status >= 500:  # not a denial: the policy could not be evaluated
                raise
            return False
        return True


def sse_frame(seq: int, kind: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, separators=(",", ":"), default=str)
    return f"id: {seq}\nevent: {kind}\ndata: {body}\n\n".encode()
