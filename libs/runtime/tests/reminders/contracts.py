"""The reminders context's contracts: its events, commands and topics (one declaration)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from plutarc_contracts import (
    ContextTopics,
    Payload,
    Registry,
    Topic,
    UtcDateTime,
    declare_context,
    default_registry,
)
from plutarc_contracts.topics import FOREVER

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


def topics() -> ContextTopics:
    """The context's one declaration of its topics: notes go to a private topic only `ops` reads."""
    return declare_context(
        CONTEXT,
        description="reminders set, fired",
        private=[
            Topic(
                name=PRIVATE_TOPIC,
                retention_ms=FOREVER,
                description="reminder notes, for operators only",
                private=True,
                readers=("ops",),
            )
        ],
        routes={PRIVATE_TOPIC: ["reminders.note_added"]},
    )


def registry() -> Registry:
    own = Registry()
    own.register_event("reminders.reminder_set", {1: ReminderSet})
    own.register_event("reminders.reminder_fired", {1: ReminderFired})
    own.register_event("reminders.note_added", {1: NoteAdded}, secret_fields=())
    own.register_command("reminders.set_reminder", {1: SetReminder})
    own.register_command("reminders.add_note", {1: AddNote})
    own.register_command("reminders.fire_reminders", {1: FireReminders})
    return default_registry().merge(own).freeze()
