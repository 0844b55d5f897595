"""A bot's host: one stream per bot, a lifecycle of wakes and sleeps around a kept address.

States: ``new`` (never woken), ``waking`` (provisioning requested), ``running`` (the bot runs on
it), ``draining`` (being released), ``asleep`` (no host; the address is kept), ``failed`` (a wake
gave up: the operator is told; the next window tries again), ``released`` (the bot was deleted).
Each verb records nothing when the host is already where the verb would take it, so a decision
taken twice (a timer's pass repeated after a crash) changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from plutarc_contracts import compute as c
from plutarc_runtime.domain import Aggregate

HOST_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/compute/host")

State = Literal["new", "waking", "running", "draining", "asleep", "failed", "released"]
AWAKE: frozenset[str] = frozenset({"waking", "running"})


def host_id(bot_id: str) -> UUID:
    return uuid5(HOST_NS, bot_id)


class Host(Aggregate):
    stream_type: ClassVar[str] = "compute.host"
    # Defaults at class level: a host loaded from its events starts from them (`blank`).
    workspace_id: str = ""
    bot_id: str = ""
    provider: str = ""
    state: State = "new"
    address: str | None = None
    host: str | None = None
    size: str | None = None
    attempt: int = 0
    wake_seq: int = 0
    """Counts wakes; an intent's key names the wake it belongs to."""
    sleep_seq: int = 0
    requested_at: datetime | None = None
    window: c.WindowPlanned | None = None
    deferred_for: datetime | None = None
    deadline: datetime | None = None
    missed: tuple[datetime, ...] = ()
    awake_since: datetime | None = None

    @classmethod
    def open(cls, *, workspace_id: str, bot_id: str, provider: str) -> Host:
        host = cls(host_id(bot_id))
        host.workspace_id, host.bot_id, host.provider = workspace_id, bot_id, provider
        return host

    # --- verbs ------------------------------------------------------------------------------------
    def plan(self, p: c.PlanWindow, *, provider: str, wake_at: datetime, at: datetime) -> bool:
        w = self.window
        if w is not None and (w.starts_at, w.ends_at, w.wake_at) == (
            p.starts_at,
            p.ends_at,
            wake_at,
        ):
            return False
        self._trigger(
            c.WindowPlanned(
                workspace_id=p.workspace_id,
                bot_id=p.bot_id,
                provider=provider,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                wake_at=wake_at,
                end_rule=p.end_rule,
                time_zone=p.time_zone,
            ),
            at,
        )
        return True

    def clear(self, at: datetime) -> bool:
        if self.window is None:
            return False
        self._trigger(c.WindowCleared(workspace_id=self.workspace_id, bot_id=self.bot_id), at)
        return True

    def request_wake(
        self, *, size: str, reason: c.WakeReason, window_starts_at: datetime | None, at: datetime
    ) -> bool:
        if self.state in AWAKE or self.state in ("draining", "released"):
            return False
        self._trigger(
            c.ProvisioningRequested(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                provider=self.provider,
                attempt=1,
                size=size,
                reason=reason,
                window_starts_at=window_starts_at,
            ),
            at,
        )
        return True

    def repair(self, at: datetime) -> None:
        """Converge a running host's stack again (its address was found elsewhere)."""
        self._trigger(
            c.ProvisioningRequested(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                provider=self.provider,
                attempt=1,
                size=self.size or "",
                reason="repair",
            ),
            at,
        )

    def wake_failed(self, *, error: str, next_size: str | None, at: datetime) -> None:
        self._trigger(
            c.ProvisioningFailed(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                attempt=max(1, self.attempt),
                size=self.size or "",
                error=error[:2000],
                next_size=next_size,
            ),
            at,
        )

    def provisioned(self, *, address: str, host: str, size: str, at: datetime) -> None:
        took = 0
        if self.requested_at is not None:
            took = max(0, int((at - self.requested_at).total_seconds() * 1000))
        self._trigger(
            c.HostProvisioned(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                provider=self.provider,
                address=address,
                host_id=host,
                size=size,
                took_ms=took,
            ),
            at,
        )
        self._trigger(
            c.BotStartedOnHost(workspace_id=self.workspace_id, bot_id=self.bot_id, address=address),
            at,
        )

    def defer(self, p: c.DeferSleep, *, window_ends_at: datetime, at: datetime) -> bool:
        if self.state != "running" or self.deferred_for == window_ends_at:
            return False
        self._trigger(
            c.SleepDeferred(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                reason=p.reason,
                window_ends_at=window_ends_at,
                positions=p.positions,
                open_orders=p.open_orders,
                deadline=p.deadline,
            ),
            at,
        )
        return True

    def force(self, p: c.ForceRelease, at: datetime) -> bool:
        if self.state not in AWAKE:
            return False
        self._trigger(
            c.DrainDeadlineReached(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                positions=p.positions,
                open_orders=p.open_orders,
            ),
            at,
        )
        return self.drain("deadline", at)

    def drain(self, reason: c.ReleaseReason, at: datetime) -> bool:
        if self.state not in (*AWAKE, "failed") and not (
            reason == "bot_deleted" and self.state != "released"
        ):
            return False
        if self.state == "draining":
            return False
        self._trigger(
            c.HostDrained(workspace_id=self.workspace_id, bot_id=self.bot_id, reason=reason), at
        )
        return True

    def slept(self, *, address_kept: bool, at: datetime) -> None:
        self._trigger(c.BotStoppedOnHost(workspace_id=self.workspace_id, bot_id=self.bot_id), at)
        self._trigger(
            c.HostDeprovisioned(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                address=self.address,
                address_kept=address_kept,
            ),
            at,
        )
        if not address_kept:
            self._trigger(
                c.AddressReleased(
                    workspace_id=self.workspace_id, bot_id=self.bot_id, address=self.address
                ),
                at,
            )

    def miss(self, window_starts_at: datetime, at: datetime) -> bool:
        if window_starts_at in self.missed or self.state == "running":
            return False
        self._trigger(
            c.WindowMissed(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                window_starts_at=window_starts_at,
                state=self.state,
            ),
            at,
        )
        return True

    def verified(self, *, found: str | None, on_host: bool, at: datetime) -> None:
        ok = found is not None and found == self.address and on_host
        self._trigger(
            c.AddressVerified(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                expected=self.address,
                found=found,
                on_host=on_host,
                ok=ok,
            ),
            at,
        )

    # --- folding ----------------------------------------------------------------------------------
    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        p: Any = payload
        match p:
            case c.WindowPlanned():
                self.workspace_id, self.bot_id, self.provider = (
                    p.workspace_id,
                    p.bot_id,
                    p.provider,
                )
                self.window = p
            case c.WindowCleared():
                self.window = None
            case c.ProvisioningRequested():
                self.workspace_id, self.bot_id, self.provider = (
                    p.workspace_id,
                    p.bot_id,
                    p.provider,
                )
                self.state, self.size, self.attempt = "waking", p.size, p.attempt
                self.wake_seq += 1
                self.requested_at = at
            case c.ProvisioningFailed():
                if p.next_size is None:
                    self.state = "failed"
                else:
                    self.size, self.attempt = p.next_size, self.attempt + 1
                    self.requested_at = at
            case c.HostProvisioned():
                self.state, self.address, self.host, self.size = (
                    "running",
                    p.address,
                    p.host_id,
                    p.size,
                )
                self.awake_since = at
            case c.BotStartedOnHost():
                pass
            case c.SleepDeferred():
                self.deferred_for, self.deadline = p.window_ends_at, p.deadline
            case c.DrainDeadlineReached():
                pass
            case c.HostDrained():
                self.state = "released" if p.reason == "bot_deleted" else "draining"
                self.sleep_seq += 1
            case c.BotStoppedOnHost():
                pass
            case c.HostDeprovisioned():
                self.host, self.awake_since = None, None
                if self.state != "released":
                    self.state = "asleep"
                self.deadline = None
            case c.AddressReleased():
                self.address = None
            case c.WindowMissed():
                self.missed = (*self.missed[-63:], p.window_starts_at)
            case c.AddressVerified():
                pass
