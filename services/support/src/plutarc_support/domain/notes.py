"""A ticket's internal notes, written and read by operators only.

A stream of its own (`notes_id(ticket_id)`), not events of the ticket: nothing that folds or reads
a ticket's stream for its user ever meets a note, and its one event type is routed to the private
`support.notes.v1` topic.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import msgspec
from plutarc_contracts import support as s
from plutarc_runtime.domain import Aggregate

from . import errors
from .ids import notes_id


class TicketNotes(Aggregate):
    stream_type: ClassVar[str] = "support.ticket_notes"
    workspace_id: str
    ticket_id: str
    note_ids: list[str]

    @classmethod
    def start(cls, workspace_id: str, ticket_id: str) -> TicketNotes:
        notes = cls(notes_id(ticket_id))
        notes.workspace_id, notes.ticket_id, notes.note_ids = workspace_id, ticket_id, []
        return notes

    def add(self, note_id: str, author: str, body: str, at: datetime) -> None:
        if note_id in self.note_ids:
            raise errors.DuplicateId(f"note {note_id} is already on this ticket")
        self._trigger(
            s.InternalNoteAdded(
                workspace_id=self.workspace_id,
                ticket_id=self.ticket_id,
                note_id=note_id,
                author=author,
                body=body,
            ),
            at,
        )

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case s.InternalNoteAdded():
                self.workspace_id, self.ticket_id = payload.workspace_id, payload.ticket_id
                if self.version == 0:
                    self.note_ids = []
                self.note_ids.append(payload.note_id)
