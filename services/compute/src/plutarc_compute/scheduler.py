"""The compute scheduler: when each bot's host is woken, verified, released, deferred or forced.

Pure and incremental: no I/O and no clock (``now`` is always given). The service feeds it what
happens (the bots service's windows, the host's lifecycle from its own events, the gateway's
positions and orders, the workspaces' sleep policies) and asks ``decide(now)`` on its timer; the
answer is the compute commands to issue (``PlanWindow``, ``ClearWindow``, ``WakeHost``,
``VerifyAddress``, ``RecordMiss``, ``ReleaseHost``, ``DeferSleep``, ``ForceRelease``). Each
decision is remembered, so a pass repeated at the same instant with nothing new returns nothing;
the commands are idempotent anyway.

A pass looks only at the bots that need it: those an input touched since the last pass (the dirty
set), those whose next instant came (a window's start or end, a verification, a drain deadline:
the time queue), and those whose window's start is within the provider's lead time (one queue per
provider, keyed by the start, so a lead time that grows is honoured at once). The rules are in
docs/compute-scheduler.md.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from plutarc_contracts import Payload
from plutarc_contracts import compute as c
from plutarc_contracts.bots import EndRule

from .leadtime import LeadTimes

HOST_STATES: frozenset[str] = frozenset(
    {"new", "asleep", "waking", "running", "draining", "failed"}
)
"""The Host aggregate's states, as ``host_state`` takes them."""
ALIVE: frozenset[str] = frozenset({"waking", "running"})
"""A host that costs money and is not on its way out."""
_WAKEABLE = frozenset({"new", "asleep", "failed"})
INF = math.inf
DrainReason = Literal["flat", "window_cleared"]


@dataclass(frozen=True, slots=True)
class Window:
    """A bot's window as the bots service published it. ``ends_at`` None: always on."""

    starts_at: datetime
    ends_at: datetime | None
    end_rule: EndRule = "stop_entries"
    time_zone: str = "UTC"


class _Queue:
    """Bots by instant: a heap of distinct instants, each with its bots (many bots share one
    instant: a Monday 08:00 London start), so a pass pops each instant once."""

    __slots__ = ("_at", "_heap")

    def __init__(self) -> None:
        self._heap: list[float] = []
        self._at: dict[float, list[str]] = {}

    def push(self, instant: float, bot_id: str) -> None:
        bots = self._at.get(instant)
        if bots is None:
            self._at[instant] = [bot_id]
            heapq.heappush(self._heap, instant)
        else:
            bots.append(bot_id)

    def pop_until(self, instant: float) -> list[tuple[float, list[str]]]:
        heap, at = self._heap, self._at
        out = []
        while heap and heap[0] <= instant:
            first = heapq.heappop(heap)
            out.append((first, at.pop(first)))
        return out

    def first(self) -> float:
        return self._heap[0] if self._heap else INF


class _Drain:
    """A running host outside its window: released once flat, else deferred until flat or the
    deadline."""

    __slots__ = ("deadline", "deferred", "ends_at", "reason")

    def __init__(self, ends_at: datetime, reason: DrainReason) -> None:
        self.ends_at = ends_at
        self.reason: DrainReason = reason
        self.deferred = False
        self.deadline: datetime | None = None


_DONE = _Drain(datetime(1970, 1, 1, tzinfo=UTC), "flat")
"""The drain of a host whose release (or forced release) was asked: one shared object, so that
10,000 hosts released at one end allocate nothing (and give the garbage collector less to do)."""


