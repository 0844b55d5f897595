"""The reminders context's contracts: its events, commands and topics (one declaration)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from plutarc_contracts import Payload, Registry, Topic, UtcDateTime, default_registry
from plutarc_contracts.topics import FOREVER, SEVEN_DAYS_MS

CONTEXT = "reminders"
PRIVATE_TOPIC = "reminders.private.v1"
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ReminderSet(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    reminder_id: Id
    text: str
    due_at: UtcDateTime


class ReminderFired(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    reminder_id: Id
    text: str


class NoteAdded(Payload, frozen=True, kw_only=True):
    """Private: travels on the private topic only."""

    workspace_id: Id
    reminder_id: Id
    note: str


class SetReminder(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    reminder_id: Id
    text: str
    due_at: UtcDateTime


class AddNote(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    reminder_id: Id
    note: str


class FireReminders(Payload, frozen=True, kw_only=True):
    reminder_ids: list[str]


ROUTES = {"reminders.note_added": PRIVATE_TOPIC}


def registry() -> Registry:
    own = Registry()
    own.register_event("reminders.reminder_set", {1: ReminderSet})
    own.register_event("reminders.reminder_fired", {1: ReminderFired})
    own.register_event("reminders.note_added", {1: NoteAdded})
    own.register_command("reminders.set_reminder", {1: SetReminder})
    own.register_command("reminders.add_note", {1: AddNote})
    own.register_command("reminders.fire_reminders", {1: FireReminders})
    return default_registry().merge(own).freeze()


def topics() -> list[Topic]:
    return [
        Topic(name=f"{CONTEXT}.events.v1", retention_ms=FOREVER, description="reminders"),
        Topic(name=f"{CONTEXT}.commands.v1", retention_ms=SEVEN_DAYS_MS, description="commands"),
        Topic(name=PRIVATE_TOPIC, retention_ms=FOREVER, description="notes: operators only"),
    ]
