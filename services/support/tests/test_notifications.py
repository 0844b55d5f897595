"""Which support events tell the outside world what (the reactions alone, no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from plutarc_contracts import support as s
from plutarc_contracts.identity import UserRegistered
from plutarc_runtime.handling import Occurred
from plutarc_support.notifications import EXCERPT, NOTIFICATIONS, Recipients

AT = datetime(2026, 1, 1, 10, tzinfo=UTC)


def ticket(priority: str = "urgent") -> Any:
    return SimpleNamespace(
        subject="Bot stopped", category="bots", priority=priority, opened_by="u-1"
    )


def react(payload: Any, aggregate: Any = None) -> list[Any]:
    occurred = Occurred(payload, AT, "stream", "ws-1", "user:u-1", aggregate=aggregate)
    return list(NOTIFICATIONS[type(payload)](occurred))


def opened(priority: str = "normal", **over: Any) -> s.TicketOpened:
    fields: dict[str, Any] = dict(
        workspace_id="ws-1",
        ticket_id="t-1",
        opened_by="u-1",
        subject="Bot stopped",
        body="secret-ish details the alert leaves out",
        category="bots",
        priority=priority,
    )
    return s.TicketOpened(**{**fields, **over})


def posted(side: str, body: str = "still broken", message_id: str = "m-1") -> s.MessagePosted:
    return s.MessagePosted(
        workspace_id="ws-1",
        ticket_id="t-1",
        message_id=message_id,
        author="u-1",
        side=side,  # type: ignore[arg-type]
        body=body,
    )


def test_every_new_ticket_alerts_the_operators_once() -> None:
    (intent,) = react(opened(), ticket("normal"))
    assert intent.adapter == "telegram" and intent.key == "ticket_opened:t-1"
    assert intent.body == {
        "kind": "ticket_opened",
        "ticket_id": "t-1",
        "workspace_id": "ws-1",
        "subject": "Bot stopped",
        "category": "bots",
        "priority": "normal",
        "author": "u-1",
    }
    (follow_up,) = react(opened(ticket_id="t-2", follow_up_of="t-1"))
    assert follow_up.body["follow_up_of"] == "t-1"


def test_only_a_users_reply_on_an_urgent_ticket_alerts() -> None:
    assert react(posted("user"), ticket("high")) == []
    assert react(posted("operator"), ticket("urgent")) == []
    (intent,) = react(posted("user", "x" * 5000), ticket("urgent"))
    assert intent.key == "user_replied:m-1"
    assert intent.body["kind"] == "user_replied" and intent.body["priority"] == "urgent"
    assert len(intent.body["excerpt"]) == EXCERPT and intent.body["excerpt"].endswith("…")


def test_the_auto_close_warning_and_the_close_mail_the_opener() -> None:
    warned = s.AutoCloseWarningSent(
        workspace_id="ws-1", ticket_id="t-1", last_activity_at=AT, closes_at=AT + timedelta(7)
    )
    (mail,) = react(warned, ticket())
    assert mail.adapter == "email" and mail.body["template"] == "auto_close_warning"
    assert mail.body["user_id"] == "u-1" and mail.body["subject"] == "Bot stopped"
    later = s.AutoCloseWarningSent(
        workspace_id="ws-1",
        ticket_id="t-1",
        last_activity_at=AT + timedelta(2),
        closes_at=AT + timedelta(9),
    )
    assert react(later, ticket())[0].key != mail.key, "a warning after new activity is a new one"
    (closing,) = react(
        s.TicketAutoClosed(workspace_id="ws-1", ticket_id="t-1", last_activity_at=AT), ticket()
    )
    assert closing.body["template"] == "auto_closed" and closing.body["user_id"] == "u-1"


def test_no_note_event_has_a_notification() -> None:
    registered = {s.EVENTS[name] for name in s.NOTE_EVENTS}
    assert registered and not registered & set(NOTIFICATIONS)
    assert all(s.is_user_visible(name) for name, cls in s.EVENTS.items() if cls in NOTIFICATIONS)


def test_recipients_follow_identitys_users() -> None:
    recipients = Recipients()
    env = SimpleNamespace(
        payload=UserRegistered(
            user_id="u-1", email="ann@example.com", display_name="Ann", personal_workspace_id="p"
        ),
        stream_id="u-1",
        stream_position=1,
    )
    assert recipients.apply(env)  # type: ignore[arg-type]
    assert not recipients.apply(env), "a duplicate is dropped"  # type: ignore[arg-type]
    assert recipients.email_of("u-1") == "ann@example.com"
    assert recipients.email_of("u-2") is None
