"""Support's read models in the gateway, as tables.

- `support.tickets` (from `support.events.v1`): tickets with their status, priority, assignee,
  last public message and response times; the public thread; each user's notification feed.
- `support.notes` (from `support.notes.v1`, the private topic): internal notes, read only by the
  operators' routes.
- `support.operators` (from `support.events.v1`): who is a platform operator now.

A ticket's row is loaded, folded in memory over the batch and written once, so a batch costs a
few statements however many of its events touch one ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from plutarc_contracts import Envelope, events_topic
from plutarc_contracts import support as s
from plutarc_runtime.readmodels import upsert
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    select,
)
from sqlalchemy.engine import Connection

EVENTS = events_topic(s.SUPPORT)
ACTIVE = ("open", "waiting_on_user")
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
"""The queue's order: most urgent first."""
PREVIEW = 280
"""How much of an operator's reply a notification repeats."""

tickets_md = MetaData()
tickets = Table(
    "sp_tickets",
    tickets_md,
    Column("ticket_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("body", Text, nullable=False),
    Column("category", String(40), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("priority_rank", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("assignee", String(64)),
    Column("links", JSON, nullable=False),
    Column("follow_up_of", String(64)),
    Column("follow_up_ticket_id", String(64)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_public_at", DateTime(timezone=True), nullable=False),
    Column("first_response_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("messages", Integer, nullable=False),
    Index("sp_tickets_by_workspace", "workspace_id", "opened_at", "ticket_id"),
    Index("sp_tickets_queue", "status", "priority_rank", "opened_at", "ticket_id"),
    Index("sp_tickets_opened", "opened_at", "ticket_id"),
    sqlite_with_rowid=False,
)
messages = Table(
    "sp_messages",
    tickets_md,
    Column("ticket_id", String(64), primary_key=True),
    Column("message_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("author", String(64), nullable=False),
    Column("side", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Index("sp_messages_in_order", "ticket_id", "position"),
    sqlite_with_rowid=False,
)
feed = Table(
    "sp_feed",
    tickets_md,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("user_id", String(64), nullable=False),
    Column("workspace_id", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("sp_feed_by_user", "user_id", "seq"),
)

notes_md = MetaData()
notes = Table(
    "sp_notes",
    notes_md,
    Column("ticket_id", String(64), primary_key=True),
    Column("note_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("author", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

operators_md = MetaData()
operators = Table(
    "sp_operators",
    operators_md,
    Column("user_id", String(64), primary_key=True),
    Column("granted", Boolean, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

_NAMES = {cls: name for name, cls in s.EVENTS.items()}


def types_of(*classes: type) -> frozenset[str]:
    return frozenset(_NAMES[cls] for cls in classes)


TICKET_EVENTS = (
    s.TicketOpened,
    s.MessagePosted,
    s.TicketAssigned,
    s.TicketStatusChanged,
    s.TicketReopened,
    s.FollowUpOpened,
    s.AutoCloseWarningSent,
    s.TicketAutoClosed,
)


class TicketsProjection:
    name = "support.tickets"
    version = 1
    topics = (EVENTS,)
    metadata = tickets_md
    types: frozenset[str] | None = types_of(*TICKET_EVENTS)

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        ids = sorted({env.payload.ticket_id for env in events})
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for found in conn.execute(select(tickets).where(tickets.c.ticket_id.in_(chunk))):
                rows[found.ticket_id] = dict(found._mapping)
        changed: set[str] = set()
        posted: list[dict[str, Any]] = []
        notices: list[dict[str, Any]] = []
        for env in events:
            p: Any = env.payload
            at = env.occurred_at
            if isinstance(p, s.TicketOpened):
                rows[p.ticket_id] = _opened(p, at)
                changed.add(p.ticket_id)
                continue
            row = rows.get(p.ticket_id)
            if row is None:  # never opened here: nothing to fold it into
                continue
            changed.add(p.ticket_id)
            row["updated_at"] = at
            match p:
                case s.MessagePosted():
                    row["last_public_at"] = at
                    row["messages"] += 1
                    if p.side == "operator" and row["first_response_at"] is None:
                        row["first_response_at"] = at
                    posted.append(
                        {
                            "ticket_id": p.ticket_id,
                            "message_id": p.message_id,
                            "workspace_id": p.workspace_id,
                            "position": env.stream_position,
                            "author": p.author,
                            "side": p.side,
                            "body": p.body,
                            "posted_at": at,
                        }
                    )
                    if p.side == "operator":
                        notices.append(
                            _notice(
                                env,
                                row,
                                "operator_reply",
                                message_id=p.message_id,
                                author=p.author,
                                preview=p.body[:PREVIEW],
                            )
                        )
                case s.TicketAssigned():
                    row["assignee"] = p.operator_id
                case s.TicketStatusChanged():
                    _status(row, p.status, at)
                case s.TicketReopened():
                    _status(row, "open", at)
                case s.FollowUpOpened():
                    row["follow_up_ticket_id"] = p.follow_up_ticket_id
                case s.AutoCloseWarningSent():
                    notices.append(
                        _notice(
                            env,
                            row,
                            "auto_close_warning",
                            last_activity_at=p.last_activity_at.isoformat(),
                            closes_at=p.closes_at.isoformat(),
                        )
                    )
                case s.TicketAutoClosed():
                    _status(row, "closed", at)
                    notices.append(
                        _notice(
                            env, row, "auto_closed", last_activity_at=p.last_activity_at.isoformat()
                        )
                    )
        upsert(conn, tickets, [rows[i] for i in sorted(changed)], ["ticket_id"])
        upsert(conn, messages, posted, ["ticket_id", "message_id"])
        upsert(conn, feed, notices, ["event_id"], update=[])


def _opened(p: s.TicketOpened, at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": p.ticket_id,
        "workspace_id": p.workspace_id,
        "opened_by": p.opened_by,
        "subject": p.subject,
        "body": p.body,
        "category": p.category,
        "priority": p.priority,
        "priority_rank": PRIORITY_RANK[p.priority],
        "status": "open",
        "assignee": None,
        "links": {
            "bot_ids": list(p.links.bot_ids),
            "host_ids": list(p.links.host_ids),
            "order_ids": list(p.links.order_ids),
        },
        "follow_up_of": p.follow_up_of,
        "follow_up_ticket_id": None,
        "opened_at": at,
        "updated_at": at,
        "last_public_at": at,
        "first_response_at": None,
        "resolved_at": None,
        "messages": 0,
    }


def _status(row: dict[str, Any], status: str, at: datetime) -> None:
    """Resolution: when the ticket last left the active statuses; a reopen clears it."""
    was_active = row["status"] in ACTIVE
    row["status"] = status
    if status in ACTIVE:
        row["resolved_at"] = None
    elif was_active or row["resolved_at"] is None:
        row["resolved_at"] = at


def _notice(env: Envelope, row: dict[str, Any], kind: str, **detail: Any) -> dict[str, Any]:
    """A notification for the ticket's opener."""
    return {
        "event_id": env.event_id,
        "user_id": row["opened_by"],
        "workspace_id": row["workspace_id"],
        "ticket_id": row["ticket_id"],
        "kind": kind,
        "subject": row["subject"],
        "at": env.occurred_at,
        "detail": detail,
    }


class NotesProjection:
    """Internal notes from the private topic: served on operator routes alone."""

    name = "support.notes"
    version = 1
    topics = (s.NOTES_TOPIC,)
    metadata = notes_md
    types: frozenset[str] | None = types_of(s.InternalNoteAdded)

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        rows = []
        for env in events:
            p: Any = env.payload
            rows.append(
                {
                    "ticket_id": p.ticket_id,
                    "note_id": p.note_id,
                    "workspace_id": p.workspace_id,
                    "position": env.stream_position,
                    "author": p.author,
                    "body": p.body,
                    "added_at": env.occurred_at,
                }
            )
        upsert(conn, notes, rows, ["ticket_id", "note_id"])


class OperatorsProjection:
    """Who is a platform operator now (granted, not revoked since)."""

    name = "support.operators"
    version = 1
    topics = (EVENTS,)
    metadata = operators_md
    types: frozenset[str] | None = types_of(s.OperatorGranted, s.OperatorRevoked)

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        latest: dict[str, dict[str, Any]] = {}
        for env in events:
            p: Any = env.payload
            granted = isinstance(p, s.OperatorGranted)
            latest[p.user_id] = {
                "user_id": p.user_id,
                "granted": granted,
                "changed_at": env.occurred_at,
            }
        upsert(conn, operators, list(latest.values()), ["user_id"])


_is_operator = select(operators.c.granted).where(operators.c.user_id == bindparam("user_id"))


def is_operator(engine: Engine, user_id: str) -> bool:
    """The `operator` access kind's answer (`ApiModule.operators`)."""
    with engine.connect() as conn:
        return bool(conn.execute(_is_operator, {"user_id": user_id}).scalar())
