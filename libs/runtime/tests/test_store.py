"""The event store base, run as the same test case on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.domain import DomainError, NotFound
from plutarc_runtime.store import EventStore, Meta
from plutarc_runtime.timers import ReadModels

from .demo import Counter, demo_registry

META = Meta(actor="user:alice", correlation_id="corr-1", workspace_id="ws-1")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_store(backend: str, tmp_path, request: pytest.FixtureRequest):
    stores: list[EventStore] = []

    def make(
        name: str = "demo",
        snapshot_interval: int = 0,
        aggregate_cache: int = 0,
        same_as: EventStore | None = None,
    ) -> EventStore:
        kwargs = {}
        if same_as is not None:  # a second instance on the same database
            kwargs = {"database_url": same_as.database_url, "sqlite_path": same_as.sqlite_path}
        elif backend == "postgres":
            pg = request.getfixturevalue("postgres_server")
            kwargs["database_url"] = pg.create_database(f"t_{uuid4().hex[:12]}")
        else:
            kwargs["sqlite_path"] = tmp_path / f"{name}.sqlite"
        store = EventStore(
            name=name,
            producer=name,
            registry=demo_registry(),
            clock=FakeClock(),
            snapshot_interval=snapshot_interval,
            stream_types=[Counter],
            aggregate_cache=aggregate_cache,
            **kwargs,
        )
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def tamper(store: EventStore, notification_id: int) -> None:
    """Rewrite one stored event behind the store's back, as an attacker with database access would."""
    recorder = store.recorder
    if store.backend == "sqlite":
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(
                f"UPDATE {recorder.events_table_name} SET state = replace(state, 'alice', 'mallory') "
                "WHERE rowid = ?",
                (notification_id,),
            )
    else:
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"UPDATE {recorder.events_table_name} "
                "SET state = convert_to(replace(convert_from(state, 'UTF8'), 'alice', 'mallory'), 'UTF8') "
                "WHERE notification_id = %s",
                (notification_id,),
            )
            conn.commit()


def test_saved_events_come_back_as_envelopes_and_aggregates(make_store) -> None:
    store = make_store()
    clock = FakeClock()
    counter = Counter.open("orders", clock.now())
    counter.increment(3, clock.advance(timedelta(seconds=1)))
    saved = store.save(counter, meta=META)

    assert [s.envelope.type for s in saved] == ["demo.counter_opened", "demo.counter_incremented"]
    assert [s.envelope.stream_position for s in saved] == [1, 2]
    first = saved[0].envelope
    assert (first.actor, first.correlation_id, first.workspace_id, first.producer) == (
        "user:alice",
        "corr-1",
        "ws-1",
        "demo",
    )
    assert saved[1].notification_id == saved[0].notification_id + 1

    again = store.get(Counter, counter.id)
    assert (again.name, again.value, again.version, again.history) == ("orders", 3, 2, [3])
    assert [e.type for e in store.stream(counter.id)] == [
        "demo.counter_opened",
        "demo.counter_incremented",
    ]
    assert store.get(Counter, counter.id, version=1).value == 0


def _open_sqlite(path: Path) -> EventStore:
    return EventStore(name="demo", producer="demo", registry=demo_registry(), sqlite_path=path)


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mode & 0o777 for p in [folder, *folder.iterdir()]}


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files come out 0644 unless their mode is set."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_022")
def test_a_sqlite_store_is_its_owners_alone(tmp_path: Path) -> None:
    """Its events hold credential hashes: the file SQLite writes and its -wal and -shm are 0600,
    in a folder made 0700, not what the umask would give."""
    path = tmp_path / "data" / "demo.sqlite"
    store = _open_sqlite(path)
    try:
        store.save(Counter.open("orders", FakeClock().now()), meta=META)
        assert _modes(path.parent) == {
            "data": 0o700,
            "demo.sqlite": 0o600,
            "demo.sqlite-wal": 0o600,
            "demo.sqlite-shm": 0o600,
        }
    finally:
        store.close()


