"""A workspace's members, invitations and tokens as they were at an instant (identity's as-of)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from fastapi import APIRouter, Query
from plutarc_api.core_models import workspace_log
from plutarc_api.deps import Access, PermissionRoute, allowed
from plutarc_api.routes.core import need_zone
from plutarc_api.schemas import READ_ERRORS
from plutarc_contracts.audit_state import WorkspaceReplay
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .models import users
from .schemas import WorkspaceAsOfOut

router = APIRouter(prefix="/v1", tags=["audit"], responses=READ_ERRORS, route_class=PermissionRoute)


@router.get("/workspaces/{workspace_id}/audit/state", response_model=WorkspaceAsOfOut)
async def audit_state(
    workspace_id: str,
    access: Annotated[Access, allowed("audit:read")],
    as_of: Annotated[
        datetime | None,
        Query(description="the instant to replay to (with a time zone); now when left out"),
    ] = None,
) -> WorkspaceAsOfOut:
    """Members and roles, pending invitations and live API tokens as they were at `as_of`.

    Replayed from the workspace's identity events, the same fold `plutarc audit replay` runs on
    the identity store, so both answer alike. Rows are streamed, not held."""
    need_zone("as_of", as_of)
    instant = as_of or datetime.now(UTC)
    rt = access.rt
    decode = rt.registry.decode_event

    def replay(conn: Connection) -> WorkspaceAsOfOut:
        folded = WorkspaceReplay(workspace_id)
        t = workspace_log.c
        rows = conn.execution_options(yield_per=1000).execute(
            select(t.event)
            .where(t.workspace_id == workspace_id, t.type.like("identity.%"))
            .order_by(t.seq)
        )
        for (raw,) in rows:
            env = decode(raw)
            if env.occurred_at <= instant:  # streams interleave (tokens are their own), no break
                folded.apply(env.payload)

        def email_of(user_id: str) -> str | None:
            return conn.execute(select(users.c.email).where(users.c.user_id == user_id)).scalar()

        state = folded.state(instant, email_of)
        return WorkspaceAsOfOut.model_validate(msgspec.to_builtins(state))

    return await rt.reader.run(replay)
