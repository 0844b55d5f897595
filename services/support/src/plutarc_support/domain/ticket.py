"""The ticket: its thread's bookkeeping, status, assignment and inactivity clock.

Only public messages (the opening body and `message_posted`, from either side) move the inactivity
clock; status changes, assignments, warnings and internal notes (another aggregate) never do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar, Literal
from uuid import UUID

import msgspec
from plutarc_contracts import support as s
from plutarc_runtime.domain import Aggregate

from . import errors
from .ids import follow_up_id

ACTIVE = ("open", "waiting_on_user")
FOLLOW_UP_PREFIX = "Follow-up: "

Reply = Literal["post", "reopen", "follow_up"]


class Ticket(Aggregate):
    stream_type: ClassVar[str] = "support.ticket"
    workspace_id: str
    ticket_id: str
    opened_by: str
    subject: str
    category: str
    priority: str
    links: s.TicketLinks
    follow_up_of: str | None
    status: str
    assignee: str | None
    last_activity_at: datetime
    warned_for: datetime | None
    """The `last_activity_at` the auto-close warning was sent for (a message moves on from it)."""
    closes_at: datetime | None
    ended_at: datetime | None
    """When the ticket was last resolved or closed."""
    ended_by: str | None
    """`resolved`, `closed` (by someone) or `auto_closed`."""
    message_ids: list[str]
    follow_ups: list[str]

    # -- verbs --------------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        workspace_id: str,
        ticket_id: UUID,
        opened_by: str,
        subject: str,
        body: str,
        category: s.Category,
        priority: s.Priority,
        links: s.TicketLinks,
        at: datetime,
        follow_up_of: str | None = None,
    ) -> Ticket:
        ticket = cls(ticket_id)
        ticket._trigger(
            s.TicketOpened(
                workspace_id=workspace_id,
                ticket_id=str(ticket_id),
                opened_by=opened_by,
                subject=subject,
                body=body,
                category=category,
                priority=priority,
                links=links,
                follow_up_of=follow_up_of,
            ),
            at,
        )
        return ticket

    def reply_kind(self, side: s.Side, at: datetime, reopen_within: timedelta) -> Reply:
        """What a message does to this ticket: post in its thread, reopen it first, or (from its
        user, once it is closed for good) open a follow-up instead. Operators write only in an
        active ticket."""
        if self.status in ACTIVE:
            return "post"
        if side == "operator":
            raise errors.TicketClosed(
                f"ticket {self.ticket_id} is {self.status}: set it open before writing in it"
            )
        reopenable = self.ended_by in ("resolved", "auto_closed")
        if reopenable and self.ended_at is not None and at - self.ended_at <= reopen_within:
            return "reopen"
        return "follow_up"

    def post(
        self,
        message_id: str,
        author: str,
        side: s.Side,
        body: str,
        at: datetime,
        reopen_within: timedelta,
    ) -> None:
        """Post a public message, reopening the ticket first if that is what a reply does here.
        Whose turn it is follows the message: a user's reply makes it `open` (operators' turn),
        an operator's makes it `waiting_on_user`."""
        if message_id in self.message_ids:
            raise errors.DuplicateId(f"message {message_id} is already in this ticket")
        kind = self.reply_kind(side, at, reopen_within)
        if kind == "follow_up":
            raise errors.TicketClosed(f"ticket {self.ticket_id} is closed: open a follow-up")
        if kind == "reopen":
            self._trigger(
                s.TicketReopened(
                    workspace_id=self.workspace_id,
                    ticket_id=self.ticket_id,
                    previous_status=self.status,  # type: ignore[arg-type]
                    message_id=message_id,
                ),
                at,
            )
        self._trigger(
            s.MessagePosted(
                workspace_id=self.workspace_id,
                ticket_id=self.ticket_id,
                message_id=message_id,
                author=author,
                side=side,
                body=body,
            ),
            at,
        )
        turn = "open" if side == "user" else "waiting_on_user"
        if self.status != turn:
            self._change_status(turn, at)

    def open_follow_up(self, message_id: str, author: str, body: str, at: datetime) -> Ticket:
        """The user wrote to a ticket closed for good: a new ticket linked to this one, with the
        same category and priority, whose opening body is the reply."""
        if message_id in self.message_ids:
            raise errors.DuplicateId(f"message {message_id} is already in this ticket")
        new_id = follow_up_id(self.ticket_id, message_id)
        subject = self.subject
        if not subject.startswith(FOLLOW_UP_PREFIX):
            subject = (FOLLOW_UP_PREFIX + subject)[: s.SUBJECT_MAX]
        follow_up = Ticket.open(
            workspace_id=self.workspace_id,
            ticket_id=UUID(new_id),
            opened_by=author,
            subject=subject,
            body=body,
            category=self.category,  # type: ignore[arg-type]
            priority=self.priority,  # type: ignore[arg-type]
            links=self.links,
            at=at,
            follow_up_of=self.ticket_id,
        )
        self._trigger(
            s.FollowUpOpened(
                workspace_id=self.workspace_id,
                ticket_id=self.ticket_id,
                follow_up_ticket_id=new_id,
                message_id=message_id,
            ),
            at,
        )
        return follow_up

    def assign(self, operator_id: str, at: datetime) -> None:
        if self.assignee == operator_id:
            raise errors.AlreadyAssigned(f"ticket {self.ticket_id} is assigned to {operator_id}")
        self._trigger(
            s.TicketAssigned(
                workspace_id=self.workspace_id,
                ticket_id=self.ticket_id,
                operator_id=operator_id,
                previous_operator_id=self.assignee,
            ),
            at,
        )

    def change_status(self, status: s.Status, at: datetime) -> None:
        if status == self.status:
            raise errors.StatusUnchanged(f"ticket {self.ticket_id} is already {status}")
        self._change_status(status, at)

    def _change_status(self, status: str, at: datetime) -> None:
        self._trigger(
            s.TicketStatusChanged(
                workspace_id=self.workspace_id,
                ticket_id=self.ticket_id,
                previous_status=self.status,  # type: ignore[arg-type]
                status=status,  # type: ignore[arg-type]
            ),
            at,
        )

    def warn_inactive(
        self, last_activity_at: datetime, close_after: timedelta, notice: timedelta, at: datetime
    ) -> bool:
        """Warn the user that this ticket closes soon, if it still waits on them since exactly
        `last_activity_at` and was not warned for that silence yet. It closes at the later of
        `last_activity_at + close_after` and `at + notice`: never without notice."""
        if not self._inactive_since(last_activity_at) or self.warned_for == last_activity_at:
            return False
        self._trigger(
            s.AutoCloseWarningSent(
                workspace_id=self.workspace_id,
                ticket_id=self.ticket_id,
                last_activity_at=last_activity_at,
                closes_at=max(last_activity_at + close_after, at + notice),
            ),
            at,
        )
        return True

    def auto_close(self, last_activity_at: datetime, at: datetime) -> bool:
        """Close for inactivity: only the silence the user was warned about, once it is due."""
        if (
            not self._inactive_since(last_activity_at)
            or self.warned_for != last_activity_at
            or self.closes_at is None
            or at < self.closes_at
        ):
            return False
        self._trigger(
            s.TicketAutoClosed(
                workspace_id=self.workspace_id,
                ticket_id=self.ticket_id,
                last_activity_at=last_activity_at,
            ),
            at,
        )
        return True

    def _inactive_since(self, last_activity_at: datetime) -> bool:
        return self.status == "waiting_on_user" and self.last_activity_at == last_activity_at

    # -- fold -----------------------------------------------------------------------------------------
    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case s.TicketOpened():
                self.workspace_id, self.ticket_id = payload.workspace_id, payload.ticket_id
                self.opened_by, self.subject = payload.opened_by, payload.subject
                self.category, self.priority = payload.category, payload.priority
                self.links, self.follow_up_of = payload.links, payload.follow_up_of
                self.status, self.assignee = "open", None
                self.last_activity_at, self.warned_for, self.closes_at = at, None, None
                self.ended_at, self.ended_by = None, None
                self.message_ids, self.follow_ups = [], []
            case s.MessagePosted():
                self.message_ids.append(payload.message_id)
                self.last_activity_at = at
            case s.TicketStatusChanged():
                self.status = payload.status
                if payload.status in ("resolved", "closed"):
                    self.ended_at, self.ended_by = at, payload.status
            case s.TicketReopened():
                self.status = "open"
            case s.TicketAssigned():
                self.assignee = payload.operator_id
            case s.FollowUpOpened():
                self.message_ids.append(payload.message_id)
                self.follow_ups.append(payload.follow_up_ticket_id)
            case s.AutoCloseWarningSent():
                self.warned_for, self.closes_at = payload.last_activity_at, payload.closes_at
            case s.TicketAutoClosed():
                self.status, self.ended_at, self.ended_by = "closed", at, "auto_closed"
