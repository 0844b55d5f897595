"""Deadlines: the index a timer's read model keeps of what falls due when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plutarc_runtime.timers import Deadlines

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_only_keys_past_their_deadline_are_due_and_stay_due_until_settled() -> None:
    d = Deadlines()
    d.set("a", T0 + timedelta(days=1))
    d.set("b", T0 + timedelta(days=2))
    assert d.due(T0) == []
    assert d.due(T0 + timedelta(days=1)) == ["a"]
    assert d.due(T0 + timedelta(days=1)) == ["a"], "still due until an event settles it"
    d.drop("a")
    assert d.due(T0 + timedelta(days=1)) == []
    assert sorted(d.due(T0 + timedelta(days=3))) == ["b"]
    assert len(d) == 1


def test_a_moved_deadline_replaces_the_old_one() -> None:
    d = Deadlines()
    d.set("a", T0 + timedelta(days=1))
    d.set("a", T0 + timedelta(days=5))
    assert d.due(T0 + timedelta(days=2)) == [], "the earlier deadline is stale"
    assert d.due(T0 + timedelta(days=5)) == ["a"]
    d.set("a", T0 + timedelta(days=9))
    assert d.due(T0 + timedelta(days=6)) == [], "set again: no longer due"


def test_stale_heap_entries_are_dropped_now_and_then() -> None:
    d = Deadlines()
    for i in range(5000):
        d.set("k", T0 + timedelta(seconds=i))
    assert d.due(T0 - timedelta(days=1)) == []
    assert len(d.heap) <= 2 * len(d) + 1024
    assert d.due(T0 + timedelta(seconds=4999)) == ["k"]
