"""What the gateway decides from besides its own aggregates: the bots, followed from the bots
service's events (`Bots`, replayed from ``bots.events.v1`` at each start like memberships), and
workspaces' risk defaults (plutarc_access.workspaces). An order is routed by the mode the bot has
here; the limits in force are the bot's capped by its workspace's (`effective_limits`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plutarc_contracts import Envelope
from plutarc_contracts import bots as b


@dataclass(slots=True)
class BotInfo:
    workspace_id: str
    version: int
    config: b.BotConfig
    mode: str
    running: bool = False
    deleted: bool = False


class Bots:
    """Each bot's configuration version, mode and desired state."""

    def __init__(self) -> None:
        self.bots: dict[str, BotInfo] = {}
        self.positions: dict[str, int] = {}

    def apply(self, env: Envelope) -> bool:
        if env.stream_position <= self.positions.get(env.stream_id, 0):
            return False  # a duplicate from a republishing relay
        p: Any = env.payload
        match p:
            case b.BotCreated() | b.BotReconfigured() | b.BotModeChanged():
                found = self.bots.get(p.bot_id)
                running = found.running if found is not None else False
                self.bots[p.bot_id] = BotInfo(p.workspace_id, p.version, p.config, p.mode, running)
            case b.BotStarted() | b.BotStopped():
                if (bot := self.bots.get(p.bot_id)) is not None:
                    bot.running = isinstance(p, b.BotStarted)
            case b.BotDeleted():
                if (bot := self.bots.get(p.bot_id)) is not None:
                    bot.deleted, bot.running = True, False
            case _:
                return False
        self.positions[env.stream_id] = env.stream_position
        return True

    def get(self, bot_id: str) -> BotInfo | None:
        return self.bots.get(bot_id)
