"""Reads of the compute context's tables for the routes: rows to bodies, pages by cursor, and the
rows a usage statement is computed from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from plutarc_api.paging import keyset_page
from plutarc_api.problems import Problem
from plutarc_api.runtime import ApiRuntime
from plutarc_runtime.readmodels import aware
from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from . import usage as u
from .models import hosts, misses, policies
from .models import usage as intervals
from .schemas import (
    BotUsageOut,
    DeferredOut,
    HostDetailOut,
    HostOut,
    MissOut,
    SleepPolicyOut,
    UsageLineOut,
    UsageOut,
    WindowOut,
)

MISSES_SHOWN = 20


def host_out(row: Any) -> HostOut:
    window = None
    if row.window_starts_at is not None:
        window = WindowOut(
            starts_at=aware(row.window_starts_at),
            ends_at=aware(row.window_ends_at),
            wake_at=aware(row.wake_at),
            end_rule=row.end_rule,
            time_zone=row.time_zone,
        )
    deferred = None
    if row.deferred_reason is not None:
        deferred = DeferredOut(reason=row.deferred_reason, deadline=aware(row.deferred_deadline))
    return HostOut(
        bot_id=row.bot_id,
        workspace_id=row.workspace_id,
        provider=row.provider,
        state=row.state,
        address=row.address,
        size=row.size,
        next_wake_at=window.wake_at if window is not None else None,
        window=window,
        deferred=deferred,
        last_error=row.last_error,
        changed_at=aware(row.changed_at),
    )


async def host(rt: ApiRuntime, workspace_id: str, bot_id: str) -> Any:
    row = await rt.reader.one(select(hosts).where(hosts.c.bot_id == bot_id))
    if row is None or row.workspace_id != workspace_id:
        raise Problem(
            404,
            "compute.host_not_found",
            f"no host of bot {bot_id} here (the bot has had no window planned yet)",
        )
    return row


async def host_detail(rt: ApiRuntime, workspace_id: str, bot_id: str) -> HostDetailOut:
    row = await host(rt, workspace_id, bot_id)
    m = misses.c
    found = await rt.reader.all(
        select(misses)
        .where(m.bot_id == bot_id)
        .order_by(m.window_starts_at.desc())
        .limit(MISSES_SHOWN)
    )
    return HostDetailOut(
        **host_out(row).model_dump(),
        host_id=row.host_id,
        up_since=aware(row.host_up_since),
        address_since=aware(row.address_since),
        misses=[
            MissOut(
                window_starts_at=aware(r.window_starts_at),
                state=r.state,
                recorded_at=aware(r.recorded_at),
            )
            for r in found
        ],
    )


async def host_page(
    rt: ApiRuntime, workspace_id: str, state: str | None, cursor: str | None, limit: int
) -> tuple[list[HostOut], str | None]:
    """The workspace's hosts by bot id, a page at a time."""
    t = hosts.c
    query = select(hosts).where(t.workspace_id == workspace_id)
    if state is not None:
        query = query.where(t.state == state)
    return await keyset_page(rt.reader, query, (t.bot_id,), (str,), cursor, limit, host_out)


async def sleep_policy(rt: ApiRuntime, workspace_id: str) -> SleepPolicyOut | None:
    row = await rt.reader.one(select(policies).where(policies.c.workspace_id == workspace_id))
    if row is None:
        return None
    return SleepPolicyOut(
        workspace_id=workspace_id,
        drain_deadline_minutes=row.drain_deadline_minutes,
        set_at=aware(row.set_at),
    )


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    try:
        return u.in_utc(start, end)
    except u.PeriodError as exc:
        raise Problem(
            422, exc.code, exc.detail, errors=[{"field": "from", "message": exc.detail}]
        ) from None


def usage_rows(
    conn: Connection, workspace_id: str, start: datetime, as_of: datetime
) -> tuple[list[u.BotLife], list[u.Interval]]:
    """The workspace's bots alive in [start, as_of) and the intervals overlapping it."""
    h, i = hosts.c, intervals.c
    bot_rows = conn.execute(
        select(h.bot_id, h.provider, h.size, h.first_seen_at, h.released_at).where(
            h.workspace_id == workspace_id,
            h.first_seen_at < as_of,
            or_(h.released_at.is_(None), h.released_at > start),
        )
    )
    spans = conn.execute(
        select(i.bot_id, i.kind, i.started_at, i.ended_at, i.provider, i.size).where(
            i.workspace_id == workspace_id,
            i.started_at < as_of,
            or_(i.ended_at.is_(None), i.ended_at > start),
        )
    )
    return (
        [
            u.BotLife(r.bot_id, r.provider, r.size, aware(r.first_seen_at), aware(r.released_at))
            for r in bot_rows
        ],
        [
            u.Interval(r.bot_id, r.kind, aware(r.started_at), aware(r.ended_at), r.provider, r.size)
            for r in spans
        ],
    )


def usage_out(found: u.Statement) -> UsageOut:
    return UsageOut.model_validate(
        {
            "workspace_id": found.workspace_id,
            "from": found.start,
            "to": found.end,
            "as_of": found.as_of,
            "bots": [
                BotUsageOut(
                    bot_id=line.bot_id, provider=line.provider, size=line.size, **_figures(line)
                )
                for line in found.lines
            ],
            "total": UsageLineOut(**_figures(found.total())),
        }
    )


async def statement(
    rt: ApiRuntime, workspace_id: str, start: datetime, end: datetime, prices: u.Prices
) -> UsageOut:
    start, end = _period(start, end)
    now = rt.now()
    as_of = max(start, min(now, end))
    bots, spans = await rt.reader.run(lambda conn: usage_rows(conn, workspace_id, start, as_of))
    return usage_out(u.statement(workspace_id, start, end, now, bots, spans, prices))


def _text(value: Decimal) -> str:
    return format(value, "f")


def _figures(line: u.Line) -> dict[str, Any]:
    return {
        "compute_hours": _text(line.compute_hours),
        "compute_cost": _text(line.compute_cost),
        "address_hours": _text(line.address_hours),
        "address_cost": _text(line.address_cost),
        "cost": _text(line.cost),
        "always_on_hours": _text(line.always_on_hours),
        "always_on_cost": _text(line.always_on_cost),
        "saved_hours": _text(line.saved_hours),
        "saved_cost": _text(line.saved_cost),
        "priced": line.priced,
    }
