"""A reaction to the service's own event sees the aggregate that recorded it (its state after the
command), so it can decide from more than the event (a reply on an urgent ticket pages)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from plutarc_access import Memberships
from plutarc_runtime.handling import Intent, Occurred
from plutarc_testkit.harness import Harness

from .reminders import contracts as r
from .reminders.bootstrap import build
from .reminders.domain import Reminder
from .test_service_shape import ENGINE, set_reminder, workspace_events


def test_the_reaction_gets_the_aggregate(tmp_path: Path) -> None:
    seen: list[Occurred] = []

    def page(e: Occurred) -> list[Intent]:
        seen.append(e)
        assert isinstance(e.aggregate, Reminder)
        return [Intent("pager", key=e.stream_id, body={"text": e.aggregate.text})]

    memberships, ws = Memberships(ENGINE), str(uuid4())
    for env in workspace_events(ws):
        memberships.apply(env)
    spec = dataclasses.replace(build(memberships, {}), reactions={r.ReminderFired: page})
    h = Harness(spec, sqlite_path=tmp_path / "r.sqlite")
    try:
        h.ok("user:alice", set_reminder(ws, h.clock.now(), text="hedge"))
        h.advance(timedelta(minutes=1))
        (occurred,) = seen
        reminder: Any = occurred.aggregate
        assert reminder.fired and reminder.text == "hedge"
        assert [i.body for i in h.intents()] == [{"text": "hedge"}]
    finally:
        h.close()
