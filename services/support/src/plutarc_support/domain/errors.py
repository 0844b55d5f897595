"""Support's domain errors. Each code is stable: it travels in rejection replies and HTTP problems;
each base class (NotFound, Forbidden, Conflict, Invalid) is the rejection's kind."""

from __future__ import annotations

from plutarc_runtime.domain import Conflict, Forbidden, Invalid, NotFound


class InvalidInput(Invalid):
    code = "support.invalid_input"


class TicketNotFound(NotFound):
    """No such ticket in this workspace (another workspace's ticket looks like none at all)."""

    code = "support.ticket_not_found"


class TicketExists(Conflict):
    code = "support.ticket_exists"


class DuplicateId(Conflict):
    """A message or note id already used on this ticket."""

    code = "support.duplicate_id"


class TicketClosed(Conflict):
    """Operators reopen a resolved or closed ticket (status `open`) before writing in it."""

    code = "support.ticket_closed"


class StatusUnchanged(Conflict):
    code = "support.status_unchanged"


class AlreadyAssigned(Conflict):
    code = "support.already_assigned"


class StatusNotAllowed(Forbidden):
    """Users may resolve or close their tickets; other statuses are the operators' to set."""

    code = "support.status_not_allowed"


class NotAnOperator(Forbidden):
    code = "support.not_an_operator"


class UnknownOperator(NotFound):
    """Assigning a ticket to someone who is not an operator."""

    code = "support.unknown_operator"


class AlreadyOperator(Conflict):
    code = "support.already_operator"
