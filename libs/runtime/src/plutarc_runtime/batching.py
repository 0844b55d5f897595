"""Deciding a batch of records into one transaction (the command consumer's path).

Each record is decided in order on the state the previous ones left (the store's working set, see
store/working.py); their events, the consumer's position after the last of them and their inbox
ids are stored in one transaction, which is what makes a batch cheap: one commit instead of one a
record. What each record decided stays its own (its envelopes carry its actor and correlation id;
a command's reply is its own outcome stream), so a batch stores exactly what the same records
taken one by one would have.

A batch stops early and stores what it decided so far when a record cannot be decided now (a
dependency is down, or a handler needs a read model that has not seen the batch yet) or left an
aggregate dirty (refused after changing it); the consumer takes the rest as the next batch. A
record that failed is dead-lettered or rejected as on its own; it does not undo the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import Tracking

from .domain import Aggregate
from .handling import CatchUpFirst, FlushFirst
from .store import EventStore, RecordedEvent
from .store.working import WorkingSet

if TYPE_CHECKING:
    from .consumer import Work

Record: TypeAlias = ConsumerRecord[Any, Any]


@dataclass
class Decided:
    works: list[Work]
    """One per record stored, in order: the records stored are the first `len(works)` given."""
    postponed: BaseException | None = None
    """Why the record after them was not decided (a transient error, FlushFirst or CatchUpFirst)."""


def decide_and_store(
    store: EventStore,
    working: WorkingSet,
    records: Sequence[Record],
    decide: Callable[[Record], Work],
    tracking_name: str,
    transient: tuple[type[BaseException], ...],
    expected: Callable[[Sequence[bytes]], Sequence[Any]] | None = None,
) -> Decided:
    """Decide `records` in order and store a prefix of them (at least the first, unless it could
    not be decided: then nothing is stored and `postponed` says why) in one transaction.

    `expected` names the streams the records will look up first (their outcomes), so that one
    query tells which are new. Raises what storing raised (IntegrityError on a conflict) after
    clearing the working set."""
    works: list[Work] = []
    events: list[RecordedEvent] = []
    inbox_ids: list[str] = []
    versions_before: dict[Any, tuple[Aggregate, int]] = {}
    postponed: BaseException | None = None
    with store.working(working):
        if expected is not None:
            store.expect(expected([r.value or b"" for r in records]))
        for record in records:
            try:
                work = decide(record)
            except (FlushFirst, CatchUpFirst) as exc:
                working.abandon_command()
                postponed = exc
                break
            except transient as exc:
                working.abandon_command()
                postponed = exc
                break
            except BaseException:
                working.failed()  # cancelled or dying: what the batch changed is not stored
                raise
            for agg in work.aggregates:
                versions_before.setdefault(agg.id, (agg, agg.version - len(agg._pending)))
            if work.aggregates or work.extra:
                assert work.meta is not None
                decided = store.record(work.aggregates, work.meta)
                decided.extend(work.extra)
            else:
                decided = []
            events.extend(decided)
            inbox_ids.extend(work.inbox_ids)
            works.append(work)
            if not working.end_command(work.aggregates, decided):
                break
        if not works:
            working.failed()
            return Decided([], postponed)
        tracking = Tracking(tracking_name, records[len(works) - 1].offset + 1)
        try:
            if events:
                store.commit(
                    events, list(versions_before.values()), tracking=tracking, inbox_ids=inbox_ids
                )
            else:
                store.record_tracking(tracking, inbox_ids)
        except BaseException:
            working.failed()
            raise
        working.committed()
    return Decided(works, postponed)
