"""Reactions by event class: a fired reminder pages the workspace (through the `pager` adapter)."""

from __future__ import annotations

from typing import Any

from plutarc_runtime.handling import Intent, Occurred, Reaction

from . import contracts as r


def page_on_fire(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, r.ReminderFired)
    return [Intent("pager", key=f"fired:{p.reminder_id}", body={"text": p.text})]


REACTIONS: dict[type[Any], Reaction] = {r.ReminderFired: page_on_fire}
