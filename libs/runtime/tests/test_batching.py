"""The command consumer's batches: many records decided into one transaction, exactly once.

Driven without a broker: records are handed to the consumer's batch path as Kafka would hand them
(`Consumer._handle_many`), on a real SQLite store.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from plutarc_contracts import CommandEnvelope
from plutarc_runtime.batching import decide_and_store
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.commands import CommandOutcome, CommandProcessor, outcome_id
from plutarc_runtime.consumer import Consumer
from plutarc_runtime.domain import DomainError
from plutarc_runtime.handling import Accepted, Context
from plutarc_runtime.store import EventStore, Meta
from plutarc_runtime.timers import ReadModels
from plutarc_testkit.waiting import until

from .demo import HANDLERS, Counter, Increment, OpenCounter, demo_registry

REGISTRY = demo_registry()
TOPIC = "demo.commands.v1"
TP = TopicPartition(TOPIC, 0)


class IncrementTwice(msgspec.Struct, frozen=True, kw_only=True):
    """Increments by `by`, then by `by` again: refused after changing the counter past its limit."""

    counter_id: str
    by: int


class OpenUnique(msgspec.Struct, frozen=True, kw_only=True):
    counter_id: str
    name: str


class Boom(msgspec.Struct, frozen=True, kw_only=True):
    counter_id: str


class Rendezvous(msgspec.Struct, frozen=True, kw_only=True):
    """Increments by one after calling the test's `MID_BATCH` hook."""

    counter_id: str


MID_BATCH: list[Callable[[], None]] = []


REGISTRY.register_command("demo.increment_twice", {1: IncrementTwice})
REGISTRY.register_command("demo.open_unique", {1: OpenUnique})
REGISTRY.register_command("demo.boom", {1: Boom})
REGISTRY.register_command("demo.rendezvous", {1: Rendezvous})


class Names:
    """A read model: the names of the counters opened so far."""

    event_types = frozenset({"demo.counter_opened"})

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def apply(self, env: Any) -> None:
        self.taken.add(env.payload.name)


def increment_twice(p: IncrementTwice, ctx: Context) -> Accepted:
    counter = ctx.store.get(Counter, UUID(p.counter_id))
    counter.increment(p.by, ctx.now)
    counter.increment(p.by, ctx.now)
    return Accepted([counter], {"value": counter.value})


def open_unique(p: OpenUnique, ctx: Context) -> Accepted:
    if p.name in ctx.model(Names).taken:
        raise DomainError(f"a counter is named {p.name}", code="demo.name_taken")
    return Accepted([Counter.open(p.name, ctx.now, counter_id=UUID(p.counter_id))])


def boom(p: Boom, ctx: Context) -> Accepted:
    counter = ctx.store.get(Counter, UUID(p.counter_id))
    counter.increment(1, ctx.now)
    raise RuntimeError("a bug after a change")


def rendezvous(p: Rendezvous, ctx: Context) -> Accepted:
    counter = ctx.store.get(Counter, UUID(p.counter_id))
    for hook in MID_BATCH:
        hook()
    counter.increment(1, ctx.now)
    return Accepted([counter], {"value": counter.value})


ALL_HANDLERS: dict[type[Any], Any] = {
    **HANDLERS,
    IncrementTwice: increment_twice,
    OpenUnique: open_unique,
    Boom: boom,
    Rendezvous: rendezvous,
}


def command(payload: msgspec.Struct, command_id: str | None = None) -> bytes:
    name, version = REGISTRY.type_name_of(type(payload))
    cid = command_id or str(uuid4())
    env = CommandEnvelope(
        command_id=cid,
        type=name,
        schema_version=version,
        issued_at=datetime.now(UTC),
        actor="user:alice",
        workspace_id="ws-1",
        correlation_id=cid,
        causation_id=None,
        payload=payload,
    )
    return REGISTRY.encode_command(env)


def records(values: list[bytes], start: int = 0) -> list[ConsumerRecord[Any, Any]]:
    return [
        ConsumerRecord(TOPIC, 0, start + i, 0, 0, None, v, None, 0, len(v), ())
        for i, v in enumerate(values)
    ]


