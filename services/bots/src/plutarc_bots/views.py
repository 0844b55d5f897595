"""The views the bots service decides from, beside its aggregates.

`Library` is a read model of the service's own events (`ServiceSpec.read_models`): which bots pin
which strategy (a strategy in use is not deleted), and each running bot's sessions with the instant
its published trading window needs computing again (`Deadlines`), for the window timer.
`Workspaces` (plutarc_access.workspaces) is a projection of `identity.events.v1` (replayed at each
start, like memberships): each workspace's risk defaults and whether it is archived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plutarc_access.workspaces import Workspaces
from plutarc_contracts import bots as b
from plutarc_runtime.timers import Deadlines

from .sessions import Calendar

NOW = datetime(1970, 1, 1, tzinfo=UTC)
"""A deadline already passed: the bot's window is computed at the next pass."""


@dataclass(slots=True)
class BotView:
    workspace_id: str
    version: int
    sessions: b.TradingSessions
    strategy_id: str
    running: bool = False
    window: tuple[int, datetime, datetime | None] | None = None


class Library:
    event_types = frozenset(
        {
            "bots.bot_created",
            "bots.bot_reconfigured",
            "bots.bot_mode_changed",
            "bots.bot_started",
            "bots.bot_stopped",
            "bots.bot_deleted",
            "bots.trading_window_scheduled",
            "bots.trading_window_cleared",
        }
    )

    def __init__(self, calendar: Calendar | None = None) -> None:
        self.calendar = calendar
        """The timer's calendar: each version's sessions are compiled into it as they arrive."""
        self.bots: dict[str, BotView] = {}
        self.pins: dict[str, set[str]] = {}
        """strategy id -> the bots (not deleted) that pin one of its versions."""
        self.windows = Deadlines()
        """Running bots, due when their published window ends or their version changed."""
        self.running: dict[str, set[str]] = {}
        """workspace id -> its running bots."""

    def apply(self, env: Any) -> None:
        p = env.payload
        match p:
            case b.BotCreated() | b.BotReconfigured() | b.BotModeChanged():
                self._configure(p)
            case b.BotStarted():
                self.bots[p.bot_id].running = True
                self.running.setdefault(p.workspace_id, set()).add(p.bot_id)
                self.windows.set(p.bot_id, NOW)
            case b.BotStopped():
                self.bots[p.bot_id].running = False
                self._not_running(p.workspace_id, p.bot_id)
            case b.BotDeleted():
                view = self.bots.pop(p.bot_id)
                self.pins.get(view.strategy_id, set()).discard(p.bot_id)
                self._not_running(p.workspace_id, p.bot_id)
            case b.TradingWindowScheduled():
                view = self.bots[p.bot_id]
                view.window = (p.version, p.starts_at, p.ends_at)
                self._arm(p.bot_id, view)
            case b.TradingWindowCleared():
                self.bots[p.bot_id].window = None
                self.windows.drop(p.bot_id)

    def _configure(self, p: b.BotCreated | b.BotReconfigured | b.BotModeChanged) -> None:
        strategy_id = p.config.strategy.strategy_id
        view = self.bots.get(p.bot_id)
        if view is None:
            view = self.bots[p.bot_id] = BotView(
                p.workspace_id, p.version, p.config.sessions, strategy_id
            )
        else:
            self.pins.get(view.strategy_id, set()).discard(p.bot_id)
            view.version, view.sessions, view.strategy_id = (
                p.version,
                p.config.sessions,
                strategy_id,
            )
        self.pins.setdefault(strategy_id, set()).add(p.bot_id)
        if self.calendar is not None:
            self.calendar.prepare(view.sessions)
        if view.running:
            self.windows.set(p.bot_id, NOW)  # a new version: its window is published again

    def _not_running(self, workspace_id: str, bot_id: str) -> None:
        self.windows.drop(bot_id)
        running = self.running.get(workspace_id)
        if running is not None:
            running.discard(bot_id)
            if not running:
                del self.running[workspace_id]

    def _arm(self, bot_id: str, view: BotView) -> None:
        """Compute again when the published window ends (never, for an always-on bot)."""
        end = view.window[2] if view.window is not None else None
        if end is None:
            self.windows.drop(bot_id)
        else:
            self.windows.set(bot_id, end)

    def rearm(self, bot_id: str) -> None:
        """The timer found the window already published: wait for its end again."""
        self._arm(bot_id, self.bots[bot_id])

    def settle(self, bot_id: str) -> None:
        """The timer found nothing to publish for this bot (no window can ever occur)."""
        self.windows.drop(bot_id)

    def pinned_by(self, strategy_id: str) -> set[str]:
        return self.pins.get(strategy_id, set())

    def running_in(self, workspace_id: str) -> list[str]:
        return sorted(self.running.get(workspace_id, ()))


__all__ = ["Library", "Workspaces"]
