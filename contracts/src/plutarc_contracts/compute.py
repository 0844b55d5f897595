"""Compute contracts: a host per bot, released outside its trading sessions and woken with the same
address before the next one; usage and cost.

A bot's **host** is one stream (id derived from the bot id) with two parts of different lifetimes:
its **address** (allocated at the first wake, kept while the bot sleeps so a venue sees one origin,
released when the bot is deleted) and the **host** itself (created on wake, deleted on sleep). The
compute service follows the bots service's windows (``bots.trading_window_scheduled``) and the
exchange gateway's positions and orders, wakes a host a lead time before each window, and releases
it at the window's end once the bot is flat with no open order; with a position it defers and tells
the operator, until the bot is flat or a deadline the workspace sets.

Every change of a host's state is an event on ``compute.events.v1`` keyed by the bot; usage and
cost are folds of those events. See docs/compute.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from plutarc_contracts.bots import EndRule, Id, TimeZone
from plutarc_contracts.envelope import Payload, UtcDateTime
from plutarc_contracts.registry import Registry
from plutarc_contracts.topics import ContextTopics, declare_context

COMPUTE = "compute"

ProviderName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
Size = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
HostId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
ErrorText = Annotated[str, msgspec.Meta(max_length=2000)]
Signed = Annotated[str, msgspec.Meta(pattern=r"^-?\d{1,18}(\.\d{1,18})?$", max_length=41)]
Attempt = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60)]
Generation = Annotated[int, msgspec.Meta(ge=0)]
"""On the scheduler's commands: how many windows the bot has had published (and cleared). A
timer's command id derives from the command's content, so this tells a bot's second release
after a window, or its second always-on period, from the first."""

WakeReason = Literal["window", "always_on", "operator", "repair"]
"""``repair``: the address was found off its host before a window; the stack is converged again."""
ReleaseReason = Literal["flat", "deadline", "window_cleared", "bot_deleted", "operator"]
DeferReason = Literal["open_position", "open_orders"]


class _Shape(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Exposure(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A position the bot holds in one market (signed; negative: short)."""

    symbol: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Signed


# --- events (compute.events.v1) ----------------------------------------------------------------------
class WindowPlanned(Payload, frozen=True, kw_only=True):
    """The host's next window, as the bots service published it, and when it will be woken for
    it (``wake_at`` = ``starts_at`` minus the provider's lead time). ``ends_at`` None: always on."""

    workspace_id: Id
    bot_id: Id
    provider: ProviderName
    starts_at: UtcDateTime
    ends_at: UtcDateTime | None
    wake_at: UtcDateTime
    end_rule: EndRule
    time_zone: TimeZone

    @classmethod
    def example(cls) -> WindowPlanned:
        from datetime import UTC, datetime

        return cls(
            workspace_id="ws-example",
            bot_id="bot-1",
            provider="local",
            starts_at=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
            ends_at=datetime(2026, 12, 7, 16, 30, tzinfo=UTC),
            wake_at=datetime(2026, 12, 7, 7, 59, tzinfo=UTC),
            end_rule="flatten",
            time_zone="Europe/London",
        )


class WindowCleared(Payload, frozen=True, kw_only=True):
    """The bot has no window to come (stopped, deleted, or no window at all)."""

    workspace_id: Id
    bot_id: Id


