"""Reads of support's tables for the routes: tickets, threads, pages by cursor, stats."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from plutarc_api.paging import keyset_page
from plutarc_api.problems import Problem
from plutarc_api.runtime import ApiRuntime
from plutarc_runtime.readmodels import aware
from sqlalchemy import Select, select

from .directory import Names
from .models import PRIORITY_RANK, messages, tickets
from .schemas import (
    LinksOut,
    MessageOut,
    PriorityStatsOut,
    Summary,
    TicketDetailOut,
    TicketOut,
    TicketPage,
)

NOT_FOUND = "support.ticket_not_found"


def not_found(ticket_id: str) -> Problem:
    return Problem(404, NOT_FOUND, f"no ticket {ticket_id} here")


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def ticket_out(row: Any) -> TicketOut:
    opened_at = aware(row.opened_at)
    first = aware(row.first_response_at)
    resolved = aware(row.resolved_at)
    return TicketOut(
        ticket_id=row.ticket_id,
        workspace_id=row.workspace_id,
        opened_by=row.opened_by,
        subject=row.subject,
        category=row.category,
        priority=row.priority,
        status=row.status,
        assignee=row.assignee,
        links=LinksOut(**row.links),
        follow_up_of=row.follow_up_of,
        follow_up_ticket_id=row.follow_up_ticket_id,
        opened_at=opened_at,
        updated_at=aware(row.updated_at),
        last_public_message_at=aware(row.last_public_at),
        first_response_at=first,
        resolved_at=resolved,
        first_response_seconds=_seconds(opened_at, first),
        resolution_seconds=_seconds(opened_at, resolved),
        messages=row.messages,
    )


async def find(rt: ApiRuntime, ticket_id: str, workspace_id: str | None = None) -> Any:
    """The ticket's row; 404 when it is not in `workspace_id` (another workspace's ticket looks
    like none at all)."""
    row = await rt.reader.one(select(tickets).where(tickets.c.ticket_id == ticket_id))
    if row is None or (workspace_id is not None and row.workspace_id != workspace_id):
        raise not_found(ticket_id)
    return row


def _named(t: TicketOut, names: Names) -> TicketOut:
    return t.model_copy(
        update={
            "workspace_name": names.spaces.get(t.workspace_id),
            "opened_by_name": names.users.get(t.opened_by),
            "assignee_name": names.users.get(t.assignee) if t.assignee else None,
        }
    )


async def named(rt: ApiRuntime, items: list[TicketOut]) -> list[TicketOut]:
    """The tickets with their workspace's and people's names (`directory`), one lookup for all."""
    names = await Names.of(
        rt,
        [u for t in items for u in (t.opened_by, t.assignee)],
        [t.workspace_id for t in items],
    )
    return [_named(t, names) for t in items]


async def one(rt: ApiRuntime, ticket_id: str, workspace_id: str | None = None) -> TicketOut:
    """One ticket, named (404 as `find` says)."""
    [found] = await named(rt, [ticket_out(await find(rt, ticket_id, workspace_id))])
    return found


async def detail(
    rt: ApiRuntime, ticket_id: str, workspace_id: str | None = None
) -> TicketDetailOut:
    row = await find(rt, ticket_id, workspace_id)
    thread = await rt.reader.all(
        select(messages).where(messages.c.ticket_id == ticket_id).order_by(messages.c.position)
    )
    out = ticket_out(row)
    names = await Names.of(
        rt, [out.opened_by, out.assignee, *(m.author for m in thread)], [out.workspace_id]
    )
    return TicketDetailOut(
        **_named(out, names).model_dump(),
        body=row.body,
        thread=[
            MessageOut(
                message_id=m.message_id,
                author=m.author,
                author_name=names.users.get(m.author),
                side=m.side,
                body=m.body,
                posted_at=aware(m.posted_at),
            )
            for m in thread
        ],
    )


async def newest_first(
    rt: ApiRuntime, query: Select[Any], cursor: str | None, limit: int
) -> TicketPage:
    """Tickets newest first, a page at a time."""
    t = tickets.c
    items, next_cursor = await keyset_page(
        rt.reader,
        query,
        (t.opened_at, t.ticket_id),
        (datetime, str),
        cursor,
        limit,
        ticket_out,
        descending=True,
    )
    return TicketPage(tickets=await named(rt, items), next_cursor=next_cursor)


async def queue(rt: ApiRuntime, query: Select[Any], cursor: str | None, limit: int) -> TicketPage:
    """The operators' queue: most urgent first, then oldest first."""
    t = tickets.c
    items, next_cursor = await keyset_page(
        rt.reader,
        query,
        (t.priority_rank, t.opened_at, t.ticket_id),
        (int, datetime, str),
        cursor,
        limit,
        ticket_out,
    )
    return TicketPage(tickets=await named(rt, items), next_cursor=next_cursor)


# --- response and resolution times ----------------------------------------------------------------


def summary(values: list[float]) -> Summary | None:
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    p90 = ordered[min(n - 1, math.ceil(0.9 * n) - 1)]
    return Summary(count=n, mean=sum(ordered) / n, median=median, p90=p90, max=ordered[-1])


async def stats(rt: ApiRuntime, since: datetime, until: datetime) -> list[PriorityStatsOut]:
    """Per priority, over the tickets opened in [since, until): how many, how many answered and
    resolved, and the seconds each took (first operator message; last resolve or close)."""
    t = tickets.c
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    rows = await rt.reader.all(
        select(t.priority, t.opened_at, t.first_response_at, t.resolved_at).where(
            t.opened_at >= since, t.opened_at < until
        )
    )
    by: dict[str, dict[str, list[float] | int]] = {
        p: {"opened": 0, "first": [], "resolved": []} for p in PRIORITY_RANK
    }
    for r in rows:
        slot = by[r.priority]
        slot["opened"] += 1  # type: ignore[operator]
        opened = aware(r.opened_at)
        first = _seconds(opened, aware(r.first_response_at))
        resolved = _seconds(opened, aware(r.resolved_at))
        if first is not None:
            slot["first"].append(first)  # type: ignore[union-attr]
        if resolved is not None:
            slot["resolved"].append(resolved)  # type: ignore[union-attr]
    out = []
    for priority in sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__):
        slot = by[priority]
        first_times: list[float] = slot["first"]  # type: ignore[assignment]
        resolved_times: list[float] = slot["resolved"]  # type: ignore[assignment]
        out.append(
            PriorityStatsOut(
                priority=priority,  # type: ignore[arg-type]
                opened=slot["opened"],  # type: ignore[arg-type]
                responded=len(first_times),
                resolved=len(resolved_times),
                first_response_seconds=summary(first_times),
                resolution_seconds=summary(resolved_times),
            )
        )
    return out