class _Bot:
    __slots__ = (
        "address",
        "bot_id",
        "delete_sent",
        "deleted",
        "drain",
        "due",
        "end_ts",
        "generation",
        "last_end",
        "late",
        "miss_checked",
        "orders",
        "planned",
        "positions",
        "provider",
        "published",
        "start_ts",
        "state",
        "verified_for",
        "wake_key",
        "woken_for",
        "workspace_id",
    )

    def __init__(self, workspace_id: str, bot_id: str, provider: str) -> None:
        self.workspace_id = workspace_id
        self.bot_id = bot_id
        self.provider = provider
        self.published: Window | None = None
        self.generation = 0
        """Counts the windows published for the bot (and their clearings): every command names
        it, since a timer's command id derives from the command's content and a bot's second
        always-on period, or its second release after a window, must not pass for the first."""
        self.start_ts = INF
        self.end_ts = INF
        self.late = False
        """The window was published at or after its start (a bot started mid-window): no miss."""
        self.planned: Window | None = None
        self.state: str = "new"
        self.address: str | None = None
        self.positions: dict[tuple[str, str], Decimal] = {}
        self.orders: dict[str, None] = {}
        """Open order ids (a dict of atoms: not tracked by the garbage collector)."""
        self.drain: _Drain | None = None
        self.last_end: datetime | None = None
        self.woken_for: datetime | None = None
        self.miss_checked: datetime | None = None
        self.verified_for: datetime | None = None
        self.deleted = False
        self.delete_sent = False
        self.due = INF
        self.wake_key = INF


