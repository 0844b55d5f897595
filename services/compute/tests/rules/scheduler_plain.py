"""The scheduler as the rule tests read it: its commands without their `generation` (how many
windows the bot had published), which only keeps a timer's content-derived command ids apart
and is tested on its own (test_scheduler.py, `test_each_window_s_commands_are_commands_of_their_own`)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from plutarc_compute.scheduler import Scheduler as Real
from plutarc_contracts import Payload


class Scheduler(Real):
    def decide(self, now: datetime) -> list[Payload]:
        return [
            msgspec.structs.replace(p, generation=0) if hasattr(p, "generation") else p
            for p in super().decide(now)
        ]
