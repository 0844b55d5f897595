"""What support tells the outside world, decided as reactions and carried out by adapters.

- `telegram` (operators' chat): every new ticket; every user reply on an urgent ticket.
- `email` (the ticket's opener): the auto-close warning, and the auto-close itself.

An intent's body holds only what its message shows, taken from public events (a ticket's
subject, category, priority, workspace; a user's reply). Internal notes are never read here: no
reaction is registered for them, so no note can reach Telegram or an email. Keys make each
decision once: one alert per ticket, per reply, per warning (a ticket warned again after new
activity is a new warning: its key names the activity it counts from).

`Recipients` is the projection of identity's events that turns an opener's user id into an
address when the mail is sent (the address is never copied into support's events).
"""

from __future__ import annotations

from typing import Any

from plutarc_contracts import Envelope
from plutarc_contracts import identity as idc
from plutarc_contracts import support as s
from plutarc_runtime.handling import Intent, Occurred, Reaction

EXCERPT = 600


def _ticket(e: Occurred) -> Any:
    if e.aggregate is None:
        raise RuntimeError("support's notifications react to its own events only")
    return e.aggregate


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def alert_on_ticket_opened(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, s.TicketOpened)
    body: dict[str, Any] = {
        "kind": "ticket_opened",
        "ticket_id": p.ticket_id,
        "workspace_id": p.workspace_id,
        "subject": p.subject,
        "category": p.category,
        "priority": p.priority,
        "author": p.opened_by,
    }
    if p.follow_up_of:
        body["follow_up_of"] = p.follow_up_of
    return [Intent("telegram", key=f"ticket_opened:{p.ticket_id}", body=body)]


def alert_on_urgent_user_reply(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, s.MessagePosted)
    if p.side != "user":
        return []
    ticket = _ticket(e)
    if ticket.priority != "urgent":
        return []
    body = {
        "kind": "user_replied",
        "ticket_id": p.ticket_id,
        "workspace_id": p.workspace_id,
        "subject": ticket.subject,
        "category": ticket.category,
        "priority": ticket.priority,
        "author": p.author,
        "excerpt": _excerpt(p.body),
    }
    return [Intent("telegram", key=f"user_replied:{p.message_id}", body=body)]


def mail_auto_close_warning(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, s.AutoCloseWarningSent)
    ticket = _ticket(e)
    body = {
        "template": "auto_close_warning",
        "user_id": ticket.opened_by,
        "ticket_id": p.ticket_id,
        "workspace_id": p.workspace_id,
        "subject": ticket.subject,
        "last_activity_at": p.last_activity_at.isoformat(),
        "closes_at": p.closes_at.isoformat(),
    }
    key = f"auto_close_warning:{p.ticket_id}:{p.last_activity_at.isoformat()}"
    return [Intent("email", key=key, body=body)]


def mail_auto_closed(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, s.TicketAutoClosed)
    ticket = _ticket(e)
    body = {
        "template": "auto_closed",
        "user_id": ticket.opened_by,
        "ticket_id": p.ticket_id,
        "workspace_id": p.workspace_id,
        "subject": ticket.subject,
        "last_activity_at": p.last_activity_at.isoformat(),
    }
    key = f"auto_closed:{p.ticket_id}:{p.last_activity_at.isoformat()}"
    return [Intent("email", key=key, body=body)]


NOTIFICATIONS: dict[type[Any], Reaction] = {
    s.TicketOpened: alert_on_ticket_opened,
    s.MessagePosted: alert_on_urgent_user_reply,
    s.AutoCloseWarningSent: mail_auto_close_warning,
    s.TicketAutoClosed: mail_auto_closed,
}


class Recipients:
    """Users' addresses from identity's events (a replayed projection of identity.events.v1)."""

    def __init__(self) -> None:
        self.emails: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.positions: dict[str, int] = {}

    def apply(self, env: Envelope) -> bool:
        p: Any = env.payload
        if not isinstance(p, idc.UserRegistered):
            return False
        if env.stream_position <= self.positions.get(env.stream_id, 0):
            return False
        self.emails[p.user_id], self.names[p.user_id] = p.email, p.display_name
        self.positions[env.stream_id] = env.stream_position
        return True

    def email_of(self, user_id: str) -> str | None:
        return self.emails.get(user_id)
