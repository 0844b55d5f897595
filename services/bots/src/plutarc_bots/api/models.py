"""The bots context's read models in the gateway, as tables.

- `bots.library` (from `bots.events.v1`): strategies with their versions; bots with the
  configuration in force, mode, desired state and published trading window; and every bot version
  (`bt_bot_versions`), so the version in force at any instant is one indexed read.
- `bots.workspace_risk` (from `identity.events.v1`): each workspace's risk defaults, to show a
  bot's limits in force beside its own.

Rows touched by a batch are loaded once, folded in memory and written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from plutarc_contracts import Envelope, events_topic
from plutarc_contracts import bots as b
from plutarc_contracts import identity as c
from plutarc_runtime.readmodels import upsert
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.engine import Connection

EVENTS = events_topic(b.BOTS)

library_md = MetaData()
strategies = Table(
    "bt_strategies",
    library_md,
    Column("strategy_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("copied_from", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("bt_strategies_by_workspace", "workspace_id", "created_at", "strategy_id"),
    sqlite_with_rowid=False,
)
strategy_versions = Table(
    "bt_strategy_versions",
    library_md,
    Column("strategy_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("published_by", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)
bots = Table(
    "bt_bots",
    library_md,
    Column("bot_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("config", JSON, nullable=False),
    Column("strategy_id", String(64), nullable=False),
    Column("strategy_version", Integer, nullable=False),
    Column("venue", String(40), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("window_starts_at", DateTime(timezone=True)),
    Column("window_ends_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Index("bt_bots_by_workspace", "workspace_id", "created_at", "bot_id"),
    sqlite_with_rowid=False,
)
bot_versions = Table(
    "bt_bot_versions",
    library_md,
    Column("bot_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("config", JSON, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("change", String(20), nullable=False),
    Column("changed", JSON, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("bt_bot_versions_in_time", "bot_id", "at", "version"),
    sqlite_with_rowid=False,
)

risk_md = MetaData()
workspace_risk = Table(
    "bt_workspace_risk",
    risk_md,
    Column("workspace_id", String(64), primary_key=True),
    Column("risk", JSON, nullable=False),
    sqlite_with_rowid=False,
)

_NAMES = {cls: name for name, cls in b.EVENTS.items()}


def as_json(value: msgspec.Struct) -> Any:
    return msgspec.to_builtins(value)


def _load(conn: Connection, table: Any, key: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for found in conn.execute(select(table).where(table.c[key].in_(chunk))):
            rows[getattr(found, key)] = dict(found._mapping)
    return rows


class LibraryProjection:
    name = "bots.library"
    version = 1
    topics = (EVENTS,)
    metadata = library_md
    types: frozenset[str] | None = frozenset(b.EVENTS)

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        payloads: list[Any] = [env.payload for env in events]
        strategy_rows = _load(
            conn, strategies, "strategy_id", {p.strategy_id for p in payloads if _of_strategy(p)}
        )
        bot_rows = _load(conn, bots, "bot_id", {p.bot_id for p in payloads if hasattr(p, "bot_id")})
        touched_s: set[str] = set()
        touched_b: set[str] = set()
        versions: list[dict[str, Any]] = []
        bot_history: list[dict[str, Any]] = []
        for env in events:
            p: Any = env.payload
            at = env.occurred_at
            if _of_strategy(p):
                if _fold_strategy(strategy_rows, p, at, versions):
                    touched_s.add(p.strategy_id)
                continue
            if _fold_bot(bot_rows, p, env, bot_history):
                touched_b.add(p.bot_id)
        upsert(conn, strategies, [strategy_rows[i] for i in sorted(touched_s)], ["strategy_id"])
        upsert(conn, strategy_versions, versions, ["strategy_id", "version"])
        upsert(conn, bots, [bot_rows[i] for i in sorted(touched_b)], ["bot_id"])
        upsert(conn, bot_versions, bot_history, ["bot_id", "version"])


def _of_strategy(p: Any) -> bool:
    return isinstance(p, b.StrategyCreated | b.StrategyVersionPublished | b.StrategyDeleted)


def _fold_strategy(
    rows: dict[str, dict[str, Any]], p: Any, at: datetime, versions: list[dict[str, Any]]
) -> bool:
    if isinstance(p, b.StrategyCreated):
        rows[p.strategy_id] = {
            "strategy_id": p.strategy_id,
            "workspace_id": p.workspace_id,
            "name": p.name,
            "description": p.description,
            "latest_version": 1,
            "deleted": False,
            "created_by": p.created_by,
            "copied_from": as_json(p.copied_from) if p.copied_from is not None else None,
            "created_at": at,
            "updated_at": at,
        }
        versions.append(_version(p.workspace_id, p.strategy_id, 1, p.spec, p.created_by, "", at))
        return True
    row = rows.get(p.strategy_id)
    if row is None:
        return False
    row["updated_at"] = at
    if isinstance(p, b.StrategyVersionPublished):
        row["latest_version"] = max(row["latest_version"], p.version)
        versions.append(
            _version(p.workspace_id, p.strategy_id, p.version, p.spec, p.published_by, p.note, at)
        )
    else:
        row["deleted"] = True
    return True


def _version(
    workspace_id: str,
    strategy_id: str,
    version: int,
    spec: b.StrategySpec,
    by: str,
    note: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "strategy_id": strategy_id,
        "version": version,
        "workspace_id": workspace_id,
        "spec": as_json(spec),
        "published_by": by,
        "note": note,
        "published_at": at,
    }


CHANGES: dict[type, str] = {
    b.BotCreated: "created",
    b.BotReconfigured: "reconfigured",
    b.BotModeChanged: "mode",
}


def _changed(p: b.BotCreated | b.BotReconfigured | b.BotModeChanged) -> list[str]:
    if isinstance(p, b.BotReconfigured):
        return list(p.changed)
    return ["mode"] if isinstance(p, b.BotModeChanged) else []


def _fold_bot(
    rows: dict[str, dict[str, Any]], p: Any, env: Envelope, history: list[dict[str, Any]]
) -> bool:
    at = env.occurred_at
    if isinstance(p, b.VERSIONED):
        row = rows.get(p.bot_id)
        if row is None:
            if not isinstance(p, b.BotCreated):
                return False
            row = rows[p.bot_id] = {
                "bot_id": p.bot_id,
                "workspace_id": p.workspace_id,
                "state": "stopped",
                "window_starts_at": None,
                "window_ends_at": None,
                "created_at": at,
                "deleted": False,
            }
        config = p.config
        row.update(
            name=config.name,
            version=p.version,
            mode=p.mode,
            config=as_json(config),
            strategy_id=config.strategy.strategy_id,
            strategy_version=config.strategy.version,
            venue=config.market.venue,
            symbol=config.market.symbol,
            updated_at=at,
        )
        history.append(
            {
                "bot_id": p.bot_id,
                "version": p.version,
                "workspace_id": p.workspace_id,
                "config": row["config"],
                "mode": p.mode,
                "change": CHANGES[type(p)],
                "changed": _changed(p),
                "actor": env.actor,
                "at": at,
            }
        )
        return True
    row = rows.get(p.bot_id)
    if row is None:
        return False
    row["updated_at"] = at
    match p:
        case b.BotStarted():
            row["state"] = "running"
        case b.BotStopped():
            row["state"] = "stopped"
        case b.BotDeleted():
            row["deleted"] = True
        case b.TradingWindowScheduled():
            row["window_starts_at"], row["window_ends_at"] = p.starts_at, p.ends_at
        case b.TradingWindowCleared():
            row["window_starts_at"] = row["window_ends_at"] = None
    return True


class WorkspaceRiskProjection:
    name = "bots.workspace_risk"
    version = 1
    topics = (events_topic(c.IDENTITY),)
    metadata = risk_md
    types: frozenset[str] | None = frozenset({"identity.workspace_settings_changed"})

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        latest: dict[str, dict[str, Any]] = {}
        for env in events:
            p: Any = env.payload
            latest[p.workspace_id] = {"workspace_id": p.workspace_id, "risk": as_json(p.risk)}
        upsert(conn, workspace_risk, list(latest.values()), ["workspace_id"])
