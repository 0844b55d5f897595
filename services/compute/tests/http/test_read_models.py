"""The compute API's projection on its own (SQLite, no broker): a host's state through a wake and a
sleep, its window, a deferral, a failure given up; usage intervals opened and closed (also across
batches), the address kept while asleep and released at the end; misses and the sleep policy; the
same result in one batch or event by event, and an event delivered twice changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from plutarc_compute.api import visibility
from plutarc_compute.api.models import HostsProjection, hosts, misses, policies, usage
from plutarc_contracts import Envelope
from plutarc_contracts import compute as c
from sqlalchemy import Engine, create_engine, select

T0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
WS, BOT = "ws-1", "bot-1"
TYPES = {cls: name for name, cls in c.EVENTS.items()}


def env(payload: Any, minutes: float, n: int = 0) -> Envelope:
    return Envelope(
        event_id=str(uuid4()),
        type=TYPES[type(payload)],
        schema_version=1,
        occurred_at=T0 + timedelta(minutes=minutes),
        producer="compute",
        stream_id=payload.bot_id if hasattr(payload, "bot_id") else payload.workspace_id,
        stream_position=n,
        workspace_id=WS,
        actor="system:compute",
        correlation_id=str(uuid4()),
        causation_id=None,
        payload=payload,
    )


def ids(bot: str = BOT) -> dict[str, str]:
    return {"workspace_id": WS, "bot_id": bot}


def planned(day: int = 0) -> c.WindowPlanned:
    start = datetime(2026, 12, 7 + day, 8, 0, tzinfo=UTC)
    return c.WindowPlanned(
        **ids(),
        provider="local",
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        wake_at=start - timedelta(minutes=1),
        end_rule="flatten",
        time_zone="Europe/London",
    )


def provisioned(size: str = "small") -> c.HostProvisioned:
    return c.HostProvisioned(
        **ids(), provider="local", address="127.0.9.1", host_id="h-1", size=size, took_ms=900
    )


def day_events() -> list[Envelope]:
    """A window planned, a wake, a deferred sleep, a drain and a sleep keeping the address."""
    return [
        env(planned(), 0),
        env(
            c.ProvisioningRequested(
                **ids(), provider="local", attempt=1, size="small", reason="window"
            ),
            59,
        ),
        env(provisioned(), 60),
        env(c.BotStartedOnHost(**ids(), address="127.0.9.1"), 61),
        env(
            c.SleepDeferred(
                **ids(),
                reason="open_position",
                window_ends_at=T0 + timedelta(hours=9),
                deadline=T0 + timedelta(hours=10),
            ),
            540,
        ),
        env(c.HostDrained(**ids(), reason="flat"), 570),
        env(c.BotStoppedOnHost(**ids()), 571),
        env(c.HostDeprovisioned(**ids(), address="127.0.9.1", address_kept=True), 572),
    ]


@pytest.fixture
def engine() -> Iterator[Engine]:
    found = create_engine("sqlite://")
    HostsProjection().metadata.create_all(found)
    yield found
    found.dispose()


def apply(engine: Engine, events: list[Envelope], batch: int = 100) -> None:
    projection = HostsProjection()
    for start in range(0, len(events), batch):
        with engine.begin() as conn:
            projection.apply(conn, events[start : start + batch])


def rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def host(engine: Engine) -> dict[str, Any]:
    [found] = rows(engine, hosts)
    return found


def spans(engine: Engine) -> list[tuple[str, float, float | None, str | None]]:
    def minutes(at: datetime | None) -> float | None:
        return None if at is None else (at.replace(tzinfo=UTC) - T0) / timedelta(minutes=1)

    return sorted(
        (r["kind"], minutes(r["started_at"]) or 0.0, minutes(r["ended_at"]), r["size"])
        for r in rows(engine, usage)
    )


@pytest.mark.parametrize("batch", [1, 3, 100])
def test_a_day_of_a_host(engine: Engine, batch: int) -> None:
    events = day_events()
    apply(engine, events[:2], batch)
    assert host(engine)["state"] == "waking"
    apply(engine, events[2:4], batch)
    row = host(engine)
    assert (row["state"], row["address"], row["size"], row["host_id"]) == (
        "running",
        "127.0.9.1",
        "small",
        "h-1",
    )
    assert row["window_starts_at"].replace(tzinfo=UTC) == datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert row["wake_at"].replace(tzinfo=UTC) == datetime(2026, 12, 7, 7, 59, tzinfo=UTC)
    assert spans(engine) == [("address", 60.0, None, None), ("host", 60.0, None, "small")]
    apply(engine, events[4:5], batch)
    assert host(engine)["deferred_reason"] == "open_position"
    assert host(engine)["deferred_deadline"] is not None
    apply(engine, events[5:], batch)
    row = host(engine)
    assert (row["state"], row["address"], row["host_id"], row["deferred_reason"]) == (
        "asleep",
        "127.0.9.1",
        None,
        None,
    )
    assert spans(engine) == [("address", 60.0, None, None), ("host", 60.0, 572.0, "small")]


def test_one_batch_and_event_by_event_agree(engine: Engine) -> None:
    events = day_events()
    apply(engine, events, 1)
    other = create_engine("sqlite://")
    HostsProjection().metadata.create_all(other)
    apply(other, events, 100)
    assert rows(engine, hosts) == rows(other, hosts)
    assert rows(engine, usage) == rows(other, usage)


def test_an_event_delivered_twice_changes_nothing(engine: Engine) -> None:
    events = day_events()
    apply(engine, events)
    before = (host(engine)["state"], spans(engine))
    apply(engine, [events[2], events[-1]])
    assert (host(engine)["state"], spans(engine)) == before


def test_second_wake_opens_a_second_host_interval_and_the_address_ends_at_release(
    engine: Engine,
) -> None:
    apply(engine, day_events())
    apply(
        engine,
        [
            env(planned(1), 600),
            env(provisioned("medium"), 1440 + 60),
            env(c.HostDeprovisioned(**ids(), address="127.0.9.1", address_kept=True), 1440 + 600),
            env(c.WindowCleared(**ids()), 1440 + 601),
            env(c.AddressReleased(**ids(), address="127.0.9.1"), 1440 + 602),
        ],
    )
    assert spans(engine) == [
        ("address", 60.0, 2042.0, None),
        ("host", 60.0, 572.0, "small"),
        ("host", 1500.0, 2040.0, "medium"),
    ]
    row = host(engine)
    assert (row["state"], row["address"], row["window_starts_at"]) == ("released", None, None)
    assert row["released_at"] is not None


def test_a_failure_given_up_and_one_retried(engine: Engine) -> None:
    base = {**ids(), "attempt": 1, "size": "large", "error": "no capacity"}
    apply(engine, [env(c.ProvisioningFailed(**base, next_size="medium"), 1)])
    assert (host(engine)["state"], host(engine)["size"]) == ("waking", "medium")
    apply(engine, [env(c.ProvisioningFailed(**{**base, "attempt": 2}, next_size=None), 2)])
    row = host(engine)
    assert (row["state"], row["last_error"]) == ("failed", "no capacity")
    assert rows(engine, usage) == []


def test_deprovisioned_without_keeping_the_address_closes_both(engine: Engine) -> None:
    apply(
        engine,
        [
            env(provisioned(), 0),
            env(c.HostDeprovisioned(**ids(), address="127.0.9.1", address_kept=False), 30),
        ],
    )
    assert spans(engine) == [("address", 0.0, 30.0, None), ("host", 0.0, 30.0, "small")]
    assert (host(engine)["state"], host(engine)["address"]) == ("released", None)


def test_misses_and_the_sleep_policy(engine: Engine) -> None:
    missed = c.WindowMissed(**ids(), window_starts_at=T0, state="waking")
    apply(
        engine,
        [
            env(missed, 1),
            env(missed, 2),
            env(c.SleepPolicySet(workspace_id=WS, drain_deadline_minutes=30), 3),
            env(c.SleepPolicySet(workspace_id=WS, drain_deadline_minutes=45), 4),
        ],
    )
    [miss] = rows(engine, misses)
    assert (miss["bot_id"], miss["state"]) == (BOT, "waking")
    [policy] = rows(engine, policies)
    assert policy["drain_deadline_minutes"] == 45


def test_who_sees_which_event_live() -> None:
    for name in c.EVENTS:
        assert visibility(name) == "compute:read"
    assert visibility("exchange.order_filled") is None


def test_a_deleted_bots_host_is_released_not_asleep(engine: Engine) -> None:
    apply(
        engine,
        [
            env(provisioned(), 0),
            env(c.HostDrained(**ids(), reason="bot_deleted"), 10),
            env(c.HostDeprovisioned(**ids(), address="127.0.9.1", address_kept=True), 11),
        ],
    )
    assert host(engine)["state"] == "released"
    assert spans(engine) == [("address", 0.0, None, None), ("host", 0.0, 11.0, "small")]
    apply(engine, [env(c.AddressReleased(**ids(), address="127.0.9.1"), 12)])
    assert spans(engine)[0] == ("address", 0.0, 12.0, None)
    assert (host(engine)["state"], host(engine)["address"]) == ("released", None)
