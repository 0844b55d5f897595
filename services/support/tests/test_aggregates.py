"""Support's aggregates on their own, no store: verbs, rules and folds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from plutarc_contracts import support as s
from plutarc_support.domain import Operator, Ticket, TicketNotes, errors, follow_up_id
from plutarc_support.periods import Periods

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
P = Periods()


def ticket(at: datetime = T0) -> Ticket:
    t = Ticket.open(
        workspace_id="w1",
        ticket_id=uuid4(),
        opened_by="alice",
        subject="Bot stopped",
        body="At 03:00 it stopped.",
        category="bots",
        priority="high",
        links=s.TicketLinks(bot_ids=["b1"]),
        at=at,
    )
    t.collect_events()
    return t


def types(t: Ticket | TicketNotes | Operator) -> list[str]:
    return [type(e.payload).__name__ for e in t.collect_events()]


def test_whose_turn_it_is_follows_the_messages() -> None:
    t = ticket()
    assert (t.status, t.last_activity_at) == ("open", T0)
    t.post("m1", "op", "operator", "Which bot?", T0 + timedelta(hours=1), P.reopen_within)
    assert types(t) == ["MessagePosted", "TicketStatusChanged"]
    assert t.status == "waiting_on_user" and t.last_activity_at == T0 + timedelta(hours=1)
    t.post("m2", "alice", "user", "b1", T0 + timedelta(hours=2), P.reopen_within)
    assert types(t) == ["MessagePosted", "TicketStatusChanged"] and t.status == "open"
    t.post("m3", "alice", "user", "also b2", T0 + timedelta(hours=3), P.reopen_within)
    assert types(t) == ["MessagePosted"], "already the operators' turn"
    with pytest.raises(errors.DuplicateId):
        t.post("m3", "alice", "user", "again", T0 + timedelta(hours=4), P.reopen_within)


def test_status_changes_and_assignment_do_not_move_the_clock() -> None:
    t = ticket()
    t.change_status("waiting_on_user", T0 + timedelta(days=1))
    t.assign("op", T0 + timedelta(days=2))
    assert t.last_activity_at == T0
    with pytest.raises(errors.StatusUnchanged):
        t.change_status("waiting_on_user", T0 + timedelta(days=2))
    with pytest.raises(errors.AlreadyAssigned):
        t.assign("op", T0 + timedelta(days=2))


def test_a_reply_within_the_period_reopens_a_resolved_ticket_after_it_a_follow_up() -> None:
    t = ticket()
    t.change_status("resolved", T0 + timedelta(days=1))
    assert t.reply_kind("user", T0 + timedelta(days=15), P.reopen_within) == "reopen"
    assert t.reply_kind("user", T0 + timedelta(days=15, seconds=1), P.reopen_within) == "follow_up"
    with pytest.raises(errors.TicketClosed):
        t.reply_kind("operator", T0 + timedelta(days=2), P.reopen_within)
    t.collect_events()
    t.post("m1", "alice", "user", "still broken", T0 + timedelta(days=3), P.reopen_within)
    assert types(t) == ["TicketReopened", "MessagePosted"] and t.status == "open"


def test_a_ticket_closed_by_hand_takes_a_follow_up_at_once() -> None:
    t = ticket()
    t.change_status("closed", T0 + timedelta(hours=1))
    assert t.reply_kind("user", T0 + timedelta(hours=2), P.reopen_within) == "follow_up"
    t.collect_events()
    follow_up = t.open_follow_up("m9", "bob", "It is back", T0 + timedelta(hours=2))
    assert types(t) == ["FollowUpOpened"] and t.follow_ups == [follow_up.ticket_id]
    assert follow_up.ticket_id == follow_up_id(t.ticket_id, "m9")
    opened = follow_up.collect_events()[0].payload
    assert isinstance(opened, s.TicketOpened)
    assert (opened.follow_up_of, opened.opened_by, opened.body) == (
        t.ticket_id,
        "bob",
        "It is back",
    )
    assert opened.subject == "Follow-up: Bot stopped"
    assert (opened.category, opened.priority, opened.links) == ("bots", "high", t.links)
    again = follow_up.open_follow_up("m10", "bob", "x", T0)
    assert again.subject == "Follow-up: Bot stopped", "the prefix is not stacked"


def test_a_follow_up_subject_stays_within_the_limit() -> None:
    t = ticket()
    t.subject = "s" * s.SUBJECT_MAX
    follow_up = t.open_follow_up("m1", "alice", "x", T0)
    assert len(follow_up.subject) == s.SUBJECT_MAX


def test_auto_close_needs_the_same_silence_a_warning_and_its_time() -> None:
    t = ticket()
    t.change_status("waiting_on_user", T0)
    t.collect_events()
    assert not t.auto_close(T0, T0 + timedelta(days=8)), "never closed without a warning"
    assert not t.warn_inactive(T0 - timedelta(1), P.close_after, P.notice, T0 + timedelta(6))
    assert t.warn_inactive(T0, P.close_after, P.notice, T0 + timedelta(days=6))
    assert t.closes_at == T0 + timedelta(days=7)
    assert not t.warn_inactive(T0, P.close_after, P.notice, T0 + timedelta(days=6)), "once"
    assert not t.auto_close(T0, T0 + timedelta(days=7) - timedelta(seconds=1))
    assert t.auto_close(T0, T0 + timedelta(days=7))
    assert types(t) == ["AutoCloseWarningSent", "TicketAutoClosed"]
    assert (t.status, t.ended_by) == ("closed", "auto_closed")
    assert t.reply_kind("user", T0 + timedelta(days=20), P.reopen_within) == "reopen"


def test_a_late_warning_still_gives_the_full_notice() -> None:
    t = ticket()
    t.change_status("waiting_on_user", T0 + timedelta(days=30))
    assert t.warn_inactive(T0, P.close_after, P.notice, T0 + timedelta(days=30))
    assert t.closes_at == T0 + timedelta(days=31)


def test_a_message_after_the_warning_starts_a_new_silence() -> None:
    t = ticket()
    t.change_status("waiting_on_user", T0)
    t.warn_inactive(T0, P.close_after, P.notice, T0 + timedelta(days=6))
    later = T0 + timedelta(days=6, hours=12)
    t.post("m1", "op", "operator", "Any news?", later, P.reopen_within)
    assert not t.auto_close(T0, T0 + timedelta(days=7)), "that silence is over"
    assert t.warn_inactive(later, P.close_after, P.notice, later + timedelta(days=6))


def test_notes_and_operators() -> None:
    notes = TicketNotes.start("w1", "t1")
    notes.add("n1", "op", "refund approved", T0)
    with pytest.raises(errors.DuplicateId):
        notes.add("n1", "op", "again", T0)
    assert types(notes) == ["InternalNoteAdded"]

    op = Operator.grant(None, "u1", "system:cli", T0)
    assert op.active
    with pytest.raises(errors.AlreadyOperator):
        Operator.grant(op, "u1", "system:cli", T0)
    op.revoke("system:cli", T0)
    with pytest.raises(errors.UnknownOperator):
        op.revoke("system:cli", T0)
    again = Operator.grant(op, "u1", "system:cli", T0)
    assert again is op and op.active


def test_periods_must_warn_before_closing() -> None:
    with pytest.raises(ValueError, match="before the close"):
        Periods(warn_after=timedelta(days=7), close_after=timedelta(days=7))
    assert Periods().notice == timedelta(days=1)
