"""What the scheduler decides from: the `Fleet`.

The fleet feeds one incremental `Scheduler` from three sources, each through its own follower:

- `bots.events.v1` (replayed at start): each bot's published window, its mode, its deletion;
- `exchange.orders.v1` (replayed at start): positions and open orders, in the bot's current mode;
- the service's own events (a read model): each host's state, deferrals, the workspace's policy,
  and the measured wake times the lead time is computed from.

Followers run in the consumers' and the saving threads while the timer decides in another, so every
call into the scheduler holds the fleet's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from plutarc_contracts import Envelope, Payload
from plutarc_contracts import bots as b
from plutarc_contracts import compute as c
from plutarc_contracts import exchange as x

from .domain import DEFAULT_DEADLINE_MINUTES
from .leadtime import LeadTimes, LeadTimeSettings
from .scheduler import Scheduler, Window

COUNTED: dict[type, str] = {
    c.WindowMissed: "window_misses",
    c.ProvisioningFailed: "provisioning_failures",
    c.HostProvisioned: "hosts_provisioned",
    c.SleepDeferred: "sleeps_deferred",
    c.DrainDeadlineReached: "drain_deadlines_reached",
    c.HostDeprovisioned: "hosts_deprovisioned",
}
"""The service's own events the fleet counts (served as `plutarc_compute_<name>_total`)."""


