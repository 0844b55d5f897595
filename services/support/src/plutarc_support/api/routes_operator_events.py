"""The operators' live stream: support's events in every workspace, as they happen (server-sent
events, resumable by event id), so the queue and a ticket's page follow without a reload.

Operators are no members of the workspaces whose tickets they answer, so the workspaces' own
streams are not theirs. This one reads the same workspace log, only its `support.*` rows: tickets
opened, messages, statuses, assignments (internal notes are on their private topic, not in the
log). Whether the caller is still an operator, signed in with the same session, is asked again for
every batch: the stream ends when they are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from plutarc_api.caller import Caller, unauthorized
from plutarc_api.core_models import workspace_log
from plutarc_api.deps import NOT_AN_OPERATOR, Operator, PermissionRoute, bearer
from plutarc_api.problems import Problem
from plutarc_api.routes.core import MAX_SEQ, PAGE, event_stream, resume_after, sse_frame
from plutarc_api.runtime import ApiRuntime
from plutarc_api.schemas import READ_ERRORS
from sqlalchemy import Row, Select, select

router = APIRouter(
    prefix="/v1/support",
    tags=["support operators", "events"],
    responses=READ_ERRORS,
    route_class=PermissionRoute,
)


class _Operator:
    def __init__(self, rt: ApiRuntime, caller: Caller, token: str) -> None:
        self.rt, self.caller, self.token = rt, caller, token

    def rows(self, after: int) -> Select[Any]:
        t = workspace_log.c
        return (
            select(t.seq, t.type, t.entry)
            .where(t.type.like("support.%"), t.seq > after)
            .order_by(t.seq)
            .limit(PAGE)
        )

    async def frames(self, rows: Sequence[Row[Any]]) -> list[bytes]:
        again = await self.rt.authenticate(self.token)
        if again is None or again.actor != self.caller.actor:
            raise unauthorized("the session this stream was opened with has ended")
        if not await self.rt.is_operator(self.caller.user_id or ""):
            raise Problem(403, NOT_AN_OPERATOR, "no longer a platform operator")
        return [sse_frame(r.seq, r.type, {"position": r.seq, **r.entry}) for r in rows]


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def operator_events(
    request: Request,
    op: Operator,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_SEQ, description="resume after this event id (as Last-Event-ID)"),
    ] = None,
) -> StreamingResponse:
    """Support's events in every workspace as they happen (operators only): `id` is the event's
    position in the workspace log; reconnect with `Last-Event-ID` (or `?after=`) to resume with no
    gap and no duplicate; without either, from the newest on."""
    token = bearer(request.headers.get("authorization"))
    assert token is not None  # `operator` authenticated it
    viewer = _Operator(op.rt, op.caller, token)
    return await event_stream(op.rt, request, viewer, resume_after(last_event_id, after))
