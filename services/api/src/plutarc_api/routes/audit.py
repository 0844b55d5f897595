"""The audit log of a workspace, and the status of commands that outlived their deadline."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from fastapi import APIRouter, Path, Query
from plutarc_contracts import CommandAccepted
from plutarc_contracts.audit import audit_entry
from plutarc_contracts.audit_state import WorkspaceReplay

from ..auth import authorize
from ..problems import Problem
from ..runtime import Caller, Runtime
from ..schemas import (
    WRITE_ERRORS,
    AuditEntryOut,
    AuditPage,
    CommandStatusOut,
    WorkspaceAsOfOut,
)

router = APIRouter(prefix="/v1", tags=["audit"], responses=WRITE_ERRORS)


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def _position(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("p"):
            raise ValueError
        return int(text[1:])
    except ValueError:
        raise Problem(
            422,
            "request.invalid",
            "the cursor is not one this API issued",
            errors=[{"field": "cursor", "message": "malformed"}],
        ) from None


def _need_zone(name: str, instant: datetime | None) -> None:
    if instant is not None and instant.tzinfo is None:
        raise Problem(
            422,
            "request.invalid",
            f"{name} needs a time zone",
            errors=[{"field": name, "message": "naive datetime"}],
        )


@router.get(
    "/workspaces/{workspace_id}/audit",
    response_model=AuditPage,
    openapi_extra={"x-permission": "audit:read"},
)
async def audit_log(
    workspace_id: str,
    rt: Runtime,
    caller: Caller,
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
) -> AuditPage:
    """Who changed what, when: oldest first, filtered, a page at a time."""
    await authorize(rt.authorizer, caller, workspace_id, "audit:read")
    _need_zone("since", since)
    _need_zone("until", until)
    events = rt.view.history.get(workspace_id, [])
    start = _position(cursor) if cursor else 0
    page: list[AuditEntryOut] = []
    last = start
    for position, env in enumerate(events[start:], start + 1):
        last = position
        if actor is not None and env.actor != actor:
            continue
        if action is not None and env.type != action:
            continue
        if since is not None and env.occurred_at < since:
            continue
        if until is not None and env.occurred_at > until:
            continue
        page.append(
            AuditEntryOut(
                **msgspec.structs.asdict(
                    audit_entry(position, env, rt.registry.secret_fields(env.type))
                )
            )
        )
        if len(page) == limit:
            break
    more = last < len(events)
    return AuditPage(entries=page, next_cursor=_cursor(last) if more and page else None)


@router.get(
    "/workspaces/{workspace_id}/audit/state",
    response_model=WorkspaceAsOfOut,
    openapi_extra={"x-permission": "audit:read"},
)
async def audit_state(
    workspace_id: str,
    rt: Runtime,
    caller: Caller,
    as_of: Annotated[
        datetime | None,
        Query(description="the instant to replay to (with a time zone); now when left out"),
    ] = None,
) -> WorkspaceAsOfOut:
    """Members and roles, pending invitations and live API tokens as they were at `as_of`.

    Replayed from the workspace's identity events, the same fold `plutarc audit replay` runs on
    the identity store, so both answer alike.
    """
    await authorize(rt.authorizer, caller, workspace_id, "audit:read")
    _need_zone("as_of", as_of)
    instant = as_of or datetime.now(UTC)
    replay = WorkspaceReplay(workspace_id)
    for env in rt.view.history.get(workspace_id, []):
        if env.occurred_at <= instant:  # streams interleave (tokens are their own), so no break
            replay.apply(env.payload)
    user = rt.view.users.get
    state = replay.state(instant, lambda uid: u.email if (u := user(uid)) else None)
    return WorkspaceAsOfOut.model_validate(msgspec.to_builtins(state))


@router.get(
    "/commands/{command_id}",
    response_model=CommandStatusOut,
    openapi_extra={"x-permission": "self"},
)
async def command_status(
    command_id: Annotated[str, Path(max_length=64)], rt: Runtime, caller: Caller
) -> CommandStatusOut:
    """Where a command stands when its reply missed the request's deadline."""
    reply = rt.view.outcomes.get(command_id)
    if reply is None:
        return CommandStatusOut(command_id=command_id, status="pending")
    if isinstance(reply, CommandAccepted):
        return CommandStatusOut(command_id=command_id, status="accepted", result=reply.result)
    return CommandStatusOut(
        command_id=command_id, status="rejected", code=reply.code, detail=reply.detail
    )