class Rig:
    """A store, the command processor and a consumer whose batch path is driven directly."""

    def __init__(self, path: Path, *, batch_size: int = 100) -> None:
        self.store = EventStore(
            name="demo",
            producer="demo",
            registry=REGISTRY,
            sqlite_path=path,
            clock=FakeClock(),
            stream_types=[Counter, CommandOutcome],
        )
        self.names = Names()
        self.models = ReadModels([self.names]).follow(self.store)
        self.processor = CommandProcessor(
            self.store, REGISTRY, ALL_HANDLERS, self.store.clock, models=self.models
        )
        self.consumer = Consumer(
            name="demo.commands",
            store=self.store,
            registry=REGISTRY,
            bootstrap="127.0.0.1:1",
            topics=[TOPIC],
            processor=self.processor,
            clock=self.store.clock,
            retry_backoff=0.01,
            batch_size=batch_size,
        )
        self.commits: list[int] = []
        self.store.on_saved(self.commits.append)

    async def feed(self, values: list[bytes], start: int = 0) -> None:
        self.consumer.positions[TP] = self.store.max_tracking_id(self.consumer.tracking_name(TP))
        await self.consumer._handle_many(TP, records(values, start), asyncio.Event())

    def counter(self, counter_id: UUID) -> Counter:
        return self.store.get(Counter, counter_id)

    def reply(self, command_id: str) -> Any:
        outcome = self.store.get(CommandOutcome, outcome_id(command_id))
        return outcome.accepted or outcome.rejected

    def position(self) -> int:
        return self.store.max_tracking_id(self.consumer.tracking_name(TP))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path / "demo.sqlite")
    yield made
    made.store.close()


def opened(counter_id: UUID, limit: int = 1_000_000) -> bytes:
    return command(OpenCounter(counter_id=str(counter_id), name="c", limit=limit))


def inc(counter_id: UUID, by: int, command_id: str | None = None) -> bytes:
    return command(Increment(counter_id=str(counter_id), by=by), command_id)


async def test_a_batch_is_one_transaction_each_command_deciding_on_the_previous_state(
    rig: Rig,
) -> None:
    cid = uuid4()
    ids = [str(uuid4()) for _ in range(5)]
    await rig.feed([opened(cid), *(inc(cid, 1 + i, ids[i]) for i in range(5))])
    assert len(rig.commits) == 1
    assert rig.counter(cid).value == 15
    assert [rig.reply(i).result["value"] for i in ids] == [1, 3, 6, 10, 15]
    assert rig.position() == 6


async def test_a_command_id_twice_in_one_batch_is_carried_out_once_and_answered_twice(
    rig: Rig,
) -> None:
    cid, dup = uuid4(), str(uuid4())
    await rig.feed([opened(cid), inc(cid, 5, dup), inc(cid, 7), inc(cid, 5, dup)])
    assert len(rig.commits) == 1
    assert rig.counter(cid).value == 12
    replies = [e for e in rig.store.stream(outcome_id(dup))]
    assert len(replies) == 2
    assert replies[0].payload == replies[1].payload


async def test_a_refused_command_does_not_spoil_the_batch(rig: Rig) -> None:
    cid, bad = uuid4(), str(uuid4())
    await rig.feed([opened(cid), inc(cid, 1), inc(cid, 0, bad), inc(cid, 2)])
    assert len(rig.commits) == 1
    assert rig.counter(cid).value == 3
    assert rig.reply(bad).code == "demo.bad_increment"


async def test_a_command_refused_after_changing_an_aggregate_leaves_no_trace(rig: Rig) -> None:
    cid = uuid4()
    values = [
        opened(cid, limit=10),
        inc(cid, 4),
        command(IncrementTwice(counter_id=str(cid), by=2)),  # 6, then 8
        command(IncrementTwice(counter_id=str(cid), by=2)),  # 10, then 12: over the limit
        inc(cid, 1),
    ]
    await rig.feed(values)
    ids = records_ids(values)
    assert rig.reply(ids[2]).result["value"] == 8
    assert rig.reply(ids[3]).code == "demo.over_limit"
    assert rig.reply(ids[4]).result["value"] == 9
    assert rig.counter(cid).history == [4, 2, 2, 1]
    assert rig.position() == 5
    # The refused command changed the counter before refusing: the batch stopped after it, and
    # what came next was decided on the stored counter, not the changed one.
    assert len(rig.commits) == 2


def records_ids(values: list[bytes]) -> list[str]:
    return [REGISTRY.decode_command(v).command_id for v in values]


async def test_a_handler_that_fails_after_a_change_is_rejected_and_the_change_dropped(
    rig: Rig,
) -> None:
    cid = uuid4()
    values = [opened(cid), inc(cid, 2), command(Boom(counter_id=str(cid))), inc(cid, 3)]
    await rig.feed(values)
    assert rig.reply(records_ids(values)[2]).code == "command.failed"
    assert rig.counter(cid).value == 5
    assert rig.counter(cid).history == [2, 3]


async def test_a_read_model_is_consulted_only_once_the_batch_before_it_is_stored(
    rig: Rig,
) -> None:
    first, second = uuid4(), uuid4()
    values = [
        command(OpenUnique(counter_id=str(first), name="same")),
        command(OpenUnique(counter_id=str(second), name="same")),
    ]
    await rig.feed(values)
    assert rig.reply(records_ids(values)[0]).command_type == "demo.open_unique"
    assert rig.reply(records_ids(values)[1]).code == "demo.name_taken"
    assert rig.store.find(Counter, second) is None
    assert len(rig.commits) == 2


