"""Support's aggregates, one per file, and their errors."""

from . import errors
from .ids import follow_up_id, notes_id, operator_id, parse_id
from .notes import TicketNotes
from .operator import Operator
from .ticket import Ticket

STREAM_TYPES = [Ticket, TicketNotes, Operator]

__all__ = [
    "STREAM_TYPES",
    "Operator",
    "Ticket",
    "TicketNotes",
    "errors",
    "follow_up_id",
    "notes_id",
    "operator_id",
    "parse_id",
]
