"""Read models in a database on real Kafka: a restart resumes from the offsets committed with the
rows (no loss, no double count), a relay's duplicate is dropped, a new version rebuilds that one
projection alone, and a second process follows the writer's progress."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from plutarc_contracts import ContractError, Envelope, Topic, default_registry
from plutarc_contracts import identity as c
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.readmodels import ReadModels, sqlite_engine
from plutarc_testkit.waiting import until
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

pytestmark = pytest.mark.kafka
REGISTRY = default_registry()


class Counting:
    """Counts each workspace's events: any double count or loss shows in the totals."""

    def __init__(self, name: str, topic: str, version: int = 1) -> None:
        self.name, self.version, self.topics = name, version, (topic,)
        self.metadata = MetaData()
        self.table = Table(
            f"{name}_counts",
            self.metadata,
            Column("workspace_id", String, primary_key=True),
            Column("n", Integer, nullable=False),
        )
        self.types: frozenset[str] | None = frozenset({"identity.workspace_renamed"})

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        for env in events:
            stmt = insert(self.table).values(workspace_id=env.workspace_id, n=1)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["workspace_id"], set_={"n": self.table.c.n + 1}
                )
            )

    def totals(self, conn: Connection) -> dict[str, int]:
        return {w: n for w, n in conn.execute(select(self.table.c.workspace_id, self.table.c.n))}


def renamed(workspace_id: str, position: int) -> Envelope:
    return Envelope(
        event_id=str(uuid4()),
        type="identity.workspace_renamed",
        schema_version=1,
        occurred_at=datetime.now(UTC),
        producer="test",
        stream_id=workspace_id,
        stream_position=position,
        workspace_id=workspace_id,
        actor="user:u",
        correlation_id=str(uuid4()),
        causation_id=None,
        payload=c.WorkspaceRenamed(
            workspace_id=workspace_id, name=f"n{position}", previous_name="p"
        ),
    )


async def publish(bootstrap: str, topic: str, events: Sequence[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for env in events:
            await producer.send_and_wait(
                topic,
                REGISTRY.encode_event(env),
                key=env.stream_id.encode(),
                headers=[("type", env.type.encode())],
            )
    finally:
        await producer.stop()


async def run_until_caught_up(models: ReadModels) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(models.run(stop))
    await until(models.caught_up.is_set, timeout=60, what="read models caught up")
    return stop, task


async def test_restart_resumes_drops_duplicates_and_rebuilds_only_a_new_version(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic = f"rmtest{uuid4().hex[:8]}.events.v1"
    await ensure_topics(
        kafka_bootstrap, [Topic(name=topic, partitions=3, retention_ms=-1, description="test")]
    )
    a, b = str(uuid4()), str(uuid4())
    await publish(kafka_bootstrap, topic, [renamed(a, i) for i in (1, 2, 3)] + [renamed(b, 1)])
    engine = sqlite_engine(tmp_path / "rm.sqlite")

    def models(version_of_second: int = 1) -> tuple[ReadModels, Counting, Counting]:
        one, two = Counting("one", topic), Counting("two", topic, version_of_second)
        rm = ReadModels(
            engine,
            [one, two],
            bootstrap=kafka_bootstrap,
            registry=REGISTRY,
            name="t",
            lock_path=tmp_path / "rm.lock",
        )
        return rm, one, two

    rm, one, _ = models()
    stop, task = await run_until_caught_up(rm)
    stop.set()
    await task
    with engine.connect() as conn:
        assert one.totals(conn) == {a: 3, b: 1}

    # A relay republishing position 3 of a, then new events: applied once each.
    await publish(kafka_bootstrap, topic, [renamed(a, 3), renamed(a, 4), renamed(b, 2)])
    rm, one, two = models(version_of_second=2)
    stop, task = await run_until_caught_up(rm)
    ends = await rm.end_offsets()
    assert await rm.wait_for(ends, 30)
    status = rm.status()["projections"]
    assert status["one"]["rebuilt"] is None  # resumed from its offsets
    assert status["two"]["rebuilt"] == "version 1 -> 2"  # rebuilt alone, from offset 0
    assert status["one"]["applied"] == 2  # only the two new events, the duplicate dropped
    with engine.connect() as conn:
        assert one.totals(conn) == two.totals(conn) == {a: 4, b: 2}

    # A second process on the same database follows: it may not write, but it sees progress.
    follower = ReadModels(
        engine,
        [Counting("one", topic), Counting("two", topic, 2)],
        bootstrap=kafka_bootstrap,
        registry=REGISTRY,
        name="t",
        lock_path=tmp_path / "rm.lock",
    )
    fstop = asyncio.Event()
    ftask = asyncio.create_task(follower.run(fstop))
    await until(follower.caught_up.is_set, timeout=30, what="follower caught up")
    assert not follower.writer.is_set()
    await publish(kafka_bootstrap, topic, [renamed(b, 3)])
    assert await follower.wait_for(await follower.end_offsets(), 30)
    with engine.connect() as conn:
        assert one.totals(conn)[b] == 3
    # The writer stops: the follower takes the lock over and writes from the committed offsets.
    stop.set()
    await task
    await until(follower.writer.is_set, timeout=30, what="follower took over")
    await publish(kafka_bootstrap, topic, [renamed(b, 4)])
    assert await follower.wait_for(await follower.end_offsets(), 30)
    with engine.connect() as conn:
        assert one.totals(conn) == {a: 4, b: 4}
    fstop.set()
    await ftask
    engine.dispose()


def test_read_models_may_read_a_private_topic_only_as_a_named_reader(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "rm.sqlite")
    private = Counting("creds", c.CREDENTIALS_TOPIC)
    with pytest.raises(ContractError) as refused:
        ReadModels(engine, [private], bootstrap="unused:9092", registry=REGISTRY, name="bots")
    assert refused.value.code == "contract.not_a_reader"
    ReadModels(engine, [private], bootstrap="unused:9092", registry=REGISTRY, name="api")
