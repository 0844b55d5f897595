"""The reminder aggregate."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

import msgspec
from plutarc_runtime.domain import Aggregate, Conflict

from . import contracts as r


class AlreadyFired(Conflict):
    code = "reminders.already_fired"


class Reminder(Aggregate):
    stream_type: ClassVar[str] = "reminders.reminder"
    workspace_id: str
    reminder_id: str
    text: str
    due_at: datetime
    fired: bool
    notes: list[str]

    @classmethod
    def set(
        cls, workspace_id: str, reminder_id: str, text: str, due_at: datetime, at: datetime
    ) -> Reminder:
        reminder = cls(UUID(reminder_id))
        reminder._trigger(
            r.ReminderSet(
                workspace_id=workspace_id, reminder_id=reminder_id, text=text, due_at=due_at
            ),
            at,
        )
        return reminder

    def add_note(self, note: str, at: datetime) -> None:
        self._trigger(
            r.NoteAdded(workspace_id=self.workspace_id, reminder_id=self.reminder_id, note=note),
            at,
        )

    def fire(self, at: datetime) -> bool:
        if self.fired or self.due_at > at:
            return False
        self._trigger(
            r.ReminderFired(
                workspace_id=self.workspace_id, reminder_id=self.reminder_id, text=self.text
            ),
            at,
        )
        return True

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case r.ReminderSet():
                self.workspace_id, self.reminder_id = payload.workspace_id, payload.reminder_id
                self.text, self.due_at, self.fired, self.notes = (
                    payload.text,
                    payload.due_at,
                    False,
                    [],
                )
            case r.NoteAdded():
                self.notes.append(payload.note)
            case r.ReminderFired():
                self.fired = True
