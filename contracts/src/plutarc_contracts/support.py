"""Support contracts: tickets, their threads, operators, auto-close, and operator-only notes.

Everything a ticket's user may see goes to ``support.events.v1``. Internal notes, written and read
by operators only, go to ``support.notes.v1``, a private topic that only the support service and
the gateway API (which serves them on operator routes alone) may read. Ticket ids, message ids and
note ids are UUIDs the caller chooses; a follow-up's id is derived by the service.

Limits: a subject is 1-200 characters, a message or note body 1-20,000 characters, at most 20
links of each kind. Statuses: ``open`` (operators' turn), ``waiting_on_user`` (the user's turn),
``resolved``, ``closed``. See docs/support.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from plutarc_contracts.envelope import Payload, UtcDateTime
from plutarc_contracts.registry import Registry
from plutarc_contracts.topics import FOREVER, ContextTopics, Topic, declare_context

SUPPORT = "support"
NOTES_TOPIC = "support.notes.v1"

SUBJECT_MAX = 200
BODY_MAX = 20_000
LINKS_MAX = 20

Category = Literal["account", "billing", "bots", "exchange_connections", "compute", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "waiting_on_user", "resolved", "closed"]
Side = Literal["user", "operator"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
PRIORITIES: tuple[str, ...] = Priority.__args__  # type: ignore[attr-defined]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=SUBJECT_MAX)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=BODY_MAX)]
LinkIds = Annotated[list[Id], msgspec.Meta(max_length=LINKS_MAX)]


class TicketLinks(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a ticket is about: ids that later services resolve (bots, compute hosts, orders)."""

    bot_ids: LinkIds = []
    host_ids: LinkIds = []
    order_ids: LinkIds = []


# --- events (support.events.v1) ---------------------------------------------------------------------
class TicketOpened(Payload, frozen=True, kw_only=True):
    """A ticket was opened by a workspace member. ``follow_up_of`` names the earlier ticket when a
    reply to a ticket closed for good opened this one (that ticket records `follow_up_opened`)."""

    workspace_id: Id
    ticket_id: Id
    opened_by: Id
    subject: Subject
    body: Body
    category: Category
    priority: Priority
    links: TicketLinks = TicketLinks()
    follow_up_of: Id | None = None


class MessagePosted(Payload, frozen=True, kw_only=True):
    """A public message in the thread; the only thing that resets the inactivity clock."""

    workspace_id: Id
    ticket_id: Id
    message_id: Id
    author: Id
    side: Side
    body: Body


