"""Notifications handed over by saves in this process, for a follower of the log on an event loop.

The relay and the intent worker follow a store's notification log from a position. Reading each
save back costs a worker-thread hop and a query while the reply to a command is waiting, so the
store hands over what each save committed (`EventStore.on_appended`) and a follower takes it from
here, as long as it directly follows the follower's position. Anything else (a save in another
thread that has not handed over yet, saves by other processes, a hand-over dropped because the
follower fell behind, skipped ids) shows as a gap, and the follower reads the store, which is
always the reference.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence

from eventsourcing.persistence import Notification


class HandOver:
    """At most `capacity` notifications by id, with their chain hashes; used on one event loop."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.announced = 0
        """The highest notification id a save handed over (kept or not)."""
        self.wake = asyncio.Event()
        """Set on every hand-over."""
        self._kept: dict[int, tuple[Notification, bytes]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __call__(self, notifications: Sequence[Notification], hashes: Mapping[int, bytes]) -> None:
        """The store's `on_appended` listener: runs in the saving thread, never raises."""
        loop = self._loop
        if loop is None or not notifications:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody follows any more
            loop.call_soon_threadsafe(self._keep, notifications, hashes)

    def _keep(self, notifications: Sequence[Notification], hashes: Mapping[int, bytes]) -> None:
        for n in notifications:
            chain_hash = hashes.get(n.id)
            # Without its hash (or beyond capacity) a notification is not kept: a gap.
            if chain_hash is not None and len(self._kept) < self.capacity:
                self._kept[n.id] = (n, chain_hash)
        self.announced = max(self.announced, notifications[-1].id)
        self.wake.set()

    def behind(self, position: int) -> bool:
        """Whether saves handed over notifications after `position`."""
        return position < self.announced

    def take(self, position: int, limit: int) -> tuple[list[Notification], dict[int, bytes]]:
        """The kept notifications that directly follow `position` (at most `limit`), in order,
        with their chain hashes; empty on a gap. Forgets everything at or before `position`."""
        for nid in [nid for nid in self._kept if nid <= position]:
            del self._kept[nid]
        section: list[Notification] = []
        hashes: dict[int, bytes] = {}
        nid = position + 1
        while len(section) < limit and (item := self._kept.pop(nid, None)) is not None:
            section.append(item[0])
            hashes[nid] = item[1]
            nid += 1
        return section, hashes
