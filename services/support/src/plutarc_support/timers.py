"""Support's timers: a silent ticket waiting on its user is warned, then closed.

`Inactivity` is a read model of support's own events: for every ticket, its status, when its last
public message was posted and whether that silence was warned about, with the tickets whose
warning or close falls due in two `Deadlines` heaps, so a pass finds what is due without looking
at the rest. Only `ticket_opened` and `message_posted` move a ticket's clock; status changes,
assignments, warnings and notes (not even read here) never do. A timer issues
`WarnInactiveTickets` / `CloseInactiveTickets` to the service itself in batches naming each
ticket's silence (its `last_activity_at`); the ticket decides again, so a message posted
meanwhile, or a pass repeated after a crash, changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from plutarc_contracts import support as s
from plutarc_runtime.timers import Deadlines, ReadModels, Timer, by_batches

from .periods import Periods

BATCH = 500


class _Ticket:
    __slots__ = ("closes_at", "last", "status", "warned_for", "workspace_id")

    def __init__(self, workspace_id: str, last: datetime) -> None:
        self.workspace_id = workspace_id
        self.status = "open"
        self.last = last
        self.warned_for: datetime | None = None
        self.closes_at: datetime | None = None


class Inactivity:
    event_types = frozenset(
        {
            "support.ticket_opened",
            "support.message_posted",
            "support.ticket_status_changed",
            "support.ticket_reopened",
            "support.auto_close_warning_sent",
            "support.ticket_auto_closed",
        }
    )

    def __init__(self, periods: Periods | None = None) -> None:
        self.periods = periods or Periods()
        self.tickets: dict[str, _Ticket] = {}
        self.warn = Deadlines()
        self.close = Deadlines()

    def apply(self, env: Any) -> None:
        p = env.payload
        if isinstance(p, s.TicketOpened):
            self.tickets[p.ticket_id] = _Ticket(p.workspace_id, env.occurred_at)
            return  # open: nothing to schedule
        ticket = self.tickets.get(getattr(p, "ticket_id", ""))
        if ticket is None:
            return
        match p:
            case s.MessagePosted():
                ticket.last = env.occurred_at
            case s.TicketStatusChanged():
                ticket.status = p.status
            case s.TicketReopened():
                ticket.status = "open"
            case s.AutoCloseWarningSent():
                ticket.warned_for, ticket.closes_at = p.last_activity_at, p.closes_at
            case s.TicketAutoClosed():
                ticket.status = "closed"
        self._schedule(p.ticket_id, ticket)

    def _schedule(self, ticket_id: str, t: _Ticket) -> None:
        if t.status != "waiting_on_user":
            self.warn.drop(ticket_id)
            self.close.drop(ticket_id)
        elif t.warned_for == t.last and t.closes_at is not None:
            self.warn.drop(ticket_id)
            self.close.set(ticket_id, t.closes_at)
        else:
            self.close.drop(ticket_id)
            self.warn.set(ticket_id, t.last + self.periods.warn_after)

    def inactive(self, ticket_ids: list[str]) -> list[s.InactiveTicket]:
        return [
            s.InactiveTicket(
                workspace_id=self.tickets[i].workspace_id,
                ticket_id=i,
                last_activity_at=self.tickets[i].last,
            )
            for i in ticket_ids
        ]


def warn_inactive(now: datetime, models: ReadModels) -> list[s.WarnInactiveTickets]:
    model = models.get(Inactivity)
    periods = model.periods
    return [
        s.WarnInactiveTickets(
            tickets=model.inactive(list(batch)),
            close_after_seconds=int(periods.close_after.total_seconds()),
            notice_seconds=int(periods.notice.total_seconds()),
        )
        for batch in by_batches(sorted(model.warn.due(now)), BATCH)
    ]


def close_inactive(now: datetime, models: ReadModels) -> list[s.CloseInactiveTickets]:
    model = models.get(Inactivity)
    return [
        s.CloseInactiveTickets(tickets=model.inactive(list(batch)))
        for batch in by_batches(sorted(model.close.due(now)), BATCH)
    ]


def timers(every: timedelta = timedelta(minutes=1)) -> list[Timer]:
    return [
        Timer("warn-inactive-tickets", every, warn_inactive),
        Timer("close-inactive-tickets", every, close_inactive),
    ]
