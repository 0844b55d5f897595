"""Handlers by command class; each authorizes through ctx.require, then lets the aggregate decide."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from plutarc_runtime.domain import Conflict
from plutarc_runtime.handling import Accepted, Context, Handler

from . import contracts as r
from .domain import Reminder


def set_reminder(p: r.SetReminder, ctx: Context) -> Accepted:
    ctx.require(p.workspace_id, "bots:update")
    if ctx.store.find(Reminder, UUID(p.reminder_id)) is not None:
        raise Conflict("this reminder exists", code="reminders.exists")
    return Accepted([Reminder.set(p.workspace_id, p.reminder_id, p.text, p.due_at, ctx.now)])


def add_note(p: r.AddNote, ctx: Context) -> Accepted:
    ctx.require(p.workspace_id, "support:read")
    reminder = ctx.store.get(Reminder, UUID(p.reminder_id))
    reminder.add_note(p.note, ctx.now)
    return Accepted([reminder])


def fire_reminders(p: r.FireReminders, ctx: Context) -> Accepted:
    ctx.require_system(r.CONTEXT)
    fired = [
        m for m in (ctx.store.get(Reminder, UUID(i)) for i in p.reminder_ids) if m.fire(ctx.now)
    ]
    return Accepted(fired, {"fired": len(fired)})


HANDLERS: dict[type[Any], Handler] = {
    r.SetReminder: set_reminder,
    r.AddNote: add_note,
    r.FireReminders: fire_reminders,
}
