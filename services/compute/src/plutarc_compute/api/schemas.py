"""The compute context's request and response bodies. Requests reject unknown fields and are
bounded as the contract is (plutarc_contracts.compute). Money is a decimal string in `currency`
(USD); hours are decimal strings too."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from plutarc_api.schemas import In
from pydantic import BaseModel, Field

HostState = Literal["new", "waking", "running", "draining", "asleep", "failed", "released"]


# -- requests ------------------------------------------------------------------------------------
class SleepPolicyIn(In):
    drain_deadline_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60, strict=True)]
    """A bot still exposed when its window ends is released this many minutes after the end at
    the latest (0: never forced; the host waits until the bot is flat)."""


# -- responses -----------------------------------------------------------------------------------
class WindowOut(BaseModel):
    starts_at: datetime
    ends_at: datetime | None
    """None: always on."""
    wake_at: datetime
    """When the host is woken for it: `starts_at` less the provider's lead time."""
    end_rule: str | None
    time_zone: str | None


class DeferredOut(BaseModel):
    reason: str
    """open_position or open_orders: the window ended with the bot still exposed."""
    deadline: datetime | None
    """Released at this time at the latest (the workspace's sleep policy); None: when flat."""


class HostOut(BaseModel):
    bot_id: str
    workspace_id: str
    provider: str | None
    state: HostState
    address: str | None
    """The bot's public address: kept while it sleeps, so a venue sees one origin."""
    size: str | None
    next_wake_at: datetime | None
    window: WindowOut | None
    """The next (or current) planned window."""
    deferred: DeferredOut | None
    last_error: str | None
    changed_at: datetime


class MissOut(BaseModel):
    window_starts_at: datetime
    state: str
    """The host's state when the window started."""
    recorded_at: datetime


class HostDetailOut(HostOut):
    host_id: str | None
    up_since: datetime | None
    """When the current host was provisioned (None: no host now)."""
    address_since: datetime | None
    misses: list[MissOut]
    """The latest recorded misses (at most 20, newest first)."""


class HostPage(BaseModel):
    items: list[HostOut]
    next_cursor: str | None


class UsageLineOut(BaseModel):
    compute_hours: str
    compute_cost: str
    address_hours: str
    address_cost: str
    cost: str
    """compute_cost + address_cost."""
    always_on_hours: str
    always_on_cost: str
    """A host of the bot's size and its address, all the time the bot existed in the period."""
    saved_hours: str
    """always_on_hours - compute_hours."""
    saved_cost: str
    """always_on_cost - cost."""
    priced: bool
    """False when a price was missing from the table (counted as 0)."""


class BotUsageOut(UsageLineOut):
    bot_id: str
    provider: str | None
    size: str | None


class UsageOut(BaseModel):
    workspace_id: str
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    as_of: datetime
    """min(now, to): an interval still open counts up to here."""
    currency: Literal["USD"] = "USD"
    bots: list[BotUsageOut]
    total: UsageLineOut

    model_config = {"populate_by_name": True}


class SleepPolicyOut(BaseModel):
    workspace_id: str
    drain_deadline_minutes: int
    set_at: datetime | None


class WakeOut(BaseModel):
    bot_id: str
    state: HostState
    requested: bool = True
    """A wake was asked for (reason `operator`); the host's state follows as events."""
