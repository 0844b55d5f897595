"""What a wake's answer changes in the host, decided against the wake the host is on now: an
older wake's answer (a size that was retried at the next size) must not undo the newer one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from plutarc_compute.domain.host import Host
from plutarc_compute.handlers import outcomes, sleep_intent, wake_intent
from plutarc_contracts import compute as c
from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.intents import Outcome

BOT, WS = "7f1c0a52-5d1e-4d7b-9d43-6f0e1d2c3b4a", "ws-1"
T = datetime(2026, 12, 7, 8, tzinfo=UTC)
SIZES = ("small", "medium", "large")


class OneHost:
    """The store as the outcome handler reads it: this one host."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def get(self, cls: type[Host], aggregate_id: UUID) -> Host:
        assert cls is Host and aggregate_id == self.host.id
        return self.host


def waking(size: str = "small") -> Host:
    host = Host.open(workspace_id=WS, bot_id=BOT, provider="memory")
    host.request_wake(size=size, reason="window", window_starts_at=T, at=T)
    return host


def answer(intent: Any, kind: str = "completed", size: str = "small") -> Outcome:
    recorded = IntentRecorded(adapter=intent.adapter, key=intent.key, body=intent.body)
    result = {"address": "198.18.0.7", "host_id": f"h-{size}", "size": size}
    error = None if kind == "completed" else "capacity"
    return Outcome(recorded, kind, 1, result if kind == "completed" else {}, error)  # type: ignore[arg-type]


def new_types(host: Host, before: int) -> list[type]:
    return [type(e.payload) for e in host._pending[before:]]


def test_the_current_wakes_answer_puts_the_host_to_work() -> None:
    host = waking()
    wake = outcomes(SIZES)["provider.wake"]
    accepted = wake(answer(wake_intent(host)), OneHost(host), T + timedelta(seconds=40))
    assert accepted.aggregates == [host]
    assert (host.state, host.address, host.size) == ("running", "198.18.0.7", "small")


def test_an_older_wakes_late_answer_changes_nothing() -> None:
    host = waking("small")
    first = wake_intent(host)
    wake = outcomes(SIZES)["provider.wake"]
    # The small size was refused for good: the host is now waking at the next size.
    wake(answer(first, "failed"), OneHost(host), T + timedelta(seconds=5))
    assert (host.state, host.size) == ("waking", "medium")
    before = len(host._pending)
    # The small wake answers after all (a provider that finished once given up on).
    late = wake(answer(first), OneHost(host), T + timedelta(seconds=50))
    assert (list(late.aggregates), list(late.intents)) == ([], [])
    assert new_types(host, before) == []
    assert host.state == "waking", "the host is not drained: the bot's window is still ahead"
    # The medium wake's own answer records the host.
    wake(answer(wake_intent(host), size="medium"), OneHost(host), T + timedelta(seconds=60))
    assert (host.state, host.size, host.host) == ("running", "medium", "h-medium")


def test_a_host_drained_while_waking_is_put_to_sleep_once_its_wake_answers() -> None:
    host = waking()
    intent = wake_intent(host)
    host.drain("operator", T + timedelta(seconds=3))
    wake = outcomes(SIZES)["provider.wake"]
    accepted = wake(answer(intent), OneHost(host), T + timedelta(seconds=40))
    assert host.state == "draining"
    assert [i.key for i in accepted.intents] == [sleep_intent(host, release=False).key]
    assert c.HostProvisioned in new_types(host, 0), "the host that came up is on record"


def test_an_older_wakes_failure_does_not_fail_the_newer_wake() -> None:
    host = waking("small")
    first = wake_intent(host)
    wake = outcomes(SIZES)["provider.wake"]
    wake(answer(first, "failed"), OneHost(host), T + timedelta(seconds=5))
    before = len(host._pending)
    again = wake(answer(first, "failed"), OneHost(host), T + timedelta(seconds=6))
    assert list(again.aggregates) == []
    assert (new_types(host, before), host.state, host.size) == ([], "waking", "medium")