async def test_a_crash_between_batches_resumes_without_loss_or_double_count(
    tmp_path: Path,
) -> None:
    path = tmp_path / "demo.sqlite"
    cid = uuid4()
    values = [opened(cid), *(inc(cid, 1) for _ in range(9))]
    first = Rig(path, batch_size=4)
    await first.feed(values[:6])  # two batches: 4 records, then 2
    assert first.position() == 6
    first.store.close()  # the process dies; Kafka redelivers from its last committed offset (0)

    second = Rig(path, batch_size=4)
    await second.feed(values)
    assert second.counter(cid).value == 9
    assert second.position() == 10
    second.store.close()


async def test_a_crash_inside_a_batch_stores_none_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.sqlite"
    cid = uuid4()
    values = [opened(cid), *(inc(cid, 1) for _ in range(4))]
    first = Rig(path)

    def die(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed while committing")

    monkeypatch.setattr(first.store._app.events, "put", die)
    with pytest.raises(SystemExit):
        decide_and_store(
            first.store,
            first.consumer.working,  # type: ignore[arg-type]
            records(values),
            first.consumer._process,
            first.consumer.tracking_name(TP),
            first.consumer.transient,
        )
    first.store.close()

    second = Rig(path)
    assert second.position() == 0
    await second.feed(values)
    assert second.counter(cid).value == 4
    second.store.close()


async def test_a_write_by_another_process_conflicts_with_the_cache_and_is_not_lost(
    rig: Rig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cid = uuid4()
    await rig.feed([opened(cid), inc(cid, 1)])
    other = EventStore(
        name="demo",
        producer="demo",
        registry=REGISTRY,
        sqlite_path=tmp_path / "demo.sqlite",
        clock=FakeClock(),
        stream_types=[Counter],
    )
    counter = other.get(Counter, cid)
    counter.increment(100, datetime.now(UTC))
    other.save(counter, meta=Meta(actor="user:bob", correlation_id="c"))
    other.close()

    caplog.set_level("INFO", logger="plutarc_runtime.consumer")
    await rig.feed([inc(cid, 10), inc(cid, 1000)], start=2)
    assert "write conflict in a batch" in caplog.text
    assert rig.counter(cid).value == 1111
    assert rig.counter(cid).history == [1, 100, 10, 1000]
    assert rig.position() == 4
    commits = len(rig.commits)
    await rig.feed([inc(cid, 1)], start=4)
    assert rig.counter(cid).value == 1112
    assert len(rig.commits) == commits + 1


async def test_a_save_by_another_thread_of_the_process_is_seen_by_the_next_batch(
    rig: Rig,
) -> None:
    cid = uuid4()
    await rig.feed([opened(cid), inc(cid, 1)])
    await asyncio.to_thread(
        rig.processor.execute, "system:demo", Increment(counter_id=str(cid), by=5)
    )
    saved_before = len(rig.commits)
    await rig.feed([inc(cid, 10)], start=2)
    assert rig.counter(cid).value == 16
    assert len(rig.commits) == saved_before + 1  # no conflict, no second attempt


async def test_an_undecodable_record_is_dead_lettered_and_the_rest_stored(rig: Rig) -> None:
    cid = uuid4()
    await rig.feed([opened(cid), b"not json", inc(cid, 2)])
    assert rig.counter(cid).value == 2
    assert rig.position() == 3
    assert len(rig.commits) == 1
    dead = [n for n in rig.store.notifications(1, 100) if n.topic == "system.dead_lettered"]
    assert len(dead) == 1


async def test_a_save_by_another_thread_waits_for_the_open_batch_instead_of_spoiling_it(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    cid = uuid4()
    await rig.feed([opened(cid), inc(cid, 1)])
    other_saved = threading.Event()

    def other_writer() -> None:
        rig.processor.execute("system:demo", Increment(counter_id=str(cid), by=100))
        other_saved.set()

    def mid_batch() -> None:
        threading.Thread(target=other_writer, daemon=True).start()
        # Were writes not held while a batch is open, the other save would land now, under the
        # batch's feet, and the whole batch would conflict at its commit.
        other_saved.wait(0.5)

    caplog.set_level("INFO", logger="plutarc_runtime.consumer")
    MID_BATCH.append(mid_batch)
    try:
        await rig.feed([command(Rendezvous(counter_id=str(cid))), inc(cid, 10)], start=2)
    finally:
        MID_BATCH.clear()
    await until(other_saved.is_set, timeout=10, what="the other thread's save")
    assert "write conflict in a batch" not in caplog.text
    assert rig.counter(cid).history == [1, 1, 10, 100]
    assert rig.position() == 4