class TicketAssigned(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    ticket_id: Id
    operator_id: Id
    previous_operator_id: Id | None = None


class TicketStatusChanged(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    ticket_id: Id
    previous_status: Status
    status: Status


class TicketReopened(Payload, frozen=True, kw_only=True):
    """A user's reply (``message_id``, posted right after) reopened a resolved or auto-closed
    ticket within the reopen period; the ticket is ``open`` again."""

    workspace_id: Id
    ticket_id: Id
    previous_status: Status
    message_id: Id


class FollowUpOpened(Payload, frozen=True, kw_only=True):
    """A reply to this ticket, closed for good, opened ``follow_up_ticket_id`` instead."""

    workspace_id: Id
    ticket_id: Id
    follow_up_ticket_id: Id
    message_id: Id


class AutoCloseWarningSent(Payload, frozen=True, kw_only=True):
    """Nobody wrote since ``last_activity_at`` while the ticket waited on its user: it closes at
    ``closes_at`` unless someone writes first."""

    workspace_id: Id
    ticket_id: Id
    last_activity_at: UtcDateTime
    closes_at: UtcDateTime


class TicketAutoClosed(Payload, frozen=True, kw_only=True):
    """Closed for inactivity (status becomes ``closed``); a reply within the reopen period
    reopens it."""

    workspace_id: Id
    ticket_id: Id
    last_activity_at: UtcDateTime


class OperatorGranted(Payload, frozen=True, kw_only=True):
    """A user became a support operator (platform-level, not a workspace role)."""

    user_id: Id
    granted_by: str


class OperatorRevoked(Payload, frozen=True, kw_only=True):
    user_id: Id
    revoked_by: str


# --- private events (support.notes.v1) ----------------------------------------------------------------
class InternalNoteAdded(Payload, frozen=True, kw_only=True):
    """An operator-only note on a ticket: never on a topic, view or message a user reads."""

    workspace_id: Id
    ticket_id: Id
    note_id: Id
    author: Id
    body: Body


# --- commands (support.commands.v1) ---------------------------------------------------------------------
class OpenTicket(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    ticket_id: Id
    subject: Subject
    body: Body
    category: Category
    priority: Priority = "normal"
    links: TicketLinks = TicketLinks()


class PostMessage(Payload, frozen=True, kw_only=True):
    """``side`` user: a member with `support:create`; operator: a support operator."""

    workspace_id: Id
    ticket_id: Id
    message_id: Id
    body: Body
    side: Side = "user"


class AssignTicket(Payload, frozen=True, kw_only=True):
    """Operators only; ``operator_id`` must be an operator."""

    workspace_id: Id
    ticket_id: Id
    operator_id: Id


class ChangeTicketStatus(Payload, frozen=True, kw_only=True):
    """Operators set any status; a member with `support:create` may resolve or close."""

    workspace_id: Id
    ticket_id: Id
    status: Status


class AddInternalNote(Payload, frozen=True, kw_only=True):
    """Operators only."""

    workspace_id: Id
    ticket_id: Id
    note_id: Id
    body: Body


class GrantOperator(Payload, frozen=True, kw_only=True):
    """Issued by the command line only (actor ``system:cli``)."""

    user_id: Id


class RevokeOperator(Payload, frozen=True, kw_only=True):
    """Issued by the command line only (actor ``system:cli``)."""

    user_id: Id


class InactiveTicket(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    workspace_id: Id
    ticket_id: Id
    last_activity_at: UtcDateTime


InactiveTickets = Annotated[list[InactiveTicket], msgspec.Meta(min_length=1, max_length=1000)]


class WarnInactiveTickets(Payload, frozen=True, kw_only=True):
    """Issued by the support service's own timer (actor ``system:support``), never by users."""

    tickets: InactiveTickets
    close_after_seconds: Annotated[int, msgspec.Meta(ge=1)]
    notice_seconds: Annotated[int, msgspec.Meta(ge=0)]
    """The warning says the ticket closes at the later of ``last_activity_at`` plus
    ``close_after_seconds`` and the warning plus ``notice_seconds``: a user is always warned
    at least that long before."""


class CloseInactiveTickets(Payload, frozen=True, kw_only=True):
    """Issued by the support service's own timer (actor ``system:support``), never by users."""

    tickets: InactiveTickets


EVENTS: dict[str, type[msgspec.Struct]] = {
    "support.ticket_opened": TicketOpened,
    "support.message_posted": MessagePosted,
    "support.ticket_assigned": TicketAssigned,
    "support.ticket_status_changed": TicketStatusChanged,
    "support.ticket_reopened": TicketReopened,
    "support.follow_up_opened": FollowUpOpened,
    "support.auto_close_warning_sent": AutoCloseWarningSent,
    "support.ticket_auto_closed": TicketAutoClosed,
    "support.operator_granted": OperatorGranted,
    "support.operator_revoked": OperatorRevoked,
    "support.internal_note_added": InternalNoteAdded,
}

# Operator-only events: routed to the private notes topic.
NOTE_EVENTS = frozenset({"support.internal_note_added"})
# A note's text is redacted in audit exports too: an export may be handed to a workspace.
SECRET_FIELDS: dict[str, frozenset[str]] = {"support.internal_note_added": frozenset({"body"})}

COMMANDS: dict[str, type[msgspec.Struct]] = {
    "support.open_ticket": OpenTicket,
    "support.post_message": PostMessage,
    "support.assign_ticket": AssignTicket,
    "support.change_ticket_status": ChangeTicketStatus,
    "support.add_internal_note": AddInternalNote,
    "support.grant_operator": GrantOperator,
    "support.revoke_operator": RevokeOperator,
    "support.warn_inactive_tickets": WarnInactiveTickets,
    "support.close_inactive_tickets": CloseInactiveTickets,
}


def register_support_types(registry: Registry) -> Registry:
    for name, cls in EVENTS.items():
        registry.register_event(name, {1: cls}, secret_fields=SECRET_FIELDS.get(name, ()))
    for name, cls in COMMANDS.items():
        registry.register_command(name, {1: cls})
    return registry


def support_topics() -> ContextTopics:
    """The support context's topics: the one place they are declared."""
    return declare_context(
        SUPPORT,
        description="tickets, threads, assignment, statuses, auto-close, operators",
        private=[
            Topic(
                name=NOTES_TOPIC,
                retention_ms=FOREVER,
                description="operator-only internal notes on tickets; read by support and the "
                "gateway API, which serves them on operator routes only",
                private=True,
                readers=("support", "api"),
            ),
        ],
        routes={NOTES_TOPIC: sorted(NOTE_EVENTS)},
    )


def is_user_visible(type_name: str) -> bool:
    """Whether an event type may reach a ticket's user (anything not routed to the notes topic)."""
    return type_name.startswith(f"{SUPPORT}.") and type_name not in NOTE_EVENTS
