"""Aggregates kept in memory by the thread that decides a batch of commands.

The command consumer decides a batch of records into one transaction (batching.py): each command
must see the aggregates as the previous one left them, before anything is stored. While a batch is
open in a thread (`EventStore.working`), `EventStore.get` answers from here first: the batch's
uncommitted state (the overlay), then the aggregates kept from earlier batches (the cache), then
the store. Loaded aggregates are handed out as they are, not copied: a command that changed one and
was then refused leaves it dirty, which `end_command` finds (unsaved events) and throws away.

The cache is safe while this process is the only writer of the store (`single_writer`): a save by
any other thread of the process evicts what it wrote, and a write by another process shows as a
version conflict when the batch commits, after which the consumer clears the cache and decides the
records again one by one. Without `single_writer` only a batch's overlay is kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from ..domain import Aggregate

if TYPE_CHECKING:
    from .mapper import RecordedEvent


class WorkingSet:
    def __init__(self, capacity: int = 1000, *, single_writer: bool = True) -> None:
        self.capacity = capacity
        self.single_writer = single_writer
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = threading.Lock()
        self._overlay: dict[UUID, Aggregate] = {}
        self._handed: dict[UUID, Aggregate] = {}
        self._evicted: set[UUID] = set()
        self._open = False
        self.uncommitted = 0
        """Events decided in the open batch and not stored yet."""
        self.polluted: set[UUID] = set()
        self.absent: set[UUID] = set()
        """Streams known to have no events when the batch began (looked up in one query)."""

    # -- the batch ----------------------------------------------------------------------------------
    def begin(self) -> None:
        with self._lock:
            self._open = True
            self._evicted.clear()
        self._overlay.clear()
        self._handed.clear()
        self.polluted.clear()
        self.absent.clear()
        self.uncommitted = 0

    def lookup(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate as the batch has it, or None (the caller loads it and calls `loaded`)."""
        found = self._overlay.get(aggregate_id)
        if found is None:
            with self._lock:
                found = self._cache.get(aggregate_id)
            if found is None:
                return None
            self._overlay[aggregate_id] = found
        self._handed[aggregate_id] = found
        return found

    def loaded(self, aggregate: Aggregate) -> None:
        self._overlay[aggregate.id] = aggregate
        self._handed[aggregate.id] = aggregate

    def end_command(self, aggregates: Iterable[Aggregate], events: list[RecordedEvent]) -> bool:
        """Take a decided command's aggregates (their events already collected) into the overlay.

        Returns False when the command left an aggregate dirty (changed, not saved: refused after a
        change, or changed and not returned): its unsaved events are dropped and the batch must be
        stored before anything else reads that aggregate; it is evicted once stored."""
        for agg in aggregates:
            self._overlay[agg.id] = agg
        self.uncommitted += len(events)
        clean = True
        for agg in self._handed.values():
            if agg._pending:
                agg._pending.clear()
                self.polluted.add(agg.id)
                clean = False
        self._handed.clear()
        return clean

    def abandon_command(self) -> None:
        """A command stopped midway, to be decided again later: drop what it changed."""
        self.end_command((), [])

    def committed(self) -> None:
        """The batch is stored: what it holds becomes the cache (bar what others wrote meanwhile)."""
        with self._lock:
            self._open = False
            if self.single_writer:
                drop = self._evicted | self.polluted
                for aid, agg in self._overlay.items():
                    if aid in drop:
                        self._cache.pop(aid, None)
                    else:
                        self._cache[aid] = agg
                        self._cache.move_to_end(aid)
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
            else:
                self._cache.clear()
        self._overlay.clear()
        self.uncommitted = 0

    def failed(self) -> None:
        """The batch was not stored: nothing it touched can be trusted, nor the cache it mutated."""
        with self._lock:
            self._open = False
            self._cache.clear()
        self._overlay.clear()
        self._handed.clear()
        self.uncommitted = 0

    # -- other writers ------------------------------------------------------------------------------
    def evict(self, ids: Iterable[UUID]) -> None:
        """Another thread of this process stored events of `ids`: forget them (thread-safe)."""
        with self._lock:
            for aid in ids:
                self._cache.pop(aid, None)
                self.absent.discard(aid)
                if self._open:
                    self._evicted.add(aid)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
