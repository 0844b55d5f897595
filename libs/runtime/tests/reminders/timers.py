"""A read model of reminders not yet fired, and the timer that fires the due ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from plutarc_runtime.timers import ReadModels, Timer

from . import contracts as r


class Unfired:
    def __init__(self) -> None:
        self.due: dict[str, datetime] = {}

    def apply(self, env: Any) -> None:
        match env.payload:
            case r.ReminderSet(reminder_id=rid, due_at=due_at):
                self.due[rid] = due_at
            case r.ReminderFired(reminder_id=rid):
                self.due.pop(rid, None)


def fire_due(now: datetime, models: ReadModels) -> list[r.FireReminders]:
    due = sorted(rid for rid, at in models.get(Unfired).due.items() if at <= now)
    return [r.FireReminders(reminder_ids=due)] if due else []


TIMERS = [Timer("fire-reminders", timedelta(minutes=1), fire_due)]
