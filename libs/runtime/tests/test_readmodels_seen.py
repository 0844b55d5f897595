"""A projector drops events it applied before, also those only its database remembers (after a
restart, or once its cache was trimmed), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import TopicPartition
from plutarc_contracts import Envelope, default_registry, new_event_id
from plutarc_contracts import identity as c
from plutarc_runtime.readmodels import Projector, postgres_engine, rm_seen, sqlite_engine
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert, select
from sqlalchemy.engine import Connection

TOPICS = ("names.events.v1", "names.credentials.v1")
names_md = MetaData()
names = Table(
    "names",
    names_md,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("stream_id", String(64), nullable=False),
)


class Names:
    name = "test.names"
    version = 1
    topics = TOPICS
    metadata = names_md
    types: frozenset[str] | None = None

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        conn.execute(insert(names), [{"stream_id": e.stream_id} for e in events])


@dataclass
class Record:
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]


def batch(streams: list[str], positions: range, first_offset: int) -> dict[TopicPartition, Any]:
    registry = default_registry()
    by_topic: dict[TopicPartition, list[Record]] = {}
    offset = first_offset
    for stream in streams:
        for position in positions:
            env = Envelope(
                event_id=new_event_id(),
                type="identity.user_registered",
                schema_version=1,
                occurred_at=datetime.now(UTC),
                producer="test",
                stream_id=stream,
                stream_position=position,
                workspace_id=None,
                actor="anonymous",
                correlation_id=stream,
                causation_id=None,
                payload=c.UserRegistered(
                    user_id=stream, email="a@example.com", display_name="A",
                    personal_workspace_id=stream,
                ),
            )  # fmt: skip
            for topic in TOPICS:  # one stream on two topics: judged apart
                records = by_topic.setdefault(TopicPartition(topic, 0), [])
                records.append(Record(offset, registry.encode_event(env), [("type", b"x")]))
            offset += 1
    return by_topic


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        made = postgres_engine(server.create_database(f"seen_{uuid4().hex[:12]}"))
    else:
        made = sqlite_engine(tmp_path / "models.sqlite")
    yield made
    made.dispose()


def projector(engine: Engine, **options: Any) -> Projector:
    made = Projector(Names(), engine, bootstrap="unused", registry=default_registry(), **options)
    made.prepare()
    return made


def applied(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(names.c.seq)).all())


def test_duplicates_known_only_to_the_database_are_dropped(engine: Engine) -> None:
    streams = [f"s{i}" for i in range(1200)]  # past one lookup's 500
    first = projector(engine)
    first._commit(batch(streams, range(1, 3), 0))
    assert applied(engine) == 2 * 2 * 1200

    again = projector(engine)  # a restart: nothing cached
    again._commit(batch(streams, range(1, 4), 10_000))  # positions 1-2 again, then 3

    assert again.skipped_duplicates == 2 * 2 * 1200
    assert again.applied == 2 * 1200
    assert applied(engine) == 3 * 2 * 1200


def test_a_projection_built_from_empty_remembers_without_lookups_until_its_cache_is_trimmed(
    engine: Engine,
) -> None:
    streams = [f"s{i}" for i in range(300)]
    built = projector(engine, seen_cache=1000)
    assert built.members[0].complete  # new: nothing in rm_seen, so no lookups needed
    built._commit(batch(streams, range(1, 2), 0))
    assert built.members[0].complete  # 600 positions cached, all of them
    built._commit(batch(streams, range(1, 3), 1000))  # 600 duplicates, 600 new: 1,200 > 1,000
    assert built.skipped_duplicates == 2 * 300
    assert not built.members[0].complete  # trimmed: from now on misses are looked up
    built._commit(batch(streams, range(1, 4), 2000))
    assert built.skipped_duplicates == 2 * 300 + 2 * 2 * 300
    assert applied(engine) == 3 * 2 * 300


def test_only_accepted_events_are_applied_and_remembered(engine: Engine) -> None:
    class Some(Names):
        @staticmethod
        def accepts(env: Envelope) -> bool:
            return env.stream_id.endswith("7")

    made = Projector(Some(), engine, bootstrap="unused", registry=default_registry())
    made.prepare()
    made._commit(batch([f"s{i}" for i in range(100)], range(1, 3), 0))
    assert applied(engine) == 10 * 2 * 2
    with engine.connect() as conn:
        remembered = conn.execute(select(rm_seen.c.stream_id).distinct()).scalars().all()
    assert sorted(remembered) == sorted(f"s{i}" for i in range(100) if i % 10 == 7)
