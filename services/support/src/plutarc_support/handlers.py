"""Support's command handlers, one function per command, found by class in `handlers(periods)`.

Users act through the one authorizer (`ctx.require`, over support's projection of identity's
memberships): `support:create` to open a ticket and write in it. Operators act through their
`Operator` aggregate, a platform-level role that no workspace role grants. A ticket of another
workspace looks like none at all (`support.ticket_not_found`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from plutarc_contracts import support as s
from plutarc_runtime.handling import Accepted, Context, Handler

from .domain import Operator, Ticket, TicketNotes, errors, notes_id, operator_id, parse_id
from .domain.ids import check_text
from .domain.ticket import ACTIVE
from .periods import Periods

SERVICE = "support"
USER_STATUSES = ("resolved", "closed")


# -- lookups --------------------------------------------------------------------------------------
def _ticket(ctx: Context, workspace_id: str, ticket_id: str) -> Ticket:
    ticket = ctx.store.find(Ticket, parse_id(ticket_id, "ticket_id"))
    if ticket is None or ticket.workspace_id != workspace_id:
        raise errors.TicketNotFound(f"no ticket {ticket_id} in workspace {workspace_id}")
    return ticket


def _is_operator(ctx: Context, user_id: str) -> bool:
    found = ctx.store.find(Operator, operator_id(user_id))
    return found is not None and found.active


def _operator(ctx: Context) -> str:
    """The acting operator's user id; operators act as themselves, never through an API token
    (tokens belong to a workspace)."""
    user_id = ctx.principal.user_id
    if ctx.principal.token is None and user_id is not None and _is_operator(ctx, user_id):
        return user_id
    raise errors.NotAnOperator(f"`{ctx.command.actor}` is not a support operator")


# -- handlers -------------------------------------------------------------------------------------
def open_ticket(p: s.OpenTicket, ctx: Context) -> Accepted:
    ctx.require(p.workspace_id, "support:create")
    ticket_id = parse_id(p.ticket_id, "ticket_id")
    check_text(p.subject, "subject", allow_newlines=False)
    check_text(p.body, "body", allow_newlines=True)
    if ctx.store.find(Ticket, ticket_id) is not None:
        raise errors.TicketExists(f"ticket {p.ticket_id} exists")
    ticket = Ticket.open(
        workspace_id=p.workspace_id,
        ticket_id=ticket_id,
        opened_by=ctx.user_id,
        subject=p.subject,
        body=p.body,
        category=p.category,
        priority=p.priority,
        links=p.links,
        at=ctx.now,
    )
    return Accepted([ticket], {"ticket_id": p.ticket_id})


def make_post_message(periods: Periods) -> Handler:
    def post_message(p: s.PostMessage, ctx: Context) -> Accepted:
        if p.side == "operator":
            author = _operator(ctx)
        else:
            ctx.require(p.workspace_id, "support:create")
            author = ctx.user_id
        ticket = _ticket(ctx, p.workspace_id, p.ticket_id)
        parse_id(p.message_id, "message_id")
        check_text(p.body, "body", allow_newlines=True)
        kind = ticket.reply_kind(p.side, ctx.now, periods.reopen_within)
        if kind == "follow_up":
            follow_up = ticket.open_follow_up(p.message_id, author, p.body, ctx.now)
            return Accepted(
                [follow_up, ticket],
                {"ticket_id": follow_up.ticket_id, "follow_up_of": ticket.ticket_id},
            )
        ticket.post(p.message_id, author, p.side, p.body, ctx.now, periods.reopen_within)
        return Accepted([ticket], {"ticket_id": ticket.ticket_id, "reopened": kind == "reopen"})

    return post_message


def assign_ticket(p: s.AssignTicket, ctx: Context) -> Accepted:
    _operator(ctx)
    ticket = _ticket(ctx, p.workspace_id, p.ticket_id)
    if not _is_operator(ctx, p.operator_id):
        raise errors.UnknownOperator(
            f"user {p.operator_id} is not a support operator", field="operator_id"
        )
    ticket.assign(p.operator_id, ctx.now)
    return Accepted([ticket])


def change_ticket_status(p: s.ChangeTicketStatus, ctx: Context) -> Accepted:
    user_id = ctx.principal.user_id
    if ctx.principal.token is not None or user_id is None or not _is_operator(ctx, user_id):
        ctx.require(p.workspace_id, "support:create")
        if p.status not in USER_STATUSES:
            raise errors.StatusNotAllowed(
                f"users may set a ticket resolved or closed, not {p.status}", field="status"
            )
        ticket = _ticket(ctx, p.workspace_id, p.ticket_id)
        if ticket.status not in ACTIVE:
            raise errors.TicketClosed(
                f"ticket {p.ticket_id} is {ticket.status}: write in it to reopen it"
            )
    else:
        ticket = _ticket(ctx, p.workspace_id, p.ticket_id)
    ticket.change_status(p.status, ctx.now)
    return Accepted([ticket], {"status": p.status})


def add_internal_note(p: s.AddInternalNote, ctx: Context) -> Accepted:
    author = _operator(ctx)
    ticket = _ticket(ctx, p.workspace_id, p.ticket_id)
    parse_id(p.note_id, "note_id")
    check_text(p.body, "body", allow_newlines=True)
    notes = ctx.store.find(TicketNotes, notes_id(ticket.ticket_id))
    if notes is None:
        notes = TicketNotes.start(ticket.workspace_id, ticket.ticket_id)
    notes.add(p.note_id, author, p.body, ctx.now)
    return Accepted([notes], {"note_id": p.note_id})


def grant_operator(p: s.GrantOperator, ctx: Context) -> Accepted:
    ctx.require_system("cli")
    existing = ctx.store.find(Operator, operator_id(p.user_id))
    return Accepted([Operator.grant(existing, p.user_id, ctx.command.actor, ctx.now)])


def revoke_operator(p: s.RevokeOperator, ctx: Context) -> Accepted:
    ctx.require_system("cli")
    existing = ctx.store.find(Operator, operator_id(p.user_id))
    if existing is None:
        raise errors.UnknownOperator(f"user {p.user_id} is not an operator", field="user_id")
    existing.revoke(ctx.command.actor, ctx.now)
    return Accepted([existing])


def warn_inactive_tickets(p: s.WarnInactiveTickets, ctx: Context) -> Accepted:
    ctx.require_system(SERVICE)
    close_after = timedelta(seconds=p.close_after_seconds)
    notice = timedelta(seconds=p.notice_seconds)
    warned = [
        t
        for t, i in _tickets(ctx, p.tickets)
        if t.warn_inactive(i.last_activity_at, close_after, notice, ctx.now)
    ]
    return Accepted(warned, {"warned": len(warned)})


def close_inactive_tickets(p: s.CloseInactiveTickets, ctx: Context) -> Accepted:
    ctx.require_system(SERVICE)
    closed = [t for t, i in _tickets(ctx, p.tickets) if t.auto_close(i.last_activity_at, ctx.now)]
    return Accepted(closed, {"closed": len(closed)})


def _tickets(ctx: Context, items: list[s.InactiveTicket]) -> list[tuple[Ticket, s.InactiveTicket]]:
    found = []
    for item in items:
        ticket = ctx.store.find(Ticket, parse_id(item.ticket_id, "ticket_id"))
        if ticket is not None and ticket.workspace_id == item.workspace_id:
            found.append((ticket, item))
    return found


def handlers(periods: Periods | None = None) -> dict[type[Any], Handler]:
    """{CommandClass: handler}; the periods are the service's settings."""
    periods = periods or Periods()
    return {
        s.OpenTicket: open_ticket,
        s.PostMessage: make_post_message(periods),
        s.AssignTicket: assign_ticket,
        s.ChangeTicketStatus: change_ticket_status,
        s.AddInternalNote: add_internal_note,
        s.GrantOperator: grant_operator,
        s.RevokeOperator: revoke_operator,
        s.WarnInactiveTickets: warn_inactive_tickets,
        s.CloseInactiveTickets: close_inactive_tickets,
    }
