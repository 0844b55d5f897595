"""Tickets on the harness (SQLite and PostgreSQL): who may do what, the thread, reopen and
follow-ups, and bad input refused with clear codes and nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from plutarc_contracts import CommandRejected
from plutarc_contracts import support as s
from plutarc_runtime.commands import LocalDispatcher
from plutarc_support.domain import follow_up_id

from .conftest import ALICE, BOB, CAROL, OP, Support


def test_a_member_opens_a_ticket_and_the_thread_alternates(support: Support) -> None:
    t = support.open(links=s.TicketLinks(bot_ids=["bot-1"], order_ids=["o-9"]))
    opened = support.events("support.ticket_opened")[-1]
    assert opened.actor == ALICE and opened.workspace_id == support.ws
    assert opened.payload.opened_by == "alice" and opened.payload.links.bot_ids == ["bot-1"]

    support.post(OP, t, "Which venue?", side="operator")
    support.post(BOB, t, "Binance")  # a viewer holds support:create
    assert support.of(t) == [
        "support.ticket_opened",
        "support.message_posted",
        "support.ticket_status_changed",
        "support.message_posted",
        "support.ticket_status_changed",
    ]
    posted = [e.payload for e in support.events("support.message_posted")]
    assert [(p.author, p.side) for p in posted] == [("op", "operator"), ("bob", "user")]
    statuses = [e.payload.status for e in support.events("support.ticket_status_changed")]
    assert statuses == ["waiting_on_user", "open"]


def test_operators_assign_and_set_any_status_users_only_resolve_or_close(support: Support) -> None:
    t = support.open()
    assign = s.AssignTicket(workspace_id=support.ws, ticket_id=t, operator_id="op")
    support.rejected(ALICE, assign, "support.not_an_operator")
    support.ok(OP, assign)
    nobody = s.AssignTicket(workspace_id=support.ws, ticket_id=t, operator_id="alice")
    support.rejected(OP, nobody, "support.unknown_operator")

    waiting = s.ChangeTicketStatus(workspace_id=support.ws, ticket_id=t, status="waiting_on_user")
    refused = support.rejected(ALICE, waiting, "support.status_not_allowed")
    assert refused.kind == "forbidden" and refused.field == "status"
    support.ok(OP, waiting)
    support.status(ALICE, t, "resolved")
    closing = s.ChangeTicketStatus(workspace_id=support.ws, ticket_id=t, status="closed")
    support.rejected(ALICE, closing, "support.ticket_closed")  # users reopen by writing
    support.status(OP, t, "open")
    hidden = s.ChangeTicketStatus(workspace_id=support.ws, ticket_id=t, status="closed")
    support.rejected("user:carol", hidden, "workspace.not_found")


def test_another_workspace_s_ticket_looks_like_none(support: Support) -> None:
    theirs = support.open(CAROL, ws=support.other)
    reply = s.PostMessage(
        workspace_id=support.ws, ticket_id=theirs, message_id=str(uuid4()), body="hi"
    )
    support.rejected(ALICE, reply, "support.ticket_not_found")
    into_theirs = s.PostMessage(
        workspace_id=support.other, ticket_id=theirs, message_id=str(uuid4()), body="hi"
    )
    assert support.rejected(ALICE, into_theirs, "workspace.not_found").kind == "not_found"
    support.rejected("user:eve", s.OpenTicket(**open_fields(support)), "workspace.not_found")


def open_fields(support: Support, **overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": support.ws,
        "ticket_id": str(uuid4()),
        "subject": "Help",
        "body": "Please",
        "category": "billing",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"subject": "   "}, "support.empty_subject", "subject"),
        ({"body": "\n\t "}, "support.empty_body", "body"),
        ({"subject": "a\x1b[2Jb"}, "support.invalid_text", "subject"),
        ({"body": "pay \u202eevil"}, "support.invalid_text", "body"),
        ({"ticket_id": "not-a-uuid"}, "support.invalid_id", "ticket_id"),
    ],
)
def test_bad_tickets_are_refused_and_change_nothing(
    support: Support, overrides: dict[str, Any], code: str, field: str
) -> None:
    refused = support.rejected(ALICE, s.OpenTicket(**open_fields(support, **overrides)), code)
    assert (refused.kind, refused.field) == ("invalid", field)


def test_a_body_with_line_breaks_is_fine(support: Support) -> None:
    support.ok(ALICE, s.OpenTicket(**open_fields(support, body="line 1\r\nline 2\n\ttabbed")))


def raw_command(support: Support, payload: dict[str, Any], type_name: str) -> bytes:
    cid = str(uuid4())
    env = {
        "command_id": cid,
        "type": type_name,
        "schema_version": 1,
        "issued_at": support.clock.now().isoformat().replace("+00:00", "Z"),
        "actor": ALICE,
        "workspace_id": support.ws,
        "correlation_id": cid,
        "causation_id": None,
        "payload": payload,
    }
    return msgspec.json.encode(env)


@pytest.mark.parametrize(
    ("overrides", "code", "path"),
    [
        ({"subject": ""}, "contract.invalid", "payload.subject"),
        ({"category": "sales"}, "contract.invalid", "payload.category"),
        ({"priority": "asap"}, "contract.invalid", "payload.priority"),
        ({"body": "x" * 1_000_000}, "contract.invalid", "payload.body"),
    ],
)
def test_what_the_contract_refuses_is_answered_with_its_code(
    support: Support, overrides: dict[str, Any], code: str, path: str
) -> None:
    before = support.domain_events()
    reply = LocalDispatcher(support.processor).send_raw(
        raw_command(support, open_fields(support, **overrides), "support.open_ticket")
    )
    assert isinstance(reply, CommandRejected)
    assert (reply.code, reply.field) == (code, path)
    assert support.domain_events() == before


def test_a_reply_reopens_within_14_days_after_that_opens_a_linked_follow_up(
    support: Support,
) -> None:
    t = support.open()
    support.status(OP, t, "resolved")
    support.clock.advance(timedelta(days=13))
    assert support.post(BOB, t, "again").result["reopened"] is True
    assert support.of(t)[-3:] == [
        "support.ticket_status_changed",
        "support.ticket_reopened",
        "support.message_posted",
    ]

    support.status(OP, t, "resolved")
    support.clock.advance(timedelta(days=14, seconds=1))
    message_id = str(uuid4())
    reply = support.ok(
        BOB, s.PostMessage(workspace_id=support.ws, ticket_id=t, message_id=message_id, body="!")
    )
    new = follow_up_id(t, message_id)
    assert reply.result == {"ticket_id": new, "follow_up_of": t}
    assert support.of(t)[-1] == "support.follow_up_opened"
    opened = support.events("support.ticket_opened")[-1]
    assert (opened.payload.ticket_id, opened.payload.follow_up_of) == (new, t)
    assert opened.actor == BOB and opened.payload.body == "!"
    support.post(OP, new, "Looking", side="operator")  # the follow-up is a ticket like any


def test_operators_reopen_before_writing_in_a_closed_ticket(support: Support) -> None:
    t = support.open()
    support.status(OP, t, "closed")
    late = s.PostMessage(
        workspace_id=support.ws, ticket_id=t, message_id=str(uuid4()), body="x", side="operator"
    )
    support.rejected(OP, late, "support.ticket_closed")
    support.status(OP, t, "open")
    support.ok(OP, late)


def test_operators_are_granted_and_revoked_from_the_command_line_only(support: Support) -> None:
    grant = s.GrantOperator(user_id="alice")
    support.rejected(ALICE, grant, "access.system_only")
    support.rejected("system:support", grant, "access.system_only")
    support.ok("system:cli", grant)
    support.rejected("system:cli", grant, "support.already_operator")
    granted = support.events("support.operator_granted")[-1]
    assert granted.actor == "system:cli" and granted.workspace_id is None
    assert granted.payload.granted_by == "system:cli"

    support.ok("system:cli", s.RevokeOperator(user_id="op"))
    note = s.AddInternalNote(
        workspace_id=support.ws, ticket_id=support.open(), note_id=str(uuid4()), body="x"
    )
    support.rejected(OP, note, "support.not_an_operator")
    support.rejected("system:cli", s.RevokeOperator(user_id="op"), "support.unknown_operator")


def test_the_timers_commands_are_the_service_s_own(support: Support) -> None:
    t = support.open()
    item = s.InactiveTicket(
        workspace_id=support.ws, ticket_id=t, last_activity_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    close = s.CloseInactiveTickets(tickets=[item])
    assert support.rejected(ALICE, close, "access.system_only").kind == "forbidden"
    support.rejected(OP, close, "access.system_only")


def test_a_repeated_command_changes_nothing_twice(support: Support) -> None:
    payload = s.OpenTicket(**open_fields(support))
    first = support.send(ALICE, payload, command_id="cmd-1")
    support.clock.advance(timedelta(seconds=1))
    before = support.domain_events()
    again = support.send(ALICE, payload, command_id="cmd-1")
    assert type(first) is type(again) and support.domain_events() == before


def test_a_long_thread_is_snapshotted_and_loads_the_same(support: Support) -> None:
    """Past 100 events a ticket is snapshotted (links, times, lists): a fresh process loading it
    from the snapshot sees what the fold saw."""
    from uuid import UUID

    from plutarc_support.domain import Ticket

    t = support.open(links=s.TicketLinks(bot_ids=["b1"], host_ids=["h1"]))
    for i in range(60):
        support.post(OP, t, f"question {i}", side="operator")
        support.post(ALICE, t, f"answer {i}")
    support.status(OP, t, "waiting_on_user")
    again = support.restart()
    loaded = again.store.get(Ticket, UUID(t))
    assert loaded.version > 100 and len(loaded.message_ids) == 120
    assert loaded.links.host_ids == ["h1"] and loaded.status == "waiting_on_user"
    assert loaded.last_activity_at == again.events("support.message_posted")[-1].occurred_at
    again.post(ALICE, t, "one more")


def test_ids_are_unique_whoever_resends_them(support: Support) -> None:
    t = support.open()
    twice = s.OpenTicket(**open_fields(support, ticket_id=t))
    support.rejected(ALICE, twice, "support.ticket_exists")
    message_id = str(uuid4())
    message = s.PostMessage(workspace_id=support.ws, ticket_id=t, message_id=message_id, body="a")
    support.ok(ALICE, message)
    support.rejected(BOB, message, "support.duplicate_id")  # another command id, same message