class Scheduler:
    """Decisions for many bots' hosts. Inputs mark a bot dirty; ``decide(now)`` looks at the
    dirty bots and the ones whose time came, and returns the commands to issue.

    ``default_drain_deadline_minutes`` applies to workspaces with no ``policy`` (0: a host whose
    bot is still exposed is never released by force). ``verify_ahead``: how long before a
    window's start its address is verified (at once if the host runs only later). ``linger``:
    how long a host is kept after its window's end while the next window is not yet published
    (the bots service publishes it on its timer's next pass), so that a next window starting
    within the lead time keeps the host rather than releasing and waking it again."""

    def __init__(
        self,
        lead_times: LeadTimes | None = None,
        *,
        default_provider: str = "local",
        default_drain_deadline_minutes: int = 0,
        verify_ahead: timedelta = timedelta(seconds=60),
        linger: timedelta = timedelta(seconds=15),
    ) -> None:
        self.lead_times = lead_times or LeadTimes()
        self.default_provider = default_provider
        self.default_drain_deadline_minutes = default_drain_deadline_minutes
        self._verify_ahead = verify_ahead.total_seconds()
        self._linger = linger.total_seconds()
        self._bots: dict[str, _Bot] = {}
        self._policies: dict[str, int] = {}
        self._dirty: dict[str, None] = {}
        self._times = _Queue()
        self._wakes: dict[str, _Queue] = {}

    # --- inputs --------------------------------------------------------------------------------
    def assign(self, workspace_id: str, bot_id: str, provider: str) -> None:
        """The provider the bot's host lives on (its lead time)."""
        b = self._bot(workspace_id, bot_id)
        if b.provider != provider:
            b.provider = provider
            b.wake_key = INF  # queued under the old provider: queued again under this one
            self._touch(b)

    def window_published(
        self,
        workspace_id: str,
        bot_id: str,
        starts_at: datetime,
        ends_at: datetime | None,
        end_rule: EndRule = "stop_entries",
        time_zone: str = "UTC",
        *,
        at: datetime | None = None,
    ) -> None:
        """``bots.trading_window_scheduled``; ``at``: when it was published (a window published
        at or after its start is not a miss when the host is not ready)."""
        b = self._bot(workspace_id, bot_id)
        window = Window(starts_at, ends_at, end_rule, time_zone)
        if window == b.published:
            return
        self._replace(b, window)
        b.start_ts = starts_at.timestamp()
        b.end_ts = INF if ends_at is None else ends_at.timestamp()
        b.late = at is not None and at >= starts_at
        self._touch(b)

    def window_cleared(self, workspace_id: str, bot_id: str) -> None:
        """``bots.trading_window_cleared``: no window to come (stopped, or no windows)."""
        b = self._bot(workspace_id, bot_id)
        if b.published is None:
            return
        self._replace(b, None)
        b.start_ts = b.end_ts = INF
        self._touch(b)

    def bot_deleted(self, workspace_id: str, bot_id: str) -> None:
        b = self._bot(workspace_id, bot_id)
        if not b.deleted:
            b.deleted = True
            self._touch(b)

    def address_released(self, workspace_id: str, bot_id: str) -> None:
        """``compute.address_released`` on replay: the deleted bot's host and address are gone
        (its ``ClearWindow(deleted=True)`` was carried out)."""
        b = self._bot(workspace_id, bot_id)
        b.deleted = b.delete_sent = True
        b.planned = None

    def planned(self, workspace_id: str, bot_id: str, window: Window | None) -> None:
        """What compute planned last (``compute.window_planned`` / ``compute.window_cleared``),
        when the service replays its own events."""
        b = self._bot(workspace_id, bot_id)
        if b.planned != window:
            b.planned = window
            self._touch(b)

    def host_state(
        self, workspace_id: str, bot_id: str, state: str, address: str | None = None
    ) -> None:
        """The host's state as the Host aggregate folds it."""
        if state not in HOST_STATES:
            raise ValueError(f"unknown host state {state!r}")
        b = self._bot(workspace_id, bot_id)
        if address is not None:
            b.address = address
        if state == b.state:
            return
        was = b.state
        b.state = state
        if state in ("asleep", "new") and (was in ALIVE or was == "draining"):
            b.woken_for = None  # released: a window still open wakes it again
        if state not in ALIVE:
            b.drain = None
        self._touch(b)

    def provisioned(self, workspace_id: str, bot_id: str, took_ms: int, address: str) -> None:
        """``compute.host_provisioned``: a measurement for the provider's lead time."""
        b = self._bot(workspace_id, bot_id)
        b.address = address
        self.lead_times.record(b.provider, took_ms)

    def wake_requested(
        self, workspace_id: str, bot_id: str, window_starts_at: datetime | None
    ) -> None:
        """``compute.provisioning_requested`` on replay: that window's wake is already asked."""
        b = self._bot(workspace_id, bot_id)
        if window_starts_at is None and b.published is not None and b.published.ends_at is None:
            window_starts_at = b.published.starts_at
        b.woken_for = window_starts_at

    def missed(self, workspace_id: str, bot_id: str, window_starts_at: datetime) -> None:
        self._bot(workspace_id, bot_id).miss_checked = window_starts_at

    def verified(self, workspace_id: str, bot_id: str, window_starts_at: datetime) -> None:
        self._bot(workspace_id, bot_id).verified_for = window_starts_at

    def deferred(
        self,
        workspace_id: str,
        bot_id: str,
        window_ends_at: datetime,
        deadline: datetime | None,
    ) -> None:
        """``compute.sleep_deferred`` on replay."""
        b = self._bot(workspace_id, bot_id)
        drain = _Drain(window_ends_at, "flat" if b.published is not None else "window_cleared")
        drain.deferred, drain.deadline = True, deadline
        b.drain = drain
        self._touch(b)

    def position(
        self,
        workspace_id: str,
        bot_id: str,
        symbol: str,
        quantity: Decimal,
        mode: str = "live",
    ) -> None:
        """``exchange.position_changed``: the signed quantity in one market."""
        b = self._bot(workspace_id, bot_id)
        if quantity:
            b.positions[(mode, symbol)] = quantity
        elif b.positions.pop((mode, symbol), None) is None:
            return
        if b.drain is not None:
            self._touch(b)

    def order_open(self, workspace_id: str, bot_id: str, order_id: str) -> None:
        """``exchange.order_accepted`` (or a fill with something remaining)."""
        self._bot(workspace_id, bot_id).orders[order_id] = None

    def order_closed(self, workspace_id: str, bot_id: str, order_id: str) -> None:
        """Filled with nothing remaining, cancelled or rejected."""
        b = self._bot(workspace_id, bot_id)
        if b.orders.pop(order_id, 0) is None and b.drain is not None:
            self._touch(b)

    def policy(self, workspace_id: str, drain_deadline_minutes: int) -> None:
        """``compute.sleep_policy_set``: applies to deferrals decided from now on."""
        if drain_deadline_minutes < 0:
            raise ValueError("drain_deadline_minutes must be >= 0")
        self._policies[workspace_id] = drain_deadline_minutes

    # --- decisions -----------------------------------------------------------------------------
    def decide(self, now: datetime) -> list[Payload]:
        t = now.timestamp()
        work = self._dirty
        self._dirty = {}
        bots = self._bots
        for ts, ids in self._times.pop_until(t):
            for bot_id in ids:
                b = bots[bot_id]
                if b.due == ts:
                    b.due = INF
                    work[bot_id] = None
        leads: dict[str, float] = {}
        for provider, queue in self._wakes.items():
            lead = leads[provider] = self.lead_times.lead(provider).total_seconds()
            for ts, ids in queue.pop_until(t + lead):
                for bot_id in ids:
                    b = bots[bot_id]
                    if b.wake_key == ts and b.provider == provider:
                        b.wake_key = INF
                        work[bot_id] = None
        out: list[Payload] = []
        for bot_id in work:
            b = bots[bot_id]
            known = leads.get(b.provider)
            if known is None:
                known = leads[b.provider] = self.lead_times.lead(b.provider).total_seconds()
            self._look(b, now, t, known, out)
        return out

    def next_due(self) -> datetime | None:
        """The earliest instant a pass has something to do (a start, an end, a deadline, a wake
        within the lead time), ignoring dirty bots (``pending``). None: nothing is scheduled."""
        best = self._times.first()
        for provider, queue in self._wakes.items():
            best = min(best, queue.first() - self.lead_times.lead(provider).total_seconds())
        if best == INF:
            return None
        return datetime.fromtimestamp(best, UTC)

    @property
    def pending(self) -> int:
        """Bots an input touched since the last pass."""
        return len(self._dirty)

    def __len__(self) -> int:
        return len(self._bots)

    def census(self) -> dict[str, int]:
        """Hosts by state (a deleted bot's whose address is given back: ``released``), and
        ``deferred``: hosts kept past their window's end for a position or an order."""
        counts = dict.fromkeys((*sorted(HOST_STATES), "released", "deferred"), 0)
        for b in self._bots.values():
            counts["released" if b.delete_sent and b.state == "asleep" else b.state] += 1
            if b.drain is not None and b.drain.deferred:
                counts["deferred"] += 1
        return counts

    def state_of(self, bot_id: str) -> str | None:
        b = self._bots.get(bot_id)
        return None if b is None else b.state

    def next_wake(self, bot_id: str, now: datetime) -> datetime | None:
        """When the bot's host will be woken for its published window (the API's "next wake"):
        None if it has no window to come, is always on, or was woken for it already."""
        b = self._bots.get(bot_id)
        if b is None or b.deleted or b.published is None:
            return None
        w = b.published
        if w.ends_at is None or w.ends_at <= now or b.woken_for == w.starts_at:
            return None
        return w.starts_at - self.lead_times.lead(b.provider)

    # --- internals -----------------------------------------------------------------------------
    def _bot(self, workspace_id: str, bot_id: str) -> _Bot:
        b = self._bots.get(bot_id)
        if b is None:
            b = self._bots[bot_id] = _Bot(workspace_id, bot_id, self.default_provider)
        return b

    def _touch(self, b: _Bot) -> None:
        self._dirty[b.bot_id] = None

    @staticmethod
    def _replace(b: _Bot, window: Window | None) -> None:
        old = b.published
        if old is not None and old.ends_at is not None:
            b.last_end = old.ends_at
        b.published = window
        b.generation += 1

    def _look(self, b: _Bot, now: datetime, t: float, lead: float, out: list[Payload]) -> None:
        ws, bot_id = b.workspace_id, b.bot_id
        if b.deleted:
            if not b.delete_sent:
                out.append(
                    c.ClearWindow(
                        workspace_id=ws, bot_id=bot_id, deleted=True, generation=b.generation
                    )
                )
                b.delete_sent = True
                b.planned = None
            return
        w = b.published
        if w is not b.planned and w != b.planned:
            if w is None:
                out.append(c.ClearWindow(workspace_id=ws, bot_id=bot_id, generation=b.generation))
            else:
                out.append(
                    c.PlanWindow(
                        workspace_id=ws,
                        bot_id=bot_id,
                        starts_at=w.starts_at,
                        ends_at=w.ends_at,
                        end_rule=w.end_rule,
                        time_zone=w.time_zone,
                        generation=b.generation,
                    )
                )
            b.planned = w
        due = INF
        wake_key = INF
        in_window = False
        if w is not None:
            if t < b.end_ts:
                if (
                    t >= b.start_ts - lead
                    or b.woken_for == w.starts_at  # kept even if the lead time shrank since
                    or (b.state in ALIVE and t >= b.start_ts - lead - self._linger)
                ):
                    in_window = True
                else:
                    wake_key = b.start_ts
            else:
                b.last_end = w.ends_at
        if in_window:
            assert w is not None
            due = self._in_window(b, w, t, out)
        elif b.state in ALIVE:
            if b.drain is None and w is not None and b.end_ts <= t < b.end_ts + self._linger:
                due = b.end_ts + self._linger  # its next window may start within the lead time
            else:
                due = self._drain(b, now, t, out)
        self._schedule(b, due, wake_key)

    def _in_window(self, b: _Bot, w: Window, t: float, out: list[Payload]) -> float:
        ws, bot_id, start = b.workspace_id, b.bot_id, w.starts_at
        always = w.ends_at is None
        b.drain = None
        due = INF
        if b.state in _WAKEABLE and b.woken_for != start:
            out.append(
                c.WakeHost(
                    workspace_id=ws,
                    bot_id=bot_id,
                    reason="always_on" if always else "window",
                    window_starts_at=None if always else start,
                    generation=b.generation,
                )
            )
            b.woken_for = start
        if b.verified_for != start:
            verify_at = b.start_ts - self._verify_ahead
            if b.state == "running" and t >= verify_at:
                out.append(c.VerifyAddress(workspace_id=ws, bot_id=bot_id, window_starts_at=start))
                b.verified_for = start
            elif t < verify_at:
                due = verify_at
        if not always:
            if b.miss_checked != start:
                if t >= b.start_ts:
                    b.miss_checked = start
                    if b.state != "running" and not b.late:
                        out.append(
                            c.RecordMiss(workspace_id=ws, bot_id=bot_id, window_starts_at=start)
                        )
                elif b.start_ts < due:
                    due = b.start_ts
            if b.end_ts < due:
                due = b.end_ts
        return due

    def _drain(self, b: _Bot, now: datetime, t: float, out: list[Payload]) -> float:
        ws, bot_id = b.workspace_id, b.bot_id
        d = b.drain
        if d is _DONE:
            return INF
        reason: DrainReason = (
            d.reason if d is not None else "flat" if b.published is not None else "window_cleared"
        )
        positions = b.positions
        if not positions and not b.orders:
            out.append(
                c.ReleaseHost(
                    workspace_id=ws, bot_id=bot_id, reason=reason, generation=b.generation
                )
            )
            b.drain = _DONE
            return INF
        if d is None:
            last = b.last_end
            d = b.drain = _Drain(last if last is not None and last <= now else now, reason)
        if not d.deferred:
            minutes = self._policies.get(ws, self.default_drain_deadline_minutes)
            d.deadline = d.ends_at + timedelta(minutes=minutes) if minutes else None
            d.deferred = True
            out.append(
                c.DeferSleep(
                    workspace_id=ws,
                    bot_id=bot_id,
                    reason="open_position" if positions else "open_orders",
                    window_ends_at=d.ends_at,
                    positions=self._exposure(b),
                    open_orders=len(b.orders),
                    deadline=d.deadline,
                    generation=b.generation,
                )
            )
        if d.deadline is None:
            return INF
        deadline = d.deadline.timestamp()
        if t < deadline:
            return deadline
        out.append(
            c.ForceRelease(
                workspace_id=ws,
                bot_id=bot_id,
                positions=self._exposure(b),
                open_orders=len(b.orders),
                generation=b.generation,
            )
        )
        b.drain = _DONE
        return INF

    @staticmethod
    def _exposure(b: _Bot) -> list[c.Exposure]:
        return [
            c.Exposure(symbol=symbol, quantity=format(q, "f"))
            for (_, symbol), q in sorted(b.positions.items())
        ][:100]

    def _schedule(self, b: _Bot, due: float, wake_key: float) -> None:
        if due != b.due:
            b.due = due
            if due != INF:
                self._times.push(due, b.bot_id)
        if wake_key != b.wake_key:
            b.wake_key = wake_key
            if wake_key != INF:
                queue = self._wakes.get(b.provider)
                if queue is None:
                    queue = self._wakes[b.provider] = _Queue()
                queue.push(wake_key, b.bot_id)