@pytest.mark.usefixtures("umask_022")
def test_opening_a_store_an_older_version_left_readable_tightens_it(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    store = _open_sqlite(path)
    store.save(Counter.open("orders", FakeClock().now()), meta=META)
    for name in ("demo.sqlite", "demo.sqlite-wal", "demo.sqlite-shm"):
        os.chmod(tmp_path / name, 0o644)  # as a store made under umask 022 was
    reopened = _open_sqlite(path)
    try:
        assert {n: m for n, m in _modes(tmp_path).items() if n.startswith("demo")} == {
            "demo.sqlite": 0o600,
            "demo.sqlite-wal": 0o600,
            "demo.sqlite-shm": 0o600,
        }
        assert reopened.max_notification_id() == 1  # still the same store
    finally:
        reopened.close()
        store.close()


def test_unknown_aggregate_is_not_found(make_store) -> None:
    with pytest.raises(NotFound):
        make_store().get(Counter, uuid4())


def test_refused_change_stores_nothing(make_store) -> None:
    store = make_store()
    counter = Counter.open("c", FakeClock().now(), limit=5)
    store.save(counter, meta=META)
    with pytest.raises(DomainError) as err:
        counter.increment(6, FakeClock().now())
    assert err.value.code == "demo.over_limit"
    assert store.save(counter, meta=META) == []
    assert store.max_notification_id() == 1


def test_concurrent_writer_conflict_changes_nothing(make_store) -> None:
    store = make_store()
    counter = Counter.open("c", FakeClock().now())
    store.save(counter, meta=META)
    a, b = store.get(Counter, counter.id), store.get(Counter, counter.id)
    a.increment(1, FakeClock().now())
    b.increment(2, FakeClock().now())
    store.save(a, meta=META)
    with pytest.raises(IntegrityError):
        store.save(b, meta=META)
    assert store.get(Counter, counter.id).value == 1
    assert store.verify().ok


def test_cached_aggregates_see_other_writers_and_never_unsaved_changes(make_store) -> None:
    cached = make_store(aggregate_cache=100)
    other = make_store(same_as=cached)
    clock = FakeClock()
    counter = Counter.open("c", clock.now(), limit=10)
    cached.save(counter, meta=META)
    assert cached.get(Counter, counter.id).value == 0  # now in the cache

    by_other = other.get(Counter, counter.id)
    by_other.increment(4, clock.now())
    other.save(by_other, meta=META)
    assert cached.get(Counter, counter.id).value == 4  # fast-forwarded from the store

    unsaved = cached.get(Counter, counter.id)
    unsaved.increment(1, clock.now())
    with pytest.raises(DomainError):
        cached.get(Counter, counter.id).increment(7, clock.now())
    fresh = cached.get(Counter, counter.id)
    assert (fresh.value, fresh.version) == (4, 2) and fresh is not cached.get(Counter, counter.id)

    mine = cached.get(Counter, counter.id)
    mine.increment(2, clock.now())
    cached.save(mine, meta=META)
    assert cached.get(Counter, counter.id).value == other.get(Counter, counter.id).value == 6


def test_snapshots_give_the_same_state(make_store) -> None:
    store = make_store(snapshot_interval=5)
    clock = FakeClock()
    counter = Counter.open("snap", clock.now())
    for i in range(1, 13):
        counter.increment(i, clock.now())
        store.save(counter, meta=META)
    snapshots = list(store._app.snapshots.get(counter.id))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [5, 10]
    again = store.get(Counter, counter.id)
    assert (again.value, again.version, again.history) == (
        sum(range(1, 13)),
        13,
        list(range(1, 13)),
    )


def test_tracking_and_inbox_are_atomic_with_the_events(make_store) -> None:
    store = make_store()
    counter = Counter.open("c", FakeClock().now())
    store.save(counter, meta=META, tracking=Tracking("consumer|t|0", 5), inbox_ids=["evt-1"])
    assert store.max_tracking_id("consumer|t|0") == 5
    assert store.has_processed("evt-1")
    assert not store.has_processed("evt-2")

    # The same position again must fail as a whole: no events, no inbox id.
    other = Counter.open("d", FakeClock().now())
    with pytest.raises(IntegrityError):
        store.save(other, meta=META, tracking=Tracking("consumer|t|0", 5), inbox_ids=["evt-2"])
    assert store.find(Counter, other.id) is None
    assert not store.has_processed("evt-2")
    assert store.max_notification_id() == 1


def test_verify_walks_the_chain(make_store) -> None:
    store = make_store()
    clock = FakeClock()
    for _ in range(30):
        counter = Counter.open("c", clock.now())
        counter.increment(1, clock.now())
        store.save(counter, meta=META)
    seen: list[int] = []
    result = store.verify(batch=7, progress=seen.append)
    assert result.ok and result.checked == 60 and result.head_id == 60
    assert seen[-1] == 60
    assert result.head_hash == store.chain.head()[1].hex()


def test_verify_names_the_tampered_position(make_store) -> None:
    store = make_store()
    clock = FakeClock()
    for _ in range(20):
        store.save(Counter.open("c", clock.now()), meta=META)
    tamper(store, 13)
    result = store.verify(batch=5)
    assert not result.ok
    assert result.broken_at == 13
    assert result.checked == 12


def test_an_aggregate_copy_is_equal_and_independent() -> None:
    """The aggregate cache hands out copies made through the snapshot codec."""
    import copy

    from plutarc_runtime.clock import FakeClock

    from .demo import Counter

    clock = FakeClock()
    counter = Counter.open("c", clock.now())
    counter.increment(3, clock.now())
    with pytest.raises(RuntimeError, match="unsaved events"):
        copy.deepcopy(counter)
    counter.collect_events()
    clone = copy.deepcopy(counter)
    assert (clone.id, clone.version, clone.value, clone.history, clone.name) == (
        counter.id,
        2,
        3,
        [3],
        "c",
    )
    assert clone.modified_on == counter.modified_on
    clone.history.append(99)
    assert counter.history == [3], "the copy shares no state with the original"


def test_saves_hand_over_exactly_what_they_committed_with_the_chain_hashes(make_store) -> None:
    """`on_appended` gives followers (the relay) each save's notifications as stored, from any
    thread; nothing for a save that stored no events or failed; removed listeners hear nothing."""
    store = make_store()
    handed: list[tuple[list, dict]] = []
    lock = threading.Lock()

    def listener(notifications, hashes) -> None:
        with lock:
            handed.append((list(notifications), dict(hashes)))

    unsubscribe = store.on_appended(listener)
    clock = FakeClock()

    def save_some(n: int) -> None:
        for _ in range(n):
            counter = Counter.open("c", clock.now())
            counter.increment(1, clock.now())
            store.save(counter, meta=META)

    threads = [threading.Thread(target=save_some, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.record_tracking(Tracking("consumer|t|0", 1), ["evt-1"])  # no events: nothing handed over
    taken = Counter.open("c", clock.now())
    store.save(taken, meta=META)
    handed_before_conflict = len(handed)
    stale = store.get(Counter, taken.id)
    stale.increment(1, clock.now())
    rival = store.get(Counter, taken.id)
    rival.increment(2, clock.now())
    store.save(rival, meta=META)
    with pytest.raises(IntegrityError):
        store.save(stale, meta=META)
    assert len(handed) == handed_before_conflict + 1, "a failed save hands nothing over"

    assert all(len(ns) == len(hs) and [n.id for n in ns] == sorted(hs) for ns, hs in handed)
    by_id = {n.id: (n, hs[n.id]) for ns, hs in handed for n in ns}
    stored = store.notifications(1, 1000)
    assert sorted(by_id) == [n.id for n in stored]
    hashes = store.chain.select_hashes(1, stored[-1].id)
    for n in stored:
        mine, chain_hash = by_id[n.id]
        assert (mine.topic, str(mine.originator_id), mine.originator_version) == (
            n.topic,
            str(n.originator_id),
            n.originator_version,
        )
        assert bytes(mine.state) == bytes(n.state)
        assert chain_hash == hashes[n.id]

    unsubscribe()
    store.save(Counter.open("c", clock.now()), meta=META)
    assert max(by_id) == stored[-1].id and len(handed) == handed_before_conflict + 1


class Names:
    """A read model: the names of the counters opened, in log order."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def apply(self, env) -> None:
        if env.type == "demo.counter_opened":
            self.names.append(env.payload.name)


def test_read_models_apply_what_saves_hand_over_and_read_the_store_on_a_gap(make_store) -> None:
    store = make_store()
    other = make_store(same_as=store)  # another process writing to the same store
    clock = FakeClock()
    store.save(Counter.open("before", clock.now()), meta=META)
    models = ReadModels([Names()]).follow(store)
    reads = 0
    notifications = store.notifications

    def counted(start: int, limit: int):
        nonlocal reads
        reads += 1
        return notifications(start, limit)

    store.notifications = counted  # type: ignore[method-assign]
    for name in ("a", "b", "c"):
        store.save(Counter.open(name, clock.now()), meta=META)
    assert models.get(Names).names == ["before", "a", "b", "c"]
    assert reads == 0, "each save followed the last: applied as handed over"

    other.save(Counter.open("elsewhere", clock.now()), meta=META)
    store.save(Counter.open("d", clock.now()), meta=META)
    assert models.get(Names).names == ["before", "a", "b", "c", "elsewhere", "d"]
    assert reads > 0
    assert models.position == store.max_notification_id()
