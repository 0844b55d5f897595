"""Your notification feed: operators' replies to your tickets, auto-close warnings and
auto-close notices. Never an internal note: the feed is folded from `support.events.v1` alone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from plutarc_api.deps import Authenticated, PermissionRoute, Runtime
from plutarc_api.paging import cursor_of, parse_cursor
from plutarc_api.schemas import READ_ERRORS
from plutarc_runtime.readmodels import aware
from sqlalchemy import select

from .models import feed
from .schemas import NotificationOut, NotificationPage

router = APIRouter(
    prefix="/v1", tags=["notifications"], responses=READ_ERRORS, route_class=PermissionRoute
)


@router.get("/me/notifications", response_model=NotificationPage)
async def notifications(
    rt: Runtime,
    caller: Authenticated,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """Your notifications, newest first, a page at a time (about tickets you opened)."""
    query = select(feed).where(feed.c.user_id == caller.user_id)
    if cursor:
        (before,) = parse_cursor(cursor, (int,))
        query = query.where(feed.c.seq < before)
    rows = await rt.reader.all(query.order_by(feed.c.seq.desc()).limit(limit + 1))
    more = len(rows) > limit
    return NotificationPage(
        notifications=[
            NotificationOut(
                position=r.seq,
                kind=r.kind,
                workspace_id=r.workspace_id,
                ticket_id=r.ticket_id,
                subject=r.subject,
                at=aware(r.at),
                detail=r.detail,
            )
            for r in rows[:limit]
        ],
        next_cursor=cursor_of([rows[limit - 1].seq]) if more else None,
    )
