"""Bots contracts: the strategy library, bots and their versions, trading sessions, risk limits.

A **strategy** belongs to one workspace and is a list of versions; a version is immutable and names
its components (signals, entry and exit rules, one position sizer) with their parameters as data.
The bots service validates each component's parameters against that component's typed
configuration; the wire keeps them as a JSON object so that adding a component changes no schema.

A **bot** pins a strategy version, a market, a venue connection (an id: credentials never leave the
exchange gateway), a mode (``paper``, ``testnet``, ``live``), trading sessions and risk limits.
Every change of any of these is a new bot version; each versioned event carries the full
configuration in force from then on, so the version at any instant replays from the events alone,
and a mode change carries a configuration byte-identical to the one before.

Trading sessions are weekly windows in an IANA time zone (or always on); the service publishes
each bot's next window (``bots.trading_window_scheduled``) for the compute service.
See docs/bots.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from plutarc_contracts.envelope import Payload, UtcDateTime
from plutarc_contracts.registry import Registry
from plutarc_contracts.topics import ContextTopics, declare_context

BOTS = "bots"

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=2000)]
Money = Annotated[str, msgspec.Meta(pattern=r"^\d{1,15}(\.\d{1,8})?$")]
"""A non-negative decimal amount in the market's quote currency, as a string."""
Version = Annotated[int, msgspec.Meta(ge=1)]

Venue = Literal[
    "binance",
    "bybit",
    "okx",
    "kucoin",
    "deribit",
    "gemini",
    "phemex",
    "bitmex",
    "kraken",
    "coinbase",
]
VENUES: tuple[str, ...] = Venue.__args__  # type: ignore[attr-defined]
MarketKind = Literal["spot", "perpetual"]
Mode = Literal["paper", "testnet", "live"]
MODES: tuple[str, ...] = Mode.__args__  # type: ignore[attr-defined]
DesiredState = Literal["running", "stopped"]
Timeframe = Literal["1m", "5m", "15m", "1h", "4h", "1d"]
Symbol = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}(:[A-Z0-9]{1,20})?$", max_length=64)
]
"""ccxt's unified symbol: ``BTC/USDT`` (spot) or ``BTC/USDT:USDT`` (a perpetual settled in USDT)."""
ComponentName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,47}$")]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]
LocalTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
"""A wall-clock time ``HH:MM`` (24 h) in the sessions' time zone."""
EndRule = Literal["stop_entries", "flatten", "hold"]
"""What a bot does when a window ends: stop opening positions (exits still run), close everything,
or keep positions and orders as they are."""
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


