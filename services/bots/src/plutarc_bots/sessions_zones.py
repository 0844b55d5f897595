"""A time zone's UTC offsets as integer arithmetic, for the trading-session calendar.

``zoneinfo`` costs about half a microsecond per conversion and does not map local times the way
the sessions need (see docs/bots.md, "Trading sessions"); a :class:`Timeline` holds one zone's
offsets and transitions over a block of four weeks (plus two days on each side), so that a
conversion is a bisect and an addition. Everything is in integer seconds since the epoch: UTC
instants, and "local seconds" (the wall clock read as if it were UTC).
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from datetime import datetime
from zoneinfo import ZoneInfo

BLOCK = 28 * 86_400
"""The UTC span a timeline is built for (aligned on the epoch)."""
MARGIN = 2 * 86_400
"""Beyond its block on each side: more than any UTC offset, so a local time of the block maps
to an instant the timeline covers."""
STEP = 6 * 3600
"""Offsets are sampled this far apart and transitions found by bisection between samples: two
transitions less than six hours apart (none in the database since the 1940s) would be missed."""


class Timeline:
    """One zone's offsets over ``[lo, hi)`` UTC: ``offsets[k]`` applies from ``transitions[k - 1]``
    (or ``lo``) to ``transitions[k]`` (or ``hi``)."""

    __slots__ = (
        "fixed",
        "local_ends",
        "local_from",
        "local_until",
        "max_gap",
        "offsets",
        "transitions",
    )

    def __init__(self, transitions: list[int], offsets: list[int], lo: int, hi: int) -> None:
        self.transitions = transitions
        self.offsets = offsets
        self.fixed = None if transitions else offsets[0]
        """The one offset of a timeline without transitions."""
        self.local_from = lo + MARGIN // 2
        self.local_until = hi - MARGIN // 2
        """Local times from ``local_from`` to ``local_until`` map to instants the timeline covers
        (the block's own local times all do)."""
        self.local_ends = [t + o for t, o in zip(transitions, offsets, strict=False)]
        """Where each piece ends on the local axis (the last piece never ends)."""
        self.max_gap = max([after - before for before, after in itertools.pairwise(offsets)] + [0])
        """The longest stretch of wall time skipped (spring forward) in this timeline."""

    def local(self, t: int) -> int:
        """The wall clock at UTC ``t`` as the sessions read it, never going backwards: while a
        repeated hour (fall back) plays the second time, the clock is held one second before
        the end of the repeat."""
        transitions = self.transitions
        if not transitions:
            return t + self.offsets[0]
        k = bisect_right(transitions, t)
        x = t + self.offsets[k]
        if k and x < self.local_ends[k - 1]:
            return self.local_ends[k - 1] - 1
        return x

    def utc(self, x: int) -> int:
        """The first instant at which :meth:`local` reaches wall time ``x``: its first occurrence
        if the wall clock shows it twice, the end of the gap if the clock skips it."""
        transitions = self.transitions
        if not transitions:
            return x - self.offsets[0]
        k = bisect_right(self.local_ends, x)
        t = x - self.offsets[k]
        if k and t < transitions[k - 1]:
            return transitions[k - 1]
        return t


def offset_at(zone: ZoneInfo, t: int) -> int:
    delta = datetime.fromtimestamp(t, zone).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def build_timeline(zone: ZoneInfo, block: int) -> Timeline:
    """The timeline of ``zone`` covering block ``block`` and its margins."""
    lo = block * BLOCK - MARGIN
    hi = (block + 1) * BLOCK + MARGIN
    offsets = [offset_at(zone, lo)]
    transitions: list[int] = []
    here = lo
    while here < hi:
        there = min(here + STEP, hi)
        after = offset_at(zone, there)
        while after != offsets[-1]:
            a, b = here, there  # offsets[-1] at a; another offset at b
            while b - a > 1:
                mid = (a + b) // 2
                if offset_at(zone, mid) == offsets[-1]:
                    a = mid
                else:
                    b = mid
            transitions.append(b)
            offsets.append(offset_at(zone, b))
            here = b
        here = there
    return Timeline(transitions, offsets, lo, hi)
