"""A bot: its versioned configuration, its mode, its desired state and its next trading window.

Every change of configuration or mode is the next version, and the event that makes it carries the
whole configuration in force from then on (`bots.VERSIONED`): the version in force at any instant
is the last such event before it, with nothing else to fold. A mode change copies the previous
configuration as it is, so the strategy and its parameters are byte-identical on either side.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

import msgspec
from plutarc_contracts import bots as b
from plutarc_runtime.domain import Aggregate

from . import errors

CONFIG_FIELDS: tuple[str, ...] = b.BotConfig.__struct_fields__


def changed_fields(before: b.BotConfig, after: b.BotConfig) -> list[str]:
    """The top-level configuration fields that differ, in declaration order."""
    return [f for f in CONFIG_FIELDS if getattr(before, f) != getattr(after, f)]


class Bot(Aggregate):
    stream_type: ClassVar[str] = "bots.bot"
    workspace_id: str
    bot_id: str
    config_version: int
    config: b.BotConfig
    mode: str
    state: str
    """The desired state: `running` or `stopped`."""
    deleted: bool
    window: tuple[int, datetime, datetime | None] | None
    """The trading window last published (bot version, start, end); None when cleared."""

    @classmethod
    def create(
        cls, *, workspace_id: str, bot_id: UUID, config: b.BotConfig, mode: b.Mode, at: datetime
    ) -> Bot:
        bot = cls(bot_id)
        bot._trigger(
            b.BotCreated(
                workspace_id=workspace_id, bot_id=str(bot_id), version=1, config=config, mode=mode
            ),
            at,
        )
        return bot

    # -- checks -------------------------------------------------------------------------------------
    def check_version(self, expected: int | None) -> None:
        if expected is not None and expected != self.config_version:
            raise errors.VersionMismatch(
                f"bot {self.bot_id} is at version {self.config_version}, not {expected}",
                field="expected_version",
            )

    # -- verbs --------------------------------------------------------------------------------------
    def reconfigure(self, config: b.BotConfig, expected_version: int | None, at: datetime) -> None:
        self.check_version(expected_version)
        changed = changed_fields(self.config, config)
        if not changed:
            raise errors.ConfigUnchanged(f"bot {self.bot_id} already runs this configuration")
        self._trigger(
            b.BotReconfigured(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                version=self.config_version + 1,
                config=config,
                mode=self.mode,  # type: ignore[arg-type]
                changed=changed,
            ),
            at,
        )

    def change_mode(self, mode: b.Mode, expected_version: int | None, at: datetime) -> None:
        self.check_version(expected_version)
        if mode == self.mode:
            raise errors.ModeUnchanged(f"bot {self.bot_id} is already in {mode} mode")
        self._trigger(
            b.BotModeChanged(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                version=self.config_version + 1,
                config=self.config,  # as it is: a mode change changes nothing else
                previous_mode=self.mode,  # type: ignore[arg-type]
                mode=mode,
            ),
            at,
        )

    def start(self, at: datetime) -> None:
        if self.state == "running":
            raise errors.AlreadyRunning(f"bot {self.bot_id} is running")
        self._trigger(
            b.BotStarted(
                workspace_id=self.workspace_id, bot_id=self.bot_id, version=self.config_version
            ),
            at,
        )

    def stop(self, at: datetime, reason: Literal["requested", "workspace_archived"]) -> None:
        if self.state == "stopped":
            raise errors.AlreadyStopped(f"bot {self.bot_id} is stopped")
        self._trigger(
            b.BotStopped(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                version=self.config_version,
                reason=reason,
            ),
            at,
        )
        if self.window is not None:
            self._trigger(
                b.TradingWindowCleared(
                    workspace_id=self.workspace_id, bot_id=self.bot_id, reason="stopped"
                ),
                at,
            )

    def delete(self, at: datetime) -> None:
        if self.state == "running":
            raise errors.BotRunning(f"bot {self.bot_id} is running: stop it first")
        self._trigger(b.BotDeleted(workspace_id=self.workspace_id, bot_id=self.bot_id), at)

    def schedule(self, window: b.ScheduledWindow, at: datetime) -> bool:
        """Publish the window the timer computed for `window.version`, unless the bot moved on
        since (another version, stopped, deleted) or it is the one already published. A new
        version republishes its window even when the times are the same (its end rule or zone
        may differ, and the compute service learns the version in force)."""
        if self.deleted or self.state != "running" or window.version != self.config_version:
            return False
        if window.starts_at is None:
            if self.window is None:
                return False
            self._trigger(
                b.TradingWindowCleared(
                    workspace_id=self.workspace_id, bot_id=self.bot_id, reason="no_windows"
                ),
                at,
            )
            return True
        if self.window == (window.version, window.starts_at, window.ends_at):
            return False
        sessions = self.config.sessions
        self._trigger(
            b.TradingWindowScheduled(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                version=self.config_version,
                starts_at=window.starts_at,
                ends_at=window.ends_at,
                end_rule=sessions.end_rule,
                time_zone=sessions.time_zone,
            ),
            at,
        )
        return True

    # -- fold ---------------------------------------------------------------------------------------
    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case b.BotCreated():
                self.workspace_id, self.bot_id = payload.workspace_id, payload.bot_id
                self.config_version, self.config, self.mode = 1, payload.config, payload.mode
                self.state, self.deleted, self.window = "stopped", False, None
            case b.BotReconfigured() | b.BotModeChanged():
                self.config_version, self.config = payload.version, payload.config
                self.mode = payload.mode
            case b.BotStarted():
                self.state = "running"
            case b.BotStopped():
                self.state = "stopped"
            case b.BotDeleted():
                self.deleted = True
            case b.TradingWindowScheduled():
                self.window = (payload.version, payload.starts_at, payload.ends_at)
            case b.TradingWindowCleared():
                self.window = None
