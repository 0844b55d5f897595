"""Support's read models in the gateway, fed envelopes directly (no Kafka): tickets with their
status, assignee and times, the thread, the notification feed, notes apart, operators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from plutarc_contracts import Envelope
from plutarc_contracts import support as s
from plutarc_runtime.readmodels import sqlite_engine
from plutarc_support.api import visibility
from plutarc_support.api.models import (
    NotesProjection,
    OperatorsProjection,
    TicketsProjection,
    feed,
    is_operator,
    messages,
    notes,
    tickets,
)
from sqlalchemy import Engine, select

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WS, USER, OP = str(uuid4()), str(uuid4()), str(uuid4())
NAMES = {cls: name for name, cls in s.EVENTS.items()}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path / "rm.sqlite")
    for projection in (TicketsProjection(), NotesProjection(), OperatorsProjection()):
        projection.metadata.create_all(engine)
    yield engine
    engine.dispose()


class Stream:
    def __init__(self, stream_id: str) -> None:
        self.stream_id, self.position = stream_id, 0

    def __call__(self, payload: msgspec.Struct, at: datetime) -> Envelope:
        self.position += 1
        return Envelope(
            event_id=str(uuid4()),
            type=NAMES[type(payload)],
            schema_version=1,
            occurred_at=at,
            producer="support",
            stream_id=self.stream_id,
            stream_position=self.position,
            workspace_id=getattr(payload, "workspace_id", None),
            actor="user:x",
            correlation_id=str(uuid4()),
            causation_id=None,
            payload=payload,
        )


def apply(engine: Engine, projection: Any, events: list[Envelope]) -> None:
    with engine.begin() as conn:
        projection.apply(conn, events)


def opened(ticket_id: str, priority: str = "normal") -> s.TicketOpened:
    return s.TicketOpened(
        workspace_id=WS,
        ticket_id=ticket_id,
        opened_by=USER,
        subject="Bot stuck",
        body="It stopped",
        category="bots",
        priority=priority,  # type: ignore[arg-type]
    )


def posted(ticket_id: str, side: str, body: str = "hello") -> s.MessagePosted:
    return s.MessagePosted(
        workspace_id=WS,
        ticket_id=ticket_id,
        message_id=str(uuid4()),
        author=OP if side == "operator" else USER,
        side=side,  # type: ignore[arg-type]
        body=body,
    )


def status(ticket_id: str, previous: str, new: str) -> s.TicketStatusChanged:
    return s.TicketStatusChanged(
        workspace_id=WS,
        ticket_id=ticket_id,
        previous_status=previous,  # type: ignore[arg-type]
        status=new,  # type: ignore[arg-type]
    )


def row(engine: Engine, ticket_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(tickets).where(tickets.c.ticket_id == ticket_id)).one()


def test_a_ticket_folds_its_thread_status_assignee_and_times(engine: Engine) -> None:
    tid = str(uuid4())
    ev = Stream(tid)
    batch = [
        ev(opened(tid, "urgent"), T0),
        ev(posted(tid, "user", "more detail"), T0 + timedelta(minutes=5)),
        ev(posted(tid, "operator", "looking"), T0 + timedelta(minutes=30)),
        ev(status(tid, "open", "waiting_on_user"), T0 + timedelta(minutes=30)),
        ev(
            s.TicketAssigned(workspace_id=WS, ticket_id=tid, operator_id=OP),
            T0 + timedelta(hours=1),
        ),
    ]
    apply(engine, TicketsProjection(), batch[:2])  # two batches: the row is loaded and folded on
    apply(engine, TicketsProjection(), batch[2:])
    r = row(engine, tid)
    assert (r.status, r.priority, r.priority_rank, r.assignee, r.messages) == (
        "waiting_on_user",
        "urgent",
        0,
        OP,
        2,
    )
    assert r.first_response_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=30)
    assert r.last_public_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=30)
    assert r.resolved_at is None
    with engine.connect() as conn:
        thread = conn.execute(
            select(messages.c.side, messages.c.body)
            .where(messages.c.ticket_id == tid)
            .order_by(messages.c.position)
        ).all()
    assert [tuple(m) for m in thread] == [("user", "more detail"), ("operator", "looking")]

    apply(
        engine,
        TicketsProjection(),
        [ev(status(tid, "waiting_on_user", "resolved"), T0 + timedelta(hours=5))],
    )
    assert row(engine, tid).resolved_at.replace(tzinfo=UTC) == T0 + timedelta(hours=5)
    # A reopen clears the resolution; the next close sets it again, later.
    apply(
        engine,
        TicketsProjection(),
        [
            ev(
                s.TicketReopened(
                    workspace_id=WS, ticket_id=tid, previous_status="resolved", message_id="m"
                ),
                T0 + timedelta(hours=6),
            )
        ],
    )
    assert (row(engine, tid).status, row(engine, tid).resolved_at) == ("open", None)
    apply(engine, TicketsProjection(), [ev(status(tid, "open", "closed"), T0 + timedelta(hours=8))])
    assert row(engine, tid).resolved_at.replace(tzinfo=UTC) == T0 + timedelta(hours=8)
    # The first response stays the first.
    apply(engine, TicketsProjection(), [ev(posted(tid, "operator"), T0 + timedelta(hours=9))])
    assert row(engine, tid).first_response_at.replace(tzinfo=UTC) == T0 + timedelta(minutes=30)


def test_the_feed_tells_the_opener_of_operator_replies_warnings_and_auto_close(
    engine: Engine,
) -> None:
    tid = str(uuid4())
    ev = Stream(tid)
    last = T0 + timedelta(minutes=1)
    apply(
        engine,
        TicketsProjection(),
        [
            ev(opened(tid), T0),
            ev(posted(tid, "user", "me again"), T0 + timedelta(seconds=30)),
            ev(posted(tid, "operator", "x" * 1000), last),
            ev(
                s.AutoCloseWarningSent(
                    workspace_id=WS,
                    ticket_id=tid,
                    last_activity_at=last,
                    closes_at=last + timedelta(days=7),
                ),
                last + timedelta(days=6),
            ),
            ev(
                s.TicketAutoClosed(workspace_id=WS, ticket_id=tid, last_activity_at=last),
                last + timedelta(days=7),
            ),
        ],
    )
    with engine.connect() as conn:
        got = conn.execute(select(feed).order_by(feed.c.seq)).all()
    assert [(n.kind, n.user_id, n.ticket_id) for n in got] == [
        ("operator_reply", USER, tid),
        ("auto_close_warning", USER, tid),
        ("auto_closed", USER, tid),
    ]
    assert len(got[0].detail["preview"]) == 280  # a preview, not the whole reply
    assert got[1].detail["closes_at"] == (last + timedelta(days=7)).isoformat()
    assert row(engine, tid).status == "closed"


def test_notes_live_in_their_own_table_and_operators_follow_grants(engine: Engine) -> None:
    tid = str(uuid4())
    apply(engine, TicketsProjection(), [Stream(tid)(opened(tid), T0)])
    note = s.InternalNoteAdded(
        workspace_id=WS, ticket_id=tid, note_id=str(uuid4()), author=OP, body="secret"
    )
    apply(engine, NotesProjection(), [Stream("notes")(note, T0)])
    with engine.connect() as conn:
        assert conn.execute(select(notes.c.body)).scalars().all() == ["secret"]
        for table in (tickets, messages, feed):
            for r in conn.execute(select(table)).all():
                assert "secret" not in repr(tuple(r))
    ops = Stream("operators")
    apply(
        engine,
        OperatorsProjection(),
        [ops(s.OperatorGranted(user_id=OP, granted_by="system:cli"), T0)],
    )
    assert is_operator(engine, OP) and not is_operator(engine, USER)
    apply(
        engine,
        OperatorsProjection(),
        [ops(s.OperatorRevoked(user_id=OP, revoked_by="system:cli"), T0)],
    )
    assert not is_operator(engine, OP)


def test_members_see_ticket_events_live_and_never_a_note() -> None:
    for name in s.EVENTS:
        seen = visibility(name)
        if name in s.NOTE_EVENTS or name.startswith("support.operator_"):
            assert seen is None, name
        else:
            assert seen == "support:read", name
    assert visibility("identity.workspace_renamed") is None
