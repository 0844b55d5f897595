"""Relay, consumers and commands on the real Kafka broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import msgspec
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from plutarc_contracts import (
    CommandEnvelope,
    Envelope,
    Topic,
    commands_topic,
    deadletter_topic,
    events_topic,
    new_event_id,
)
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.consumer import Consumer, EventProcessor
from plutarc_runtime.service import Subscription
from plutarc_runtime.store import EventStore, Meta
from plutarc_testkit.waiting import until

from .conftest import FAST_GROUPS, spec_for
from .demo import (
    HANDLERS,
    Counter,
    CounterOpened,
    EventTallied,
    Increment,
    OpenCounter,
    Tally,
    demo_registry,
)
from .kafka_helpers import produce, read_all

pytestmark = pytest.mark.kafka
REGISTRY = demo_registry()


def command(
    type_name: str, payload: msgspec.Struct, command_id: str | None = None
) -> tuple[str, bytes]:
    cid = command_id or str(uuid4())
    env = CommandEnvelope(
        command_id=cid,
        type=type_name,
        schema_version=1,
        issued_at=datetime.now(UTC),
        actor="user:alice",
        workspace_id="ws-1",
        correlation_id=f"corr-{cid}",
        causation_id=None,
        payload=payload,
    )
    return cid, REGISTRY.encode_command(env)


async def replies(bootstrap: str, topic: str, correlation_id: str, count: int) -> list[Envelope]:
    async def found() -> list[Envelope]:
        envs = [REGISTRY.decode_event(r.value) for r in await read_all(bootstrap, topic)]
        hits = [
            e
            for e in envs
            if e.type.startswith("system.command_") and e.correlation_id == correlation_id
        ]
        return hits if len(hits) >= count else []

    return await until(found, timeout=30, interval=0.1, what=f"{count} replies to {correlation_id}")


async def test_relay_publishes_stored_events_keyed_by_stream_with_chain_hash(
    run_service, kafka_bootstrap, unique_context
) -> None:
    service = await run_service(spec_for(unique_context))
    clock = FakeClock()
    counters = [Counter.open(f"c{i}", clock.now()) for i in range(5)]
    for c in counters:
        c.increment(2, clock.now())
    saved = await asyncio.to_thread(service.store.save, *counters, meta=Meta("user:alice", "corr"))
    topic = events_topic(unique_context)

    async def all_published() -> list:
        records = await read_all(kafka_bootstrap, topic)
        return records if len(records) >= 10 else []

    records = await until(all_published, what="10 events on Kafka")
    assert len(records) == 10
    by_id = {s.envelope.event_id: s for s in saved}
    chain = await asyncio.to_thread(service.store.chain.select_hashes, 1, 10)
    for record in records:
        env = REGISTRY.decode_event(record.value)
        stored = by_id[env.event_id]
        assert record.key.decode() == env.stream_id
        headers = dict(record.headers)
        assert headers["chain"].decode() == chain[stored.notification_id].hex()
        assert env == stored.envelope
    # Records are readable as soon as Kafka acknowledges them; the relay records its position after.
    await until(lambda: service.relay.position >= 10, what="the relay to record its position")
    assert service.relay.position == 10


async def test_same_command_twice_gives_one_set_of_events_and_two_identical_replies(
    run_service, kafka_bootstrap, unique_context
) -> None:
    service = await run_service(spec_for(unique_context, handlers=HANDLERS))
    counter_id = str(uuid4())
    cid, raw = command("demo.open_counter", OpenCounter(counter_id=counter_id, name="orders"))
    await produce(
        kafka_bootstrap, commands_topic(unique_context), [raw, raw], key=counter_id.encode()
    )

    first, second = await replies(kafka_bootstrap, events_topic(unique_context), f"corr-{cid}", 2)
    assert first.type == second.type == "system.command_accepted"
    assert first.payload == second.payload
    assert first.payload.result == {"counter_id": counter_id}
    assert first.event_id != second.event_id
    stream = await asyncio.to_thread(service.store.stream, UUID(counter_id))
    assert [e.type for e in stream] == ["demo.counter_opened"]


async def test_rejected_command_replies_with_the_stable_code_and_changes_nothing(
    run_service, kafka_bootstrap, unique_context
) -> None:
    service = await run_service(spec_for(unique_context, handlers=HANDLERS))
    counter_id = str(uuid4())
    _, open_raw = command(
        "demo.open_counter", OpenCounter(counter_id=counter_id, name="c", limit=5)
    )
    cid2, inc_raw = command("demo.increment", Increment(counter_id=counter_id, by=9))
    cid3, unknown_raw = command("demo.increment", Increment(counter_id=str(uuid4()), by=1))
    await produce(
        kafka_bootstrap,
        commands_topic(unique_context),
        [open_raw, inc_raw, unknown_raw],
        key=counter_id.encode(),
    )

    [rejected] = await replies(kafka_bootstrap, events_topic(unique_context), f"corr-{cid2}", 1)
    assert rejected.type == "system.command_rejected"
    assert rejected.payload.code == "demo.over_limit"
    [missing] = await replies(kafka_bootstrap, events_topic(unique_context), f"corr-{cid3}", 1)
    assert missing.payload.code == "domain.not_found"
    counter = await asyncio.to_thread(service.store.get, Counter, UUID(counter_id))
    assert (counter.value, counter.version) == (0, 1)


async def test_malformed_command_is_rejected_with_its_contract_code(
    run_service, kafka_bootstrap, unique_context
) -> None:
    await run_service(spec_for(unique_context, handlers=HANDLERS))
    cid, raw = command("demo.open_counter", OpenCounter(counter_id=str(uuid4()), name="x"))
    broken = raw.replace(b'"name":"x"', b'"name":42')
    await produce(kafka_bootstrap, commands_topic(unique_context), [broken])
    [reply] = await replies(kafka_bootstrap, events_topic(unique_context), f"corr-{cid}", 1)
    assert reply.type == "system.command_rejected"
    assert reply.payload.code == "contract.wrong_type"
    assert "name" in reply.payload.detail
    assert reply.payload.field == "payload.name", "the offending field is named"


def tally_handler(store, clock):
    def handle(env: Envelope) -> list[Tally]:
        tally = Tally(uuid4())
        tally._trigger(EventTallied(event_id=env.event_id), clock.now())
        return [tally]

    return handle


async def test_poison_message_goes_to_the_dead_letter_topic_and_the_next_is_handled(
    run_service, kafka_bootstrap, unique_context
) -> None:
    upstream = f"{unique_context}up.events.v1"
    await ensure_topics(
        kafka_bootstrap, [Topic(name=upstream, partitions=1, description="test upstream")]
    )
    spec = spec_for(
        unique_context, subscriptions=[Subscription("tally", [upstream], tally_handler)]
    )
    service = await run_service(spec)

    good = Envelope(
        event_id=new_event_id(),
        type="demo.counter_opened",
        schema_version=1,
        occurred_at=datetime.now(UTC),
        producer="upstream",
        stream_id=str(uuid4()),
        stream_position=1,
        workspace_id=None,
        actor="user:bob",
        correlation_id="c-good",
        causation_id=None,
        payload=CounterOpened(name="good"),
    )
    await produce(kafka_bootstrap, upstream, [b"\x00not json at all", REGISTRY.encode_event(good)])

    async def dead_letters() -> list:
        return await read_all(kafka_bootstrap, deadletter_topic(unique_context))

    [record] = await until(dead_letters, what="a dead letter")
    dead = REGISTRY.decode_event(record.value)
    assert dead.type == "system.dead_lettered"
    assert dead.payload.code == "contract.not_json"
    assert dead.payload.topic == upstream and dead.payload.offset == 0
    assert dead.payload.raw_bytes() == b"\x00not json at all"

    async def tallied() -> bool:
        envs = await asyncio.to_thread(service.store.notifications, 1, 100)
        return any(n.topic == "demo.event_tallied" for n in envs)

    await until(tallied, what="the good event applied")
    assert (
        service.metrics.consumed.labels(f"{unique_context}.tally", "dead_lettered")._value.get()
        == 1
    )


async def test_kafka_offsets_are_committed_when_idle_not_after_every_message(
    kafka_bootstrap, tmp_path
) -> None:
    """Offsets in Kafka are for tools that show lag: while messages keep coming they are committed
    at most every `commit_interval`, and once the consumer is idle they match its positions."""
    upstream = f"commit{uuid4().hex[:8]}.events.v1"
    await ensure_topics(
        kafka_bootstrap, [Topic(name=upstream, partitions=1, description="commit test")]
    )
    store = EventStore(
        name="sink", producer="sink", registry=REGISTRY, sqlite_path=tmp_path / "sink.sqlite"
    )
    clock = FakeClock()
    consumer = Consumer(
        name=f"sink-{uuid4().hex[:6]}",
        store=store,
        registry=REGISTRY,
        bootstrap=kafka_bootstrap,
        topics=[upstream],
        processor=EventProcessor(store, REGISTRY, tally_handler(store, clock)),
        clock=clock,
        commit_interval=3600,
        **FAST_GROUPS,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await until(consumer.assigned.is_set, what="the partition assigned")
        assert consumer.kafka is not None
        commits: list[dict] = []
        commit = consumer.kafka.commit

        async def counted(offsets: dict) -> None:
            commits.append(dict(offsets))
            await commit(offsets)

        consumer.kafka.commit = counted  # type: ignore[method-assign]
        tp = TopicPartition(upstream, 0)
        for i in range(10):
            event = Envelope(
                event_id=new_event_id(),
                type="demo.counter_opened",
                schema_version=1,
                occurred_at=datetime.now(UTC),
                producer="upstream",
                stream_id=str(uuid4()),
                stream_position=1,
                workspace_id=None,
                actor="user:bob",
                correlation_id=f"c-{i}",
                causation_id=None,
                payload=CounterOpened(name=f"n{i}"),
            )
            await producer.send_and_wait(upstream, REGISTRY.encode_event(event))
            await until(
                lambda n=i + 1: consumer.positions.get(tp) == n, what=f"message {i} handled"
            )
        assert len(commits) < 10, "not a commit per message"

        async def committed() -> bool:
            assert consumer.kafka is not None
            return bool(await consumer.kafka.committed(tp) == 10)

        await until(committed, what="the offset committed once idle")
    finally:
        await producer.stop()
        stop.set()
        await asyncio.wait_for(task, 30)
        store.close()
