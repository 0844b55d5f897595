"""Auto-close on simulated time: a ticket waiting on its user is warned after 6 days of silence
and closed at 7; only public messages move the clock (status changes, assignments and internal
notes do not, unlike Zammad's and Zendesk's "any update"); a restart between warning and close
changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from plutarc_contracts import support as s

from .conftest import ALICE, BOB, OP, Support

DAY = timedelta(days=1)


def waiting(support: Support) -> str:
    """A ticket the operator answered just now: the user's turn, silence from now."""
    t = support.open()
    support.post(OP, t, "Could you send the order id?", side="operator")
    return t


def at_day(support: Support, start: Any, days: float) -> int:
    """Move the clock to `days` after `start` and run the timers; returns commands issued."""
    target = start + timedelta(days=days)
    return support.advance(target - support.clock.now())


def test_warned_at_day_6_closed_at_day_7(support: Support) -> None:
    t = waiting(support)
    start = support.clock.now()
    at_day(support, start, 5.99)
    assert support.of(t, "support.auto_close") == []
    at_day(support, start, 6)
    [warning] = support.events("support.auto_close_warning_sent")
    assert warning.actor == "system:support" and warning.workspace_id == support.ws
    assert warning.payload.last_activity_at == start
    assert warning.payload.closes_at == start + 7 * DAY
    at_day(support, start, 6.99)
    assert support.events("support.ticket_auto_closed") == []
    at_day(support, start, 7)
    [closed] = support.events("support.ticket_auto_closed")
    assert closed.payload.ticket_id == t and closed.actor == "system:support"

    before = support.domain_events()
    at_day(support, start, 8)
    assert support.domain_events() == before, "a later pass finds nothing to do"


def test_a_reply_at_day_6_5_cancels_the_close(support: Support) -> None:
    t = waiting(support)
    start = support.clock.now()
    at_day(support, start, 6)
    at_day(support, start, 6.5)
    support.post(BOB, t, "Here it is: o-42")
    at_day(support, start, 30)
    assert support.events("support.ticket_auto_closed") == []
    assert len(support.events("support.auto_close_warning_sent")) == 1, "open: operators' turn"


def test_an_operator_message_starts_a_new_silence(support: Support) -> None:
    t = waiting(support)
    start = support.clock.now()
    at_day(support, start, 6.5)
    support.post(OP, t, "Any news?", side="operator")
    at_day(support, start, 7)
    assert support.events("support.ticket_auto_closed") == []
    at_day(support, start, 12.49)
    assert len(support.events("support.auto_close_warning_sent")) == 1
    at_day(support, start, 12.5)
    warnings = support.events("support.auto_close_warning_sent")
    assert len(warnings) == 2 and warnings[1].payload.last_activity_at == start + 6.5 * DAY
    at_day(support, start, 13.5)
    assert len(support.events("support.ticket_auto_closed")) == 1


def test_status_changes_assignment_and_notes_do_not_reset_the_clock(support: Support) -> None:
    t = waiting(support)
    start = support.clock.now()
    at_day(support, start, 2)
    support.status(OP, t, "open")
    support.status(OP, t, "waiting_on_user")
    at_day(support, start, 3)
    support.ok(OP, s.AssignTicket(workspace_id=support.ws, ticket_id=t, operator_id="op"))
    at_day(support, start, 5)
    note = s.AddInternalNote(
        workspace_id=support.ws, ticket_id=t, note_id=str(uuid4()), body="chasing them"
    )
    support.ok(OP, note)
    at_day(support, start, 6)
    [warning] = support.events("support.auto_close_warning_sent")
    assert warning.payload.last_activity_at == start, "counted from the operator's message"
    at_day(support, start, 7)
    assert len(support.events("support.ticket_auto_closed")) == 1


def test_a_ticket_is_closed_only_while_it_waits_on_its_user(support: Support) -> None:
    t = support.open()
    start = support.clock.now()
    at_day(support, start, 30)
    assert support.events("support.auto_close") == [], "operators' turn: never closed on them"
    support.status(OP, t, "waiting_on_user")  # a status change does not move the clock
    at_day(support, start, 30.01)
    [warning] = support.events("support.auto_close_warning_sent")
    assert warning.payload.closes_at == start + 31.01 * DAY, "a full day's notice, however late"
    at_day(support, start, 31)
    assert support.events("support.ticket_auto_closed") == []
    at_day(support, start, 31.01)
    assert len(support.events("support.ticket_auto_closed")) == 1


def test_a_restart_between_warning_and_close_changes_nothing(support: Support) -> None:
    t = waiting(support)
    start = support.clock.now()
    at_day(support, start, 6)
    again = support.restart()
    at_day(again, start, 6.5)
    assert len(again.events("support.auto_close_warning_sent")) == 1, "not warned twice"
    at_day(again, start, 7)
    [closed] = again.events("support.ticket_auto_closed")
    assert closed.payload.ticket_id == t


def test_an_auto_closed_ticket_reopens_within_14_days_then_takes_a_follow_up(
    support: Support,
) -> None:
    t = waiting(support)
    start = support.clock.now()
    at_day(support, start, 6)
    at_day(support, start, 7)
    at_day(support, start, 20)
    assert support.post(ALICE, t, "sorry, was away").result["reopened"] is True
    assert support.of(t)[-2:] == ["support.ticket_reopened", "support.message_posted"]

    other = waiting(support)
    start = support.clock.now()
    at_day(support, start, 6)
    at_day(support, start, 7)
    at_day(support, start, 21.01)
    reply = support.post(ALICE, other, "back now")
    assert reply.result["follow_up_of"] == other
    assert support.of(other)[-1] == "support.follow_up_opened"


def test_the_periods_are_settings(make_support: Any) -> None:
    support = make_support(support_warn_after_days=1, support_close_after_days=3)
    waiting(support)
    start = support.clock.now()
    at_day(support, start, 1)
    [warning] = support.events("support.auto_close_warning_sent")
    assert warning.payload.closes_at == start + 3 * DAY
    at_day(support, start, 3)
    assert len(support.events("support.ticket_auto_closed")) == 1


def test_many_tickets_are_handled_in_batches(support: Support) -> None:
    tickets = [waiting(support) for _ in range(3)]
    start = support.clock.now()
    assert at_day(support, start, 6) == 1, "one command for the three"
    assert at_day(support, start, 7) == 1
    closed = {e.payload.ticket_id for e in support.events("support.ticket_auto_closed")}
    assert closed == set(tickets)
