"""The compute service's command handlers, one function per command, found by class in `handlers`.

The scheduler's timer issues every command about a host (actor ``system:compute``); an operator
may wake a host by hand and set a workspace's sleep policy through the API. Work on the outside
world (a wake, a sleep, an address check) is an intent carried out by the provider adapters
(`adapters.py`); what became of it comes back through `outcomes`, saved with the outcome itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from plutarc_contracts import compute as c
from plutarc_runtime.handling import Accepted, Context, Handler, Intent
from plutarc_runtime.intents import Outcome, OutcomeHandler
from plutarc_runtime.store import EventStore

from .domain import Host, SleepPolicy, errors, host_id, policy_id

SERVICE = "compute"
WAKE, SLEEP, OBSERVE = "provider.wake", "provider.sleep", "provider.observe"


def parse_id(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise errors.InvalidInput(
            f"`{field}` must be a UUID", field=field, code="compute.invalid_id"
        ) from None


def wake_intent(host: Host) -> Intent:
    return Intent(
        WAKE,
        f"{host.bot_id}:wake:{host.wake_seq}:{host.size}",
        {
            "op": "wake",
            "bot_id": host.bot_id,
            "workspace_id": host.workspace_id,
            "size": host.size,
            "attempt": host.attempt,
        },
    )


def sleep_intent(host: Host, *, release: bool) -> Intent:
    op = "release" if release else "sleep"
    return Intent(
        SLEEP,
        f"{host.bot_id}:{op}:{host.sleep_seq}",
        {"op": op, "bot_id": host.bot_id, "workspace_id": host.workspace_id},
    )


class _Handlers:
    def __init__(self, provider: str, sizes: Sequence[str], lead: Callable[[], timedelta]) -> None:
        self.provider, self.sizes, self.lead = provider, tuple(sizes), lead

    def _host(self, ctx: Context, workspace_id: str, bot_id: str) -> Host:
        parse_id(bot_id, "bot_id")
        host = ctx.store.find(Host, host_id(bot_id))
        if host is None:
            return Host.open(workspace_id=workspace_id, bot_id=bot_id, provider=self.provider)
        if host.workspace_id and host.workspace_id != workspace_id:
            raise errors.HostNotFound(f"no host for bot {bot_id} in this workspace")
        return host

    def _system_or(self, ctx: Context, workspace_id: str, permission: str) -> None:
        if ctx.command.actor == f"system:{SERVICE}":
            ctx.require_system(SERVICE)
        else:
            ctx.require(workspace_id, permission)

    def plan_window(self, p: c.PlanWindow, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        if p.ends_at is not None and p.ends_at <= p.starts_at:
            raise errors.InvalidInput("a window ends after it starts", field="ends_at")
        host = self._host(ctx, p.workspace_id, p.bot_id)
        wake_at = p.starts_at - self.lead()
        changed = host.plan(p, provider=host.provider or self.provider, wake_at=wake_at, at=ctx.now)
        return Accepted([host] if changed else [], {"wake_at": wake_at.isoformat()})

    def clear_window(self, p: c.ClearWindow, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        host = self._host(ctx, p.workspace_id, p.bot_id)
        host.clear(ctx.now)
        intents = []
        if p.deleted and host.drain("bot_deleted", ctx.now):
            intents.append(sleep_intent(host, release=True))
        return Accepted([host], {"state": host.state}, intents)

    def wake_host(self, p: c.WakeHost, ctx: Context) -> Accepted:
        self._system_or(ctx, p.workspace_id, "compute:manage_sessions")
        host = self._host(ctx, p.workspace_id, p.bot_id)
        if host.state == "released":
            raise errors.HostReleased(f"bot {p.bot_id} was deleted: its host is gone")
        if not host.request_wake(
            size=self.sizes[0], reason=p.reason, window_starts_at=p.window_starts_at, at=ctx.now
        ):
            return Accepted([], {"state": host.state})
        return Accepted([host], {"state": host.state}, [wake_intent(host)])

    def release_host(self, p: c.ReleaseHost, ctx: Context) -> Accepted:
        self._system_or(ctx, p.workspace_id, "compute:manage_sessions")
        host = self._host(ctx, p.workspace_id, p.bot_id)
        if not host.drain(p.reason, ctx.now):
            return Accepted([], {"state": host.state})
        release = p.reason == "bot_deleted"
        return Accepted([host], {"state": host.state}, [sleep_intent(host, release=release)])

    def defer_sleep(self, p: c.DeferSleep, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        host = self._host(ctx, p.workspace_id, p.bot_id)
        changed = host.defer(p, window_ends_at=p.window_ends_at, at=ctx.now)
        return Accepted([host] if changed else [], {"state": host.state})

    def force_release(self, p: c.ForceRelease, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        host = self._host(ctx, p.workspace_id, p.bot_id)
        if not host.force(p, ctx.now):
            return Accepted([], {"state": host.state})
        return Accepted([host], {"state": host.state}, [sleep_intent(host, release=False)])

    def record_miss(self, p: c.RecordMiss, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        host = self._host(ctx, p.workspace_id, p.bot_id)
        changed = host.miss(p.window_starts_at, ctx.now)
        return Accepted([host] if changed else [], {"missed": changed})

    def verify_address(self, p: c.VerifyAddress, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        host = self._host(ctx, p.workspace_id, p.bot_id)
        if host.state != "running":
            return Accepted([], {"state": host.state})
        intent = Intent(
            OBSERVE,
            f"{host.bot_id}:observe:{p.window_starts_at.isoformat()}",
            {"op": "observe", "bot_id": host.bot_id, "workspace_id": host.workspace_id},
        )
        return Accepted([], {"state": host.state}, [intent])

    def set_sleep_policy(self, p: c.SetSleepPolicy, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "compute:manage_sessions")
        policy = ctx.store.find(SleepPolicy, policy_id(p.workspace_id))
        if policy is None:
            policy = SleepPolicy.create(p.workspace_id)
        changed = policy.set(p.drain_deadline_minutes, ctx.now)
        return Accepted([policy] if changed else [], {"drain_deadline_minutes": policy.minutes})


def handlers(
    provider: str, sizes: Sequence[str], lead: Callable[[], timedelta]
) -> dict[type, Handler]:
    h = _Handlers(provider, sizes, lead)
    return {
        c.PlanWindow: h.plan_window,
        c.ClearWindow: h.clear_window,
        c.WakeHost: h.wake_host,
        c.ReleaseHost: h.release_host,
        c.DeferSleep: h.defer_sleep,
        c.ForceRelease: h.force_release,
        c.RecordMiss: h.record_miss,
        c.VerifyAddress: h.verify_address,
        c.SetSleepPolicy: h.set_sleep_policy,
    }


# --- what the provider's answers change ------------------------------------------------------------
class _Outcomes:
    def __init__(self, sizes: Sequence[str]) -> None:
        self.sizes = tuple(sizes)

    def _fallback(self, size: str | None) -> str | None:
        if size in self.sizes:
            i = self.sizes.index(size)
            return self.sizes[i + 1] if i + 1 < len(self.sizes) else None
        return None

    def wake(self, o: Outcome, store: EventStore, now: datetime) -> Accepted:
        host = store.get(Host, host_id(o.intent.body["bot_id"]))
        current = o.intent.key == wake_intent(host).key
        if o.kind == "completed":
            was = host.state
            if not current and was not in ("draining", "released"):
                # An older wake's answer: a newer wake (or a sleep) of the same stack has the
                # last word, and its own outcome records it.
                return Accepted()
            r = o.result
            host.provisioned(address=r["address"], host=r["host_id"], size=r["size"], at=now)
            if was in ("draining", "released"):
                reason: c.ReleaseReason = "bot_deleted" if was == "released" else "operator"
                host.drain(reason, now)
                return Accepted([host], intents=[sleep_intent(host, release=was == "released")])
            return Accepted([host])
        if not current or host.state != "waking":
            return Accepted()
        error = o.error or ""
        if o.kind == "attempt_failed":
            host.wake_failed(error=error, next_size=host.size, at=now)
            return Accepted([host])
        fallback = self._fallback(host.size)
        host.wake_failed(error=error, next_size=fallback, at=now)
        if fallback is None:
            return Accepted([host])
        return Accepted([host], intents=[wake_intent(host)])

    def sleep(self, o: Outcome, store: EventStore, now: datetime) -> Accepted:
        if o.kind != "completed":
            return Accepted()
        host = store.get(Host, host_id(o.intent.body["bot_id"]))
        release = o.intent.body["op"] == "release"
        if host.state not in ("draining", "released") or (
            o.intent.key != sleep_intent(host, release=release).key
        ):
            return Accepted()
        host.slept(address_kept=not release, at=now)
        return Accepted([host])

    def observe(self, o: Outcome, store: EventStore, now: datetime) -> Accepted:
        if o.kind != "completed":
            return Accepted()
        host = store.get(Host, host_id(o.intent.body["bot_id"]))
        found = o.result.get("address")
        on_host = bool(o.result.get("address_on_host"))
        host.verified(found=found, on_host=on_host, at=now)
        if host.state == "running" and not (found == host.address and on_host):
            # Put the address back on the host: a wake of an awake host converges its stack.
            host.repair(now)
            return Accepted([host], intents=[wake_intent(host)])
        return Accepted([host])


def outcomes(sizes: Sequence[str]) -> dict[str, OutcomeHandler]:
    o = _Outcomes(sizes)
    return {WAKE: o.wake, SLEEP: o.sleep, OBSERVE: o.observe}
