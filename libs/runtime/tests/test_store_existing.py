"""The one-query existence check a batch of commands starts with, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from plutarc_runtime.store import Meta

from .demo import Counter
from .test_store import backend, make_store  # noqa: F401 (fixtures)

META = Meta(actor="user:alice", correlation_id="corr-1")


def test_existing_names_the_streams_with_events(make_store) -> None:  # noqa: F811
    store = make_store()
    saved = [Counter.open(f"c{i}", datetime.now(UTC)) for i in range(3)]
    store.save(*saved, meta=META)
    missing = [uuid4() for _ in range(600)]  # more than one chunk of the SQLite query
    found = store.chain.existing([*missing, *(c.id for c in saved)])
    assert found == {c.id for c in saved}


def test_a_stream_known_absent_in_a_batch_is_not_found_without_a_read(make_store) -> None:  # noqa: F811
    store = make_store()
    counter = Counter.open("c", datetime.now(UTC))
    store.save(counter, meta=META)
    absent = uuid4()
    working = store.working_set(10, single_writer=True)
    with store.working(working):
        store.expect([counter.id, absent])
        assert working.absent == {absent}
        assert store.find(Counter, absent) is None
        assert store.get(Counter, counter.id).name == "c"
