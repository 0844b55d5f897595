"""The compute context's read models in the API, as tables, all from `compute.events.v1`.

- `cp_hosts`: one row per bot: its workspace, provider, state (new, waking, running, draining,
  asleep, failed, released), address, size, the planned window and its wake time, a deferred
  sleep's deadline, when the bot was first seen and when its address was released (its lifetime,
  which the always-on comparison of the usage statement is measured over).
- `cp_usage`: intervals per bot: `host` from `host_provisioned` to `host_deprovisioned` (with the
  provider and size), `address` from the first `host_provisioned` to `address_released` (or a
  deprovisioning that did not keep it). An open interval has no `ended_at`.
- `cp_misses`: each recorded miss (`window_missed`).
- `cp_policies`: each workspace's sleep policy (`sleep_policy_set`).

Rows a batch touches are loaded once, folded in memory and written once: memory is bounded by the
batch, never by history. Every fold is idempotent (an event delivered twice changes nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plutarc_contracts import Envelope, events_topic
from plutarc_contracts import compute as c
from plutarc_runtime.readmodels import upsert
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    select,
    update,
)
from sqlalchemy.engine import Connection

EVENTS = events_topic(c.COMPUTE)
HOST, ADDRESS = "host", "address"

metadata = MetaData()
hosts = Table(
    "cp_hosts",
    metadata,
    Column("bot_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("provider", String(32)),
    Column("state", String(16), nullable=False),
    Column("address", String(64)),
    Column("host_id", String(128)),
    Column("size", String(64)),
    Column("window_starts_at", DateTime(timezone=True)),
    Column("window_ends_at", DateTime(timezone=True)),
    Column("always_on", Boolean, nullable=False),
    Column("wake_at", DateTime(timezone=True)),
    Column("end_rule", String(32)),
    Column("time_zone", String(64)),
    Column("deferred_reason", String(32)),
    Column("deferred_deadline", DateTime(timezone=True)),
    Column("last_error", String(2000)),
    Column("host_up_since", DateTime(timezone=True)),
    Column("address_since", DateTime(timezone=True)),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True)),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("cp_hosts_by_workspace", "workspace_id", "bot_id"),
    sqlite_with_rowid=False,
)
usage = Table(
    "cp_usage",
    metadata,
    Column("bot_id", String(64), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("started_at", DateTime(timezone=True), primary_key=True),
    Column("ended_at", DateTime(timezone=True)),
    Column("workspace_id", String(64), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("size", String(64)),
    Index("cp_usage_by_workspace", "workspace_id", "started_at"),
    sqlite_with_rowid=False,
)
misses = Table(
    "cp_misses",
    metadata,
    Column("bot_id", String(64), primary_key=True),
    Column("window_starts_at", DateTime(timezone=True), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("cp_misses_by_workspace", "workspace_id", "window_starts_at"),
    sqlite_with_rowid=False,
)
policies = Table(
    "cp_policies",
    metadata,
    Column("workspace_id", String(64), primary_key=True),
    Column("drain_deadline_minutes", Integer, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

HOST_EVENTS = frozenset(c.EVENTS) - {"compute.sleep_policy_set"}


def _new_host(workspace_id: str, bot_id: str, at: datetime) -> dict[str, Any]:
    return {
        "bot_id": bot_id,
        "workspace_id": workspace_id,
        "provider": None,
        "state": "new",
        "address": None,
        "host_id": None,
        "size": None,
        "window_starts_at": None,
        "window_ends_at": None,
        "always_on": False,
        "wake_at": None,
        "end_rule": None,
        "time_zone": None,
        "deferred_reason": None,
        "deferred_deadline": None,
        "last_error": None,
        "host_up_since": None,
        "address_since": None,
        "first_seen_at": at,
        "released_at": None,
        "changed_at": at,
    }


class HostsProjection:
    name = "compute.hosts"
    version = 1
    topics = (EVENTS,)
    metadata = metadata
    types: frozenset[str] | None = frozenset(c.EVENTS)

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        mine: list[Any] = [e.payload for e in events if e.type in HOST_EVENTS]
        wanted = sorted({p.bot_id for p in mine})
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), 300):
            chunk = wanted[start : start + 300]
            for found in conn.execute(select(hosts).where(hosts.c.bot_id.in_(chunk))):
                rows[found.bot_id] = dict(found._mapping)
        intervals = Intervals()
        missed: list[dict[str, Any]] = []
        policy: dict[str, dict[str, Any]] = {}
        touched: set[str] = set()
        for env in events:
            p: Any = env.payload
            at = env.occurred_at
            if isinstance(p, c.SleepPolicySet):
                policy[p.workspace_id] = {
                    "workspace_id": p.workspace_id,
                    "drain_deadline_minutes": p.drain_deadline_minutes,
                    "set_at": at,
                }
                continue
            if env.type not in HOST_EVENTS:
                continue
            row = rows.get(p.bot_id)
            if row is None:
                row = rows[p.bot_id] = _new_host(p.workspace_id, p.bot_id, at)
            if isinstance(p, c.WindowMissed):
                missed.append(
                    {
                        "bot_id": p.bot_id,
                        "window_starts_at": p.window_starts_at,
                        "workspace_id": p.workspace_id,
                        "state": p.state,
                        "recorded_at": at,
                    }
                )
            _fold(row, p, at, intervals)
            row["changed_at"] = at
            touched.add(p.bot_id)
        upsert(conn, hosts, [rows[k] for k in sorted(touched)], ["bot_id"])
        _write_intervals(conn, intervals)
        _insert_misses(conn, missed)
        upsert(conn, policies, [policy[k] for k in sorted(policy)], ["workspace_id"])


def _write_intervals(conn: Connection, intervals: Intervals) -> None:
    """Intervals opened in the batch are written whole; one opened before only gets its end (it
    keeps the provider and size it was opened with)."""
    opened = list(intervals.opened.values())
    upsert(conn, usage, sorted(opened, key=_order), ["bot_id", "kind", "started_at"])
    if intervals.ends:
        u = usage.c
        conn.execute(
            update(usage)
            .where(
                u.bot_id == bindparam("b_bot"),
                u.kind == bindparam("b_kind"),
                u.started_at == bindparam("b_started"),
            )
            .values(ended_at=bindparam("b_ended")),
            [
                {"b_bot": b, "b_kind": k, "b_started": s, "b_ended": e}
                for (b, k, s), e in sorted(intervals.ends.items())
            ],
        )


def _order(row: Mapping[str, Any]) -> tuple[str, str, datetime]:
    return (row["bot_id"], row["kind"], row["started_at"])


def _insert_misses(conn: Connection, found: list[dict[str, Any]]) -> None:
    unique = {(m["bot_id"], m["window_starts_at"]): m for m in found}
    upsert(conn, misses, [unique[k] for k in sorted(unique)], ["bot_id", "window_starts_at"])


@dataclass
class Intervals:
    opened: dict[tuple[str, str, datetime], dict[str, Any]] = field(default_factory=dict)
    ends: dict[tuple[str, str, datetime], datetime] = field(default_factory=dict)


def _interval(
    row: dict[str, Any], kind: str, started_at: datetime, ended_at: datetime | None
) -> dict[str, Any]:
    return {
        "bot_id": row["bot_id"],
        "kind": kind,
        "started_at": started_at,
        "ended_at": ended_at,
        "workspace_id": row["workspace_id"],
        "provider": row["provider"] or "unknown",
        "size": row["size"] if kind == HOST else None,
    }


def _fold(
    row: dict[str, Any],
    p: Any,
    at: datetime,
    intervals: Intervals,
) -> None:
    if isinstance(p, c.WindowPlanned):
        row.update(
            provider=p.provider,
            window_starts_at=p.starts_at,
            window_ends_at=p.ends_at,
            always_on=p.ends_at is None,
            wake_at=p.wake_at,
            end_rule=p.end_rule,
            time_zone=p.time_zone,
        )
    elif isinstance(p, c.WindowCleared):
        row.update(window_starts_at=None, window_ends_at=None, always_on=False, wake_at=None)
    elif isinstance(p, c.ProvisioningRequested):
        row.update(state="waking", provider=p.provider, size=p.size, last_error=None)
    elif isinstance(p, c.ProvisioningFailed):
        row.update(
            state="failed" if p.next_size is None else "waking",
            size=p.next_size or p.size,
            last_error=p.error,
        )
    elif isinstance(p, c.HostProvisioned):
        row.update(
            provider=p.provider,
            address=p.address,
            host_id=p.host_id,
            size=p.size,
            last_error=None,
            released_at=None,
        )
        row["state"] = "running"
        if row["host_up_since"] is None:
            row["host_up_since"] = at
            _open(row, HOST, at, intervals)
        if row["address_since"] is None:
            row["address_since"] = at
            _open(row, ADDRESS, at, intervals)
    elif isinstance(p, c.BotStartedOnHost):
        row["address"] = p.address
    elif isinstance(p, c.SleepDeferred):
        row.update(deferred_reason=p.reason, deferred_deadline=p.deadline)
    elif isinstance(p, c.HostDrained):
        row.update(
            state="released" if p.reason == "bot_deleted" else "draining",
            deferred_reason=None,
            deferred_deadline=None,
        )
    elif isinstance(p, c.HostDeprovisioned):
        row.update(
            state="asleep" if p.address_kept and row["state"] != "released" else "released",
            host_id=None,
            deferred_reason=None,
            deferred_deadline=None,
        )
        _close(row, HOST, "host_up_since", at, intervals)
        if not p.address_kept:
            row["address"] = None
            _close(row, ADDRESS, "address_since", at, intervals)
    elif isinstance(p, c.AddressReleased):
        row.update(state="released", address=None, host_id=None, released_at=at)
        _close(row, HOST, "host_up_since", at, intervals)
        _close(row, ADDRESS, "address_since", at, intervals)


def _open(
    row: dict[str, Any],
    kind: str,
    at: datetime,
    intervals: Intervals,
) -> None:
    intervals.opened[(row["bot_id"], kind, at)] = _interval(row, kind, at, None)


def _close(
    row: dict[str, Any],
    kind: str,
    since: str,
    at: datetime,
    intervals: Intervals,
) -> None:
    started = row[since]
    if started is None:
        return
    key = (row["bot_id"], kind, started)
    if key in intervals.opened:
        intervals.opened[key]["ended_at"] = at
    else:
        intervals.ends[key] = at
    row[since] = None
