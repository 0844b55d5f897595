"""The bots context's request and response bodies. Requests reject unknown fields; every field is
typed and bounded as the contract is (plutarc_contracts.bots), and a component's parameters are
judged by the bots service against the component's typed configuration (docs/strategies.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from plutarc_api.problems import Problem
from plutarc_api.schemas import In, Name
from pydantic import BaseModel, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Money = Annotated[str, StringConstraints(pattern=r"^\d{1,15}(\.\d{1,8})?$")]
Description = Annotated[str, StringConstraints(max_length=2000)]
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
Mode = Literal["paper", "testnet", "live"]
Timeframe = Literal["1m", "5m", "15m", "1h", "4h", "1d"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Symbol = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}(:[A-Z0-9]{1,20})?$", max_length=64),
]
ComponentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$")]
Version = Annotated[int, Field(ge=1, le=1_000_000)]


# -- shapes shared by requests and responses -----------------------------------------------------
class Component(In):
    component: ComponentName
    params: dict[str, Any] = Field(default_factory=dict, max_length=64)


class StrategySpec(In):
    timeframe: Timeframe
    components: Annotated[list[Component], Field(min_length=1, max_length=12)]


class SessionWindow(In):
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)]
    start: LocalTime
    end: LocalTime
    overnight: bool = False


class TradingSessions(In):
    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "UTC"
    always_on: bool = True
    windows: Annotated[list[SessionWindow], Field(max_length=28)] = Field(default_factory=list)
    end_rule: Literal["stop_entries", "flatten", "hold"] = "stop_entries"


class RiskLimits(In):
    max_order_notional: Money | None = None
    max_position: Money | None = None
    max_open_orders: Annotated[int, Field(ge=1, le=10_000)] | None = None
    daily_loss_limit: Money | None = None


class Market(In):
    venue: Venue
    symbol: Symbol
    kind: Literal["spot", "perpetual"] = "spot"


class PinnedStrategy(In):
    strategy_id: Id
    version: Version


class BotConfig(In):
    name: Name
    strategy: PinnedStrategy
    market: Market
    connection_id: Id | None = None
    sessions: TradingSessions = Field(default_factory=TradingSessions)
    risk: RiskLimits = Field(default_factory=RiskLimits)


# -- requests ------------------------------------------------------------------------------------
class CreateStrategyIn(In):
    name: Name
    description: Description = ""
    spec: StrategySpec


class PublishVersionIn(In):
    spec: StrategySpec
    note: Description = ""
    expected_version: Version | None = None


class CopyStrategyIn(In):
    source_workspace_id: Id
    source_strategy_id: Id
    source_version: Version | None = None
    name: Name | None = None


class CreateBotIn(In):
    config: BotConfig
    mode: Literal["paper", "testnet"] = "paper"


class ReconfigureBotIn(In):
    config: BotConfig
    expected_version: Version | None = None


class ModeIn(In):
    mode: Mode
    confirm_live: bool = False
    expected_version: Version | None = None


# -- responses -----------------------------------------------------------------------------------
class OriginOut(BaseModel):
    workspace_id: str
    strategy_id: str
    version: int


class StrategyOut(BaseModel):
    strategy_id: str
    workspace_id: str
    name: str
    description: str
    latest_version: int
    deleted: bool
    created_by: str
    copied_from: OriginOut | None
    created_at: datetime
    updated_at: datetime


class StrategyVersionOut(BaseModel):
    strategy_id: str
    version: int
    spec: StrategySpec
    published_by: str
    note: str
    published_at: datetime


class StrategyDetailOut(StrategyOut):
    spec: StrategySpec
    """The latest version's."""


class StrategyPage(BaseModel):
    items: list[StrategyOut]
    next_cursor: str | None


class VersionPage(BaseModel):
    items: list[StrategyVersionOut]
    next_cursor: str | None


class WindowOut(BaseModel):
    starts_at: datetime
    ends_at: datetime | None


class BotOut(BaseModel):
    bot_id: str
    workspace_id: str
    name: str
    version: int
    mode: Mode
    state: Literal["running", "stopped"]
    config: BotConfig
    window: WindowOut | None
    created_at: datetime
    updated_at: datetime


class BotDetailOut(BotOut):
    limits_in_force: RiskLimits
    """Each limit the lower of the bot's and its workspace's (what the risk gate enforces)."""
    workspace_limits: RiskLimits


class BotPage(BaseModel):
    items: list[BotOut]
    next_cursor: str | None


class BotVersionOut(BaseModel):
    bot_id: str
    version: int
    config: BotConfig
    mode: Mode
    change: Literal["created", "reconfigured", "mode"]
    changed: list[str]
    actor: str
    at: datetime


class BotVersionPage(BaseModel):
    items: list[BotVersionOut]
    next_cursor: str | None


class ComponentOut(BaseModel):
    name: str
    kind: str
    summary: str
    config_schema: dict[str, Any]


S = TypeVar("S", bound=msgspec.Struct)


def to_contract(body: BaseModel, cls: type[S]) -> S:
    """The request's shape as the contract's struct (the models mirror the contract, so this
    only fails if they drift apart: a 422 rather than a crash)."""
    try:
        return msgspec.convert(body.model_dump(), cls)
    except msgspec.ValidationError as exc:
        raise Problem(422, "request.invalid", str(exc)) from None
