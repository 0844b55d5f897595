"""The shape every service has, proven on a service written only for these tests (reminders/).

It declares contracts, an aggregate, handlers by class, a reaction through an adapter, a timer,
a read model, a private topic and `require`, and nothing in the runtime knows its nouns.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_contracts import CommandEnvelope, CommandRejected, Envelope
from plutarc_contracts import identity as c
from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.intents import WORKER_TRACKING, PermanentFailure
from plutarc_testkit.harness import Harness
from plutarc_testkit.identity_events import workspace_events as identity_workspace
from plutarc_testkit.waiting import until

from .kafka_helpers import produce, read_all
from .reminders import contracts as r
from .reminders.bootstrap import build

ENGINE = RegoEngine()


class Pager:
    """A fake adapter: records each page; fails `failures` times first (or always, permanently)."""

    def __init__(self, failures: int = 0, permanent: bool = False) -> None:
        self.failures, self.permanent = failures, permanent
        self.calls: list[str] = []
        self.pages: list[str] = []

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        self.calls.append(intent.key)
        if self.permanent:
            raise PermanentFailure("no such pager")
        if len(self.calls) <= self.failures:
            raise ConnectionError("pager down")
        self.pages.append(intent.body["text"])
        return {"paged": True}


def workspace_events(ws: str) -> list[Envelope]:
    """alice owns `ws`, bob is a viewer in it."""
    return identity_workspace(ws, {"alice": "owner", "bob": "viewer"})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    made: list[Harness] = []

    def make_harness(pager: Pager) -> tuple[Harness, str]:
        memberships = Memberships(ENGINE)
        ws = str(uuid4())
        for env in workspace_events(ws):
            memberships.apply(env)
        kwargs: dict[str, Any] = {"sqlite_path": tmp_path / f"r-{uuid4().hex[:6]}.sqlite"}
        if request.param == "postgres":
            pg = request.getfixturevalue("postgres_server")
            kwargs = {"database_url": pg.create_database(f"rem_{uuid4().hex[:10]}")}
        harness = Harness(build(memberships, {"pager": pager}), **kwargs)
        made.append(harness)
        return harness, ws

    yield make_harness
    for harness in made:
        harness.close()


def set_reminder(ws: str, due_at: datetime, text: str = "rebalance") -> r.SetReminder:
    return r.SetReminder(workspace_id=ws, reminder_id=str(uuid4()), text=text, due_at=due_at)


async def test_require_timer_reaction_and_adapter_work_together(make: Any) -> None:
    pager = Pager()
    h, ws = make(pager)
    due = h.clock.now() + timedelta(minutes=10)

    h.ok("user:alice", set_reminder(ws, due))
    refused = h.rejected("user:bob", set_reminder(ws, due), "access.forbidden")
    assert refused.kind == "forbidden"
    hidden = h.rejected("user:eve", set_reminder(ws, due), "workspace.not_found")
    assert hidden.kind == "not_found", "a workspace one is not in looks like none at all"
    forged = h.send("user:alice", r.FireReminders(reminder_ids=[]))
    assert isinstance(forged, CommandRejected) and forged.code == "access.system_only"

    assert h.advance(timedelta(minutes=5)) == 0, "nothing is due yet"
    assert h.events("reminders.reminder_fired") == []
    assert h.advance(timedelta(minutes=6)) == 1, "one command for the due reminder"
    fired = h.events("reminders.reminder_fired")
    assert len(fired) == 1 and fired[0].actor == "system:reminders"
    assert h.advance(timedelta(minutes=2)) == 0, "the read model saw the reminder fire"

    assert [i.key for i in h.intents()] == [f"fired:{fired[0].payload.reminder_id}"]
    await h.drain_intents()
    assert pager.pages == ["rebalance"]
    assert len(h.intents("system.intent_completed")) == 1


async def test_an_adapter_down_for_a_while_delivers_exactly_once(make: Any) -> None:
    pager = Pager(failures=3)
    h, ws = make(pager)
    h.ok("user:alice", set_reminder(ws, h.clock.now()))
    h.advance(timedelta(minutes=1))
    await h.drain_intents()
    assert pager.pages == ["rebalance"], "delivered once, after the outage"
    assert len(pager.calls) == 4
    assert [p.attempt for p in h.intents("system.intent_attempt_failed")] == [1, 2, 3]
    assert h.metrics.intents.labels("pager", "retried")._value.get() == 3

    # The same decision made again (a repeated timer pass) records nothing new.
    before = len(h.events())
    h.advance(timedelta(minutes=1))
    assert len(h.events()) == before


async def test_a_permanent_failure_is_recorded_and_counted(make: Any) -> None:
    pager = Pager(permanent=True)
    h, ws = make(pager)
    h.ok("user:alice", set_reminder(ws, h.clock.now()))
    h.advance(timedelta(minutes=1))
    await h.drain_intents()
    failed = h.intents("system.intent_failed")
    assert len(failed) == 1 and "no such pager" in failed[0].error
    assert len(pager.calls) == 1, "a permanent refusal is not retried"
    assert h.metrics.intents.labels("pager", "failed")._value.get() == 1


async def test_a_restarted_worker_carries_out_what_was_pending(make: Any) -> None:
    """Recorded, then the process died before acting: a new worker finds it and acts once."""
    pager = Pager()
    h, ws = make(pager)
    h.ok("user:alice", set_reminder(ws, h.clock.now()))
    h.advance(timedelta(minutes=1))
    blocked = asyncio.Event()

    async def hang(intent: IntentRecorded) -> dict[str, Any]:
        blocked.set()
        await asyncio.Event().wait()  # never returns: the process "dies" mid-call
        return {}

    h.spec.adapters = {"pager": hang}  # type: ignore[misc]
    stop = asyncio.Event()
    first = h.worker()
    task = asyncio.create_task(first.run(stop))
    await until(blocked.is_set, what="the first worker calling the adapter")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert h.pending_intents() == 1

    h.spec.adapters = {"pager": pager}  # type: ignore[misc]
    await h.drain_intents()
    assert pager.pages == ["rebalance"]


async def test_the_worker_follows_saves_as_handed_over_and_records_its_mark_lazily(
    make: Any,
) -> None:
    """Intents saved while the worker runs reach it without a read of the store, and while saves
    keep coming its mark is not written after each one; a restart from the lagging mark reads
    the log again and repeats nothing."""
    pager = Pager()
    h, ws = make(pager)
    worker = h.worker(poll_interval=3600, mark_interval=3600)
    scans = 0
    scan = worker._scan

    def counted() -> Any:
        nonlocal scans
        scans += 1
        return scan()

    worker._scan = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: scans == 1, what="the worker's first read of the store")
        for i in range(3):
            h.ok("user:alice", set_reminder(ws, h.clock.now(), text=f"page {i}"))
            assert h.advance(timedelta(minutes=1)) == 1
            await until(lambda n=i + 1: len(pager.pages) == n, what=f"page {i}")
        await until(lambda: h.pending_intents() == 0, what="every outcome recorded")
        await until(lambda: worker.position == h.store.max_notification_id(), what="caught up")
        assert scans == 1, "the worker followed what the saves handed over"
        assert h.store.max_tracking_id(WORKER_TRACKING) == 0, "no mark written while busy"
    finally:
        stop.set()
        await task

    await h.drain_intents()
    assert pager.pages == ["page 0", "page 1", "page 2"], "a restart repeats nothing"
    restarted = h.worker()
    stop = asyncio.Event()
    task = asyncio.create_task(restarted.run(stop))
    try:
        head = h.store.max_notification_id()
        await until(
            lambda: h.store.max_tracking_id(WORKER_TRACKING) == head,
            what="the mark recorded once quiet",
        )
    finally:
        stop.set()
        await task


def h_events(service: Any) -> list[Envelope]:
    decode = service.spec.registry.decode_event
    return [decode(n.state) for n in service.store.notifications(1, 100_000)]


@pytest.mark.kafka
async def test_the_service_runs_on_kafka_with_its_private_topic(
    run_service: Any, kafka_bootstrap: str
) -> None:
    ws = str(uuid4())
    registry = r.registry()
    await ensure_topics(kafka_bootstrap, list(c.identity_topics().all()))
    await produce(
        kafka_bootstrap,
        "identity.events.v1",
        [registry.encode_event(e) for e in workspace_events(ws)],
        key=ws.encode(),  # as identity's relay keys them: by stream, so they stay in order
    )
    pager = Pager()
    service = await run_service(build(Memberships(ENGINE), {"pager": pager}), timer_poll=0.1)
    reminder = set_reminder(ws, datetime(2020, 1, 1, tzinfo=UTC))
    note = r.AddNote(workspace_id=ws, reminder_id=reminder.reminder_id, note="operator only")
    commands = []
    for payload in (reminder, note):
        name, version = registry.type_name_of(type(payload))
        cid = str(uuid4())
        commands.append(
            registry.encode_command(
                CommandEnvelope(
                    command_id=cid,
                    type=name,
                    schema_version=version,
                    issued_at=datetime.now(UTC),
                    actor="user:alice",
                    workspace_id=ws,
                    correlation_id=cid,
                    causation_id=None,
                    payload=payload,
                )
            )
        )
    # The memberships projection replays identity's topic before the service can authorize.
    await until(lambda: service.authorizer.source.role_of("alice", ws), what="memberships")
    await produce(kafka_bootstrap, "reminders.commands.v1", commands, key=ws.encode())

    await until(
        lambda: any(e.type == "reminders.reminder_set" for e in h_events(service)),
        what="the reminder stored",
    )
    service.clock.advance(timedelta(minutes=2))  # the timer's interval, on simulated time
    await until(lambda: pager.pages == ["rebalance"], timeout=30, what="the timer, reaction, page")
    events = [
        registry.decode_event(x.value)
        for x in await read_all(kafka_bootstrap, "reminders.events.v1")
    ]
    private = [
        registry.decode_event(x.value) for x in await read_all(kafka_bootstrap, r.PRIVATE_TOPIC)
    ]
    mine = [e for e in events if e.workspace_id == ws]
    assert {e.type for e in mine} >= {"reminders.reminder_set", "reminders.reminder_fired"}
    assert "reminders.note_added" not in {e.type for e in events}
    assert [e.payload.note for e in private if e.workspace_id == ws] == ["operator only"]
    assert not [e for e in events if e.type.startswith("system.intent_")], "intents stay home"


def test_a_command_reached_too_late_is_refused_not_carried_out(make: Any) -> None:
    from plutarc_runtime.commands import LocalDispatcher

    h, ws = make(Pager())
    h.processor.max_age = timedelta(seconds=60)
    registry = h.spec.registry
    late = set_reminder(ws, h.clock.now())
    name, version = registry.type_name_of(type(late))

    def envelope(issued_at: datetime, command_id: str) -> bytes:
        return registry.encode_command(
            CommandEnvelope(
                command_id=command_id,
                type=name,
                schema_version=version,
                issued_at=issued_at,
                actor="user:alice",
                workspace_id=ws,
                correlation_id=command_id,
                causation_id=None,
                payload=late,
            )
        )

    bus = LocalDispatcher(h.processor)
    before = h.domain_events()
    reply = bus.send_raw(envelope(h.clock.now() - timedelta(minutes=2), str(uuid4())))
    assert isinstance(reply, CommandRejected)
    assert (reply.kind, reply.code) == ("unavailable", "command.expired")
    assert h.domain_events() == before, "nothing carried out"

    # A command handled in time and repeated later gets its first outcome, however old.
    cid = str(uuid4())
    first = bus.send_raw(envelope(h.clock.now(), cid))
    h.clock.advance(timedelta(hours=1))
    again = bus.send_raw(envelope(h.clock.now() - timedelta(hours=1), cid))
    assert type(first) is type(again) and first.command_id == again.command_id == cid
    assert not isinstance(again, CommandRejected)


async def test_an_intent_for_an_adapter_this_process_lacks_waits_for_one_that_has_it(
    make: Any,
) -> None:
    pager = Pager()
    h, ws = make(pager)
    h.ok("user:alice", set_reminder(ws, h.clock.now()))
    h.advance(timedelta(minutes=1))
    h.spec.adapters = {}  # type: ignore[misc]
    stop = asyncio.Event()
    worker = h.worker()
    task = asyncio.create_task(worker.run(stop))
    await until(lambda: len(worker.pending) == 1, what="the intent seen")
    stop.set()
    await task
    assert h.pending_intents() == 1 and pager.calls == []
    h.spec.adapters = {"pager": pager}  # type: ignore[misc]
    await h.drain_intents()
    assert pager.pages == ["rebalance"], "a later worker with the adapter carries it out"