class ProvisioningRequested(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    provider: ProviderName
    attempt: Attempt
    size: Size
    reason: WakeReason
    window_starts_at: UtcDateTime | None = None


class ProvisioningFailed(Payload, frozen=True, kw_only=True):
    """A wake failed. ``next_size``: tried next (a fallback size, or the same one again); None:
    given up (the operator is told)."""

    workspace_id: Id
    bot_id: Id
    attempt: Attempt
    size: Size
    error: ErrorText
    next_size: Size | None


class HostProvisioned(Payload, frozen=True, kw_only=True):
    """The host exists and holds the bot's address. ``took_ms``: from the request of this attempt
    to the provider's answer (the lead time is computed from these)."""

    workspace_id: Id
    bot_id: Id
    provider: ProviderName
    address: Address
    host_id: HostId
    size: Size
    took_ms: Annotated[int, msgspec.Meta(ge=0)]


class BotStartedOnHost(Payload, frozen=True, kw_only=True):
    """The bot's runtime (and its egress proxy) runs on the host."""

    workspace_id: Id
    bot_id: Id
    address: Address


class SleepDeferred(Payload, frozen=True, kw_only=True):
    """The window ended but the bot is not flat: the host stays until it is, or until
    ``deadline``. The operator is told."""

    workspace_id: Id
    bot_id: Id
    reason: DeferReason
    window_ends_at: UtcDateTime
    positions: Annotated[list[Exposure], msgspec.Meta(max_length=100)] = []
    open_orders: Annotated[int, msgspec.Meta(ge=0)] = 0
    deadline: UtcDateTime | None = None


class DrainDeadlineReached(Payload, frozen=True, kw_only=True):
    """The workspace's deadline passed with the bot still exposed: the host is released anyway
    (the gateway keeps the position; the operator is told)."""

    workspace_id: Id
    bot_id: Id
    positions: Annotated[list[Exposure], msgspec.Meta(max_length=100)] = []
    open_orders: Annotated[int, msgspec.Meta(ge=0)] = 0


class HostDrained(Payload, frozen=True, kw_only=True):
    """The host is being released (its bot stops, then the host is deleted)."""

    workspace_id: Id
    bot_id: Id
    reason: ReleaseReason


class BotStoppedOnHost(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id


class HostDeprovisioned(Payload, frozen=True, kw_only=True):
    """The host is gone. ``address_kept``: the address stays allocated for the next wake."""

    workspace_id: Id
    bot_id: Id
    address: Address | None
    address_kept: bool


class AddressReleased(Payload, frozen=True, kw_only=True):
    """The bot was deleted: its address is given back to the provider."""

    workspace_id: Id
    bot_id: Id
    address: Address | None


class WindowMissed(Payload, frozen=True, kw_only=True):
    """The window started and the bot's host was not running: a recorded miss."""

    workspace_id: Id
    bot_id: Id
    window_starts_at: UtcDateTime
    state: Annotated[str, msgspec.Meta(max_length=32)]


class AddressVerified(Payload, frozen=True, kw_only=True):
    """Before a window: the provider's state says whether the kept address is on this host."""

    workspace_id: Id
    bot_id: Id
    expected: Address | None
    found: Address | None
    on_host: bool
    ok: bool


class SleepPolicySet(Payload, frozen=True, kw_only=True):
    """A workspace's rule for bots still exposed when a window ends: release the host
    ``drain_deadline_minutes`` after the window's end at the latest (0: never force)."""

    workspace_id: Id
    drain_deadline_minutes: Minutes


# --- commands (compute.commands.v1) -----------------------------------------------------------------
class PlanWindow(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    starts_at: UtcDateTime
    ends_at: UtcDateTime | None
    end_rule: EndRule = "stop_entries"
    time_zone: TimeZone = "UTC"
    generation: Generation = 0


class ClearWindow(Payload, frozen=True, kw_only=True):
    """``window_starts_at``: the planned window being cleared (a timer's command id derives from
    its content, so each clearing is its own command)."""

    workspace_id: Id
    bot_id: Id
    deleted: bool = False
    window_starts_at: UtcDateTime | None = None
    generation: Generation = 0


class WakeHost(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    reason: WakeReason = "window"
    window_starts_at: UtcDateTime | None = None
    generation: Generation = 0


class ReleaseHost(Payload, frozen=True, kw_only=True):
    """``window_ends_at``: the end of the window after which the host goes (None: not a window's
    end, such as a deleted bot)."""

    workspace_id: Id
    bot_id: Id
    reason: ReleaseReason
    window_ends_at: UtcDateTime | None = None
    generation: Generation = 0


class DeferSleep(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    reason: DeferReason
    window_ends_at: UtcDateTime
    positions: Annotated[list[Exposure], msgspec.Meta(max_length=100)] = []
    open_orders: Annotated[int, msgspec.Meta(ge=0)] = 0
    deadline: UtcDateTime | None = None
    generation: Generation = 0


class ForceRelease(Payload, frozen=True, kw_only=True):
    """The drain deadline passed: tell the operator and release."""

    workspace_id: Id
    bot_id: Id
    window_ends_at: UtcDateTime | None = None
    positions: Annotated[list[Exposure], msgspec.Meta(max_length=100)] = []
    open_orders: Annotated[int, msgspec.Meta(ge=0)] = 0
    generation: Generation = 0


class RecordMiss(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    window_starts_at: UtcDateTime


class VerifyAddress(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    window_starts_at: UtcDateTime


class SetSleepPolicy(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    drain_deadline_minutes: Minutes


EVENTS: dict[str, type[msgspec.Struct]] = {
    "compute.window_planned": WindowPlanned,
    "compute.window_cleared": WindowCleared,
    "compute.provisioning_requested": ProvisioningRequested,
    "compute.provisioning_failed": ProvisioningFailed,
    "compute.host_provisioned": HostProvisioned,
    "compute.bot_started_on_host": BotStartedOnHost,
    "compute.sleep_deferred": SleepDeferred,
    "compute.drain_deadline_reached": DrainDeadlineReached,
    "compute.host_drained": HostDrained,
    "compute.bot_stopped_on_host": BotStoppedOnHost,
    "compute.host_deprovisioned": HostDeprovisioned,
    "compute.address_released": AddressReleased,
    "compute.window_missed": WindowMissed,
    "compute.address_verified": AddressVerified,
    "compute.sleep_policy_set": SleepPolicySet,
}

COMMANDS: dict[str, type[msgspec.Struct]] = {
    "compute.plan_window": PlanWindow,
    "compute.clear_window": ClearWindow,
    "compute.wake_host": WakeHost,
    "compute.release_host": ReleaseHost,
    "compute.defer_sleep": DeferSleep,
    "compute.force_release": ForceRelease,
    "compute.record_miss": RecordMiss,
    "compute.verify_address": VerifyAddress,
    "compute.set_sleep_policy": SetSleepPolicy,
}


def register_compute_types(registry: Registry) -> Registry:
    for name, cls in EVENTS.items():
        registry.register_event(name, {1: cls})
    for name, cls in COMMANDS.items():
        registry.register_command(name, {1: cls})
    return registry


def compute_topics() -> ContextTopics:
    """The compute context's topics: the one place they are declared."""
    return declare_context(
        COMPUTE,
        description="bots' hosts: windows planned, wakes, sleeps, addresses kept, misses",
    )