# --- shared shapes --------------------------------------------------------------------------------------
class _Shape(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class ComponentRef(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One building block of a strategy: a component by name and its parameters (validated by the
    bots service against the component's typed configuration)."""

    component: ComponentName
    params: dict[str, Any] = {}

    @classmethod
    def example(cls) -> ComponentRef:
        return cls(component="ma_crossover", params={"fast": 9, "slow": 21, "kind": "ema"})


class StrategySpec(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a strategy version computes: candles of ``timeframe`` in, order intents out."""

    timeframe: Timeframe
    components: Annotated[list[ComponentRef], msgspec.Meta(min_length=1, max_length=12)]


class SessionWindow(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A weekly window: on each of ``days``, from ``start`` to ``end`` local time. ``end`` earlier
    than (or equal to) ``start`` is allowed only with ``overnight`` (it ends the next day)."""

    days: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    start: LocalTime
    end: LocalTime
    overnight: bool = False

    @classmethod
    def example(cls) -> SessionWindow:
        return cls(days=["mon", "tue", "wed", "thu", "fri"], start="08:00", end="16:30")


class TradingSessions(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a bot trades: ``always_on``, or the ``windows`` read in ``time_zone``."""

    time_zone: TimeZone = "UTC"
    always_on: bool = True
    windows: Annotated[list[SessionWindow], msgspec.Meta(max_length=28)] = []
    end_rule: EndRule = "stop_entries"

    @classmethod
    def example(cls) -> TradingSessions:
        return cls(
            time_zone="Europe/London",
            always_on=False,
            windows=[SessionWindow.example()],
            end_rule="flatten",
        )


class RiskLimits(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A bot's own limits; ``None`` takes the workspace's. Never above the workspace's."""

    max_order_notional: Money | None = None
    max_position: Money | None = None
    max_open_orders: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    daily_loss_limit: Money | None = None

    @classmethod
    def example(cls) -> RiskLimits:
        return cls(
            max_order_notional="1000",
            max_position="5000.5",
            max_open_orders=10,
            daily_loss_limit="250",
        )


class MarketRef(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    venue: Venue
    symbol: Symbol
    kind: MarketKind = "spot"

    @classmethod
    def example(cls) -> MarketRef:
        return cls(venue="binance", symbol="BTC/USDT", kind="spot")


class PinnedStrategy(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    strategy_id: Id
    version: Version


class BotConfig(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything a bot runs with, except its mode and desired state."""

    name: Name
    strategy: PinnedStrategy
    market: MarketRef
    connection_id: Id | None = None
    sessions: TradingSessions = TradingSessions()
    risk: RiskLimits = RiskLimits()


class StrategyOrigin(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    workspace_id: Id
    strategy_id: Id
    version: Version


# --- events (bots.events.v1) --------------------------------------------------------------------------
class StrategyCreated(Payload, frozen=True, kw_only=True):
    """A strategy and its version 1. ``copied_from`` names the version it was copied from."""

    workspace_id: Id
    strategy_id: Id
    name: Name
    description: Description = ""
    spec: StrategySpec
    created_by: str
    copied_from: StrategyOrigin | None = None


class StrategyVersionPublished(Payload, frozen=True, kw_only=True):
    """Version ``version`` (2 and up) of a strategy; earlier versions never change."""

    workspace_id: Id
    strategy_id: Id
    version: Version
    spec: StrategySpec
    published_by: str
    note: Description = ""


class StrategyDeleted(Payload, frozen=True, kw_only=True):
    """No new bot may pin it; its versions stay readable in the history."""

    workspace_id: Id
    strategy_id: Id


class BotCreated(Payload, frozen=True, kw_only=True):
    """Version 1 of a bot. Bots start ``stopped``."""

    workspace_id: Id
    bot_id: Id
    version: Version
    config: BotConfig
    mode: Mode


class BotReconfigured(Payload, frozen=True, kw_only=True):
    """A new version with a new configuration; ``changed`` names the top-level fields that differ."""

    workspace_id: Id
    bot_id: Id
    version: Version
    config: BotConfig
    mode: Mode
    changed: list[str]


class BotModeChanged(Payload, frozen=True, kw_only=True):
    """A new version in which only the mode changed: ``config`` is the previous version's, as is."""

    workspace_id: Id
    bot_id: Id
    version: Version
    config: BotConfig
    previous_mode: Mode
    mode: Mode


class BotStarted(Payload, frozen=True, kw_only=True):
    """The bot's desired state became ``running`` (at config ``version``)."""

    workspace_id: Id
    bot_id: Id
    version: Version


class BotStopped(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    version: Version
    reason: Literal["requested", "workspace_archived"] = "requested"


class BotDeleted(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id


class TradingWindowScheduled(Payload, frozen=True, kw_only=True):
    """A running bot's next (or current) trading window, for the compute service. ``starts_at``
    may be in the past while the window is open; an always-on bot gets one with no end."""

    workspace_id: Id
    bot_id: Id
    version: Version
    starts_at: UtcDateTime
    ends_at: UtcDateTime | None
    end_rule: EndRule
    time_zone: TimeZone


class TradingWindowCleared(Payload, frozen=True, kw_only=True):
    """The bot has no window to come (stopped, or no window at all)."""

    workspace_id: Id
    bot_id: Id
    reason: Literal["stopped", "no_windows"]


# --- commands (bots.commands.v1) ----------------------------------------------------------------------
class CreateStrategy(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    strategy_id: Id
    name: Name
    description: Description = ""
    spec: StrategySpec


class PublishStrategyVersion(Payload, frozen=True, kw_only=True):
    """``expected_version``, when given, must be the latest version (optimistic concurrency)."""

    workspace_id: Id
    strategy_id: Id
    spec: StrategySpec
    note: Description = ""
    expected_version: Version | None = None


class DeleteStrategy(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    strategy_id: Id


class CopyStrategy(Payload, frozen=True, kw_only=True):
    """Copy one version of a strategy from ``source_workspace_id`` into ``workspace_id`` as a new
    strategy: the caller needs `strategies:read` there and `strategies:create` here."""

    workspace_id: Id
    strategy_id: Id
    source_workspace_id: Id
    source_strategy_id: Id
    source_version: Version | None = None
    name: Name | None = None


class CreateBot(Payload, frozen=True, kw_only=True):
    """Live mode is never set at creation: a bot goes live with ``ChangeBotMode``."""

    workspace_id: Id
    bot_id: Id
    config: BotConfig
    mode: Literal["paper", "testnet"] = "paper"


class ReconfigureBot(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    config: BotConfig
    expected_version: Version | None = None


class ChangeBotMode(Payload, frozen=True, kw_only=True):
    """``live`` needs `trading:live` and ``confirm_live``; ``paper``/``testnet`` need
    `trading:paper`."""

    workspace_id: Id
    bot_id: Id
    mode: Mode
    confirm_live: bool = False
    expected_version: Version | None = None


class StartBot(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id


class StopBot(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id


class DeleteBot(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id


class ScheduledWindow(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bot_id: Id
    version: Version
    starts_at: UtcDateTime | None
    ends_at: UtcDateTime | None


class ScheduleTradingWindows(Payload, frozen=True, kw_only=True):
    """Issued by the bots service's own timer (actor ``system:bots``): the next window of each
    named bot, as the timer computed it (``starts_at`` None: no window to come)."""

    windows: Annotated[list[ScheduledWindow], msgspec.Meta(min_length=1, max_length=1000)]


class StopArchivedBots(Payload, frozen=True, kw_only=True):
    """Issued by the bots service's own timer (actor ``system:bots``): the workspace was archived,
    so its running bots stop."""

    workspace_id: Id
    bot_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=1000)]


EVENTS: dict[str, type[msgspec.Struct]] = {
    "bots.strategy_created": StrategyCreated,
    "bots.strategy_version_published": StrategyVersionPublished,
    "bots.strategy_deleted": StrategyDeleted,
    "bots.bot_created": BotCreated,
    "bots.bot_reconfigured": BotReconfigured,
    "bots.bot_mode_changed": BotModeChanged,
    "bots.bot_started": BotStarted,
    "bots.bot_stopped": BotStopped,
    "bots.bot_deleted": BotDeleted,
    "bots.trading_window_scheduled": TradingWindowScheduled,
    "bots.trading_window_cleared": TradingWindowCleared,
}

COMMANDS: dict[str, type[msgspec.Struct]] = {
    "bots.create_strategy": CreateStrategy,
    "bots.publish_strategy_version": PublishStrategyVersion,
    "bots.delete_strategy": DeleteStrategy,
    "bots.copy_strategy": CopyStrategy,
    "bots.create_bot": CreateBot,
    "bots.reconfigure_bot": ReconfigureBot,
    "bots.change_bot_mode": ChangeBotMode,
    "bots.start_bot": StartBot,
    "bots.stop_bot": StopBot,
    "bots.delete_bot": DeleteBot,
    "bots.schedule_trading_windows": ScheduleTradingWindows,
    "bots.stop_archived_bots": StopArchivedBots,
}

VERSIONED = (BotCreated, BotReconfigured, BotModeChanged)
"""The events that make a new bot version; each carries the whole configuration in force."""


def register_bots_types(registry: Registry) -> Registry:
    for name, cls in EVENTS.items():
        registry.register_event(name, {1: cls})
    for name, cls in COMMANDS.items():
        registry.register_command(name, {1: cls})
    return registry


def bots_topics() -> ContextTopics:
    """The bots context's topics: the one place they are declared."""
    return declare_context(
        BOTS,
        description="strategies and their versions, bots and their versions, modes, trading "
        "sessions and their windows, risk limits",
    )


# --- the one reading of risk limits -------------------------------------------------------------------
LIMIT_FIELDS: tuple[str, ...] = RiskLimits.__struct_fields__


def _amount(value: str | int) -> Decimal:
    return Decimal(value)


def limits_above(bot: RiskLimits, workspace: msgspec.Struct) -> list[str]:
    """The limits a bot sets above its workspace's (a workspace leaving one unset caps nothing).
    `workspace` is identity's `RiskDefaults` (any struct with some of the same fields)."""
    above = []
    for name in LIMIT_FIELDS:
        mine, cap = getattr(bot, name), getattr(workspace, name, None)
        if mine is not None and cap is not None and _amount(mine) > _amount(cap):
            above.append(name)
    return above


def effective_limits(bot: RiskLimits, workspace: msgspec.Struct) -> RiskLimits:
    """The limits in force: each the lower of the bot's and the workspace's, either when only
    one is set. A workspace that lowers its limits lowers its bots' at once; the exchange
    gateway's risk gate enforces these."""
    values: dict[str, Any] = {}
    for name in LIMIT_FIELDS:
        mine, cap = getattr(bot, name), getattr(workspace, name, None)
        if mine is None or cap is None:
            values[name] = mine if cap is None else cap
        else:
            values[name] = mine if _amount(mine) <= _amount(cap) else cap
    return RiskLimits(**values)
