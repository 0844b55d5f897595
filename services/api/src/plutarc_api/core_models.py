"""The read models the API core keeps for every context: command outcomes, and each workspace's
event log (the audit log and the live stream are read from it).

Both are tables; a page is a range of rows found by cursor, so memory does not grow with history.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from plutarc_contracts import CommandAccepted, CommandRejected, Envelope, Registry
from plutarc_contracts.audit import audit_entry
from plutarc_runtime.readmodels import executemany, upsert
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
)
from sqlalchemy.engine import Connection

from .commands import REPLY_TYPES

outcomes_md = MetaData()
outcomes = Table(
    "api_outcomes",
    outcomes_md,
    Column("command_id", String(64), primary_key=True),
    Column("actor", String(120), nullable=False),
    Column("command_type", String(120), nullable=False),
    Column("status", String(16), nullable=False),
    Column("code", String(120)),
    Column("detail", String(2000)),
    Column("result", JSON, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

log_md = MetaData()
workspace_log = Table(
    "api_workspace_log",
    log_md,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("workspace_id", String(64), nullable=False),
    Column("type", String(120), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("entry", JSON, nullable=False),
    Column("event", LargeBinary, nullable=False),
    Index("api_workspace_log_by_workspace", "workspace_id", "seq"),
)


_APPEND = insert(workspace_log)


class OutcomesProjection:
    """Every command's outcome, with who issued it (only they may read it)."""

    name = "api.outcomes"
    version = 2  # 2: stored without a rowid
    # A command has one reply, and applying it again writes the same row: a relay's duplicate
    # needs no stream positions (a row per command in rm_seen, looked up for every reply).
    dedupe = False
    metadata = outcomes_md
    types: frozenset[str] | None = REPLY_TYPES

    def __init__(self, topics: Sequence[str]) -> None:
        self.topics = list(topics)

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        rows = []
        for env in events:
            p = env.payload
            if isinstance(p, CommandAccepted):
                status, code, detail, result = "accepted", None, None, p.result
            elif isinstance(p, CommandRejected):
                status, code, detail, result = "rejected", p.code, p.detail, {}
            else:
                continue
            rows.append(
                {
                    "command_id": p.command_id,
                    "actor": env.actor,
                    "command_type": p.command_type,
                    "status": status,
                    "code": code,
                    "detail": detail,
                    "result": msgspec.to_builtins(result),
                    "decided_at": env.occurred_at,
                }
            )
        upsert(conn, outcomes, rows, ["command_id"])


class WorkspaceLogProjection:
    """Each workspace's events from the contexts' public events topics, in the order applied:
    `seq` is the audit log's cursor and the live stream's `Last-Event-ID`. Secret fields are
    redacted in the entry; the event itself is kept for replays as of an instant."""

    name = "api.workspace_log"
    version = 1
    metadata = log_md
    types: frozenset[str] | None = None

    def __init__(self, topics: Sequence[str], registry: Registry) -> None:
        self.topics = list(topics)
        self.registry = registry

    @staticmethod
    def accepts(env: Envelope) -> bool:
        """A workspace's own events; replies and events of no workspace are not its history."""
        return bool(env.workspace_id) and not env.type.startswith("system.")

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        rows = []
        for env in events:
            if not self.accepts(env):
                continue
            entry = audit_entry(0, env, self.registry.secret_fields(env.type))
            body = msgspec.to_builtins(entry)
            del body["position"]
            rows.append(
                {
                    "workspace_id": env.workspace_id,
                    "type": env.type,
                    "actor": env.actor,
                    "occurred_at": env.occurred_at,
                    "entry": body,
                    "event": self.registry.encode_event(env),
                }
            )
        if rows:
            executemany(conn, _APPEND, rows)