class Fleet:
    def __init__(
        self,
        provider: str,
        *,
        margin: float = 1.5,
        scheduler: Scheduler | None = None,
        workspaces: frozenset[str] | None = None,
    ) -> None:
        self.provider = provider
        self.workspaces = workspaces
        """Only these workspaces' bots are hosted here (None: every workspace)."""
        self.scheduler = scheduler or Scheduler(
            LeadTimes(LeadTimeSettings(factor=margin)),
            default_provider=provider,
            default_drain_deadline_minutes=DEFAULT_DEADLINE_MINUTES,
        )
        self.lock = threading.RLock()
        self.modes: dict[str, str] = {}
        self.positions: dict[str, dict[tuple[str, str], Decimal]] = {}
        self.orders: dict[str, dict[str, str]] = {}
        """bot -> order id -> its mode (open orders only)."""
        self.planned: dict[str, datetime] = {}
        """bot -> the start of the window compute planned last."""
        self.counts: dict[str, int] = dict.fromkeys(COUNTED.values(), 0)
        """How many of each counted event the service's history holds (`metrics`)."""

    def lead(self) -> timedelta:
        with self.lock:
            return self.scheduler.lead_times.lead(self.provider)

    def decide(self, now: datetime) -> list[Payload]:
        with self.lock:
            return list(self.scheduler.decide(now))

    def state_of(self, bot_id: str) -> str | None:
        with self.lock:
            return self.scheduler.state_of(bot_id)

    # --- bots.events.v1 ---------------------------------------------------------------------------
    def bots_follower(self) -> _Follower:
        return _Follower(self, self._bot_event)

    def _bot_event(self, env: Envelope) -> None:
        p: Any = env.payload
        s = self.scheduler
        match p:
            case b.BotCreated() | b.BotReconfigured() | b.BotModeChanged():
                was = self.modes.get(p.bot_id)
                if was != p.mode:
                    self.modes[p.bot_id] = p.mode
                    self._mode_changed(p.workspace_id, p.bot_id, was, p.mode)
            case b.TradingWindowScheduled():
                s.window_published(
                    p.workspace_id,
                    p.bot_id,
                    p.starts_at,
                    p.ends_at,
                    p.end_rule,
                    p.time_zone,
                    at=env.occurred_at,
                )
            case b.TradingWindowCleared():
                s.window_cleared(p.workspace_id, p.bot_id)
            case b.BotDeleted():
                s.bot_deleted(p.workspace_id, p.bot_id)

    def _mode_changed(self, ws: str, bot_id: str, was: str | None, mode: str) -> None:
        """Only the current mode's exposure keeps a host up: the old mode's leaves the scheduler,
        the new mode's enters it."""
        s = self.scheduler
        for (m, symbol), qty in self.positions.get(bot_id, {}).items():
            if m == was:
                s.position(ws, bot_id, symbol, Decimal(0), mode=m)
            elif m == mode:
                s.position(ws, bot_id, symbol, qty, mode=m)
        for order_id, m in self.orders.get(bot_id, {}).items():
            if m == was:
                s.order_closed(ws, bot_id, order_id)
            elif m == mode:
                s.order_open(ws, bot_id, order_id)

    def _current(self, bot_id: str, mode: str) -> bool:
        return self.modes.get(bot_id, mode) == mode

    # --- exchange.orders.v1 -----------------------------------------------------------------------
    def orders_follower(self) -> _Follower:
        return _Follower(self, self._order_event)

    def _order_event(self, env: Envelope) -> None:
        p: Any = env.payload
        s = self.scheduler
        match p:
            case x.OrderAccepted():
                self.orders.setdefault(p.bot_id, {})[p.order_id] = p.mode
                if self._current(p.bot_id, p.mode):
                    s.order_open(p.workspace_id, p.bot_id, p.order_id)
            case x.OrderFilled() if p.status == "filled":
                self._closed(p.workspace_id, p.bot_id, p.order_id)
            case x.OrderCancelled() | x.OrderRejected():
                self._closed(p.workspace_id, p.bot_id, p.order_id)
            case x.PositionChanged():
                qty = Decimal(p.quantity)
                self.positions.setdefault(p.bot_id, {})[(p.mode, p.symbol)] = qty
                if self._current(p.bot_id, p.mode):
                    s.position(p.workspace_id, p.bot_id, p.symbol, qty, mode=p.mode)

    def _closed(self, ws: str, bot_id: str, order_id: str) -> None:
        if self.orders.get(bot_id, {}).pop(order_id, None) is not None:
            self.scheduler.order_closed(ws, bot_id, order_id)

    # --- the service's own events -----------------------------------------------------------------
    def own_events(self) -> OwnEvents:
        return OwnEvents(self)

    def _own_event(self, env: Envelope) -> None:
        p: Any = env.payload
        s = self.scheduler
        counted = COUNTED.get(type(p))
        if counted is not None:
            self.counts[counted] += 1
        match p:
            case c.WindowPlanned():
                self.planned[p.bot_id] = p.starts_at
                s.assign(p.workspace_id, p.bot_id, p.provider)
                s.planned(
                    p.workspace_id,
                    p.bot_id,
                    Window(p.starts_at, p.ends_at, p.end_rule, p.time_zone),
                )
            case c.WindowCleared():
                s.planned(p.workspace_id, p.bot_id, None)
            case c.ProvisioningRequested():
                if p.reason != "repair":
                    s.wake_requested(p.workspace_id, p.bot_id, p.window_starts_at)
                s.host_state(p.workspace_id, p.bot_id, "waking")
            case c.ProvisioningFailed() if p.next_size is None:
                s.host_state(p.workspace_id, p.bot_id, "failed")
            case c.HostProvisioned():
                s.provisioned(p.workspace_id, p.bot_id, p.took_ms, p.address)
                s.host_state(p.workspace_id, p.bot_id, "running", p.address)
            case c.HostDrained():
                s.host_state(p.workspace_id, p.bot_id, "draining")
            case c.HostDeprovisioned():
                s.host_state(p.workspace_id, p.bot_id, "asleep")
            case c.AddressReleased():
                s.address_released(p.workspace_id, p.bot_id)
            case c.AddressVerified() if p.bot_id in self.planned:
                s.verified(p.workspace_id, p.bot_id, self.planned[p.bot_id])
            case c.WindowMissed():
                s.missed(p.workspace_id, p.bot_id, p.window_starts_at)
            case c.SleepDeferred():
                s.deferred(p.workspace_id, p.bot_id, p.window_ends_at, p.deadline)
            case c.SleepPolicySet():
                s.policy(p.workspace_id, p.drain_deadline_minutes)


class _Follower:
    """A projection of another context's topic into the fleet (`Replayed`)."""

    def __init__(self, fleet: Fleet, apply: Callable[[Envelope], None]) -> None:
        self.fleet, self._apply = fleet, apply

    def apply(self, env: Envelope) -> bool:
        hosted = self.fleet.workspaces
        if hosted is not None and env.workspace_id not in hosted:
            return False
        with self.fleet.lock:
            self._apply(env)
        return True


class OwnEvents:
    """The read model of the service's own events, feeding the same fleet."""

    event_types = frozenset(c.EVENTS)

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def apply(self, env: Envelope) -> None:
        with self.fleet.lock:
            self.fleet._own_event(env)
