"""A writer that starts far behind leaves the catching up to a child process (whose memory goes
back to the system when it exits) and resumes from what the child committed; below the threshold,
or when the child fails, it catches up itself. Either way, every event is counted once. The child
may spread the projections over processes (on SQLite a forked one builds into a side file, merged
when it is done; on PostgreSQL every process writes the one database); a process that dies
leaves its projections to the writer."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_contracts import Topic
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.readmodels import Projector, ReadModels, open_engine, sqlite_engine
from plutarc_runtime.readmodels.catchup import split

from .test_readmodels import REGISTRY, Counting, publish, renamed, run_until_caught_up

pytestmark = pytest.mark.kafka
CHILD = Path(__file__).parent / "catchup_child.py"


@pytest.mark.parametrize(
    ("threshold", "fail", "processes", "crash", "in_child", "here"),
    [
        (10, False, 1, None, True, (0, 0)),
        (10, True, 1, None, False, (30, 30)),
        (1000, False, 1, None, False, (30, 30)),
        (10, False, 2, None, True, (0, 0)),
        (10, False, 2, "two", False, (0, 30)),
        (10, False, 2, "one", False, (30, 30)),
    ],
    ids=[
        "far-behind:child",
        "child-fails:here",
        "near:here",
        "two-processes:child",
        "forked-process-dies:its-projection-here",
        "first-process-dies:both-here",
    ],
)
async def test_catching_up_far_behind_in_a_child_then_resuming_here(
    kafka_bootstrap: str,
    tmp_path: Path,
    threshold: int,
    fail: bool,
    processes: int,
    crash: str | None,
    in_child: bool,
    here: tuple[int, int],
) -> None:
    await catch_up_then_live(
        kafka_bootstrap, tmp_path, None, threshold, fail, processes, crash, in_child, here
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("crash", "in_child", "here"),
    [(None, True, (0, 0)), ("two", False, (0, 30)), ("one", False, (30, None))],
    ids=[
        "two-processes:child",
        "forked-process-dies:its-projection-here",
        "first-process-dies:its-projection-here",
    ],
)
async def test_catching_up_in_two_processes_on_postgres(
    kafka_bootstrap: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    crash: str | None,
    in_child: bool,
    here: tuple[int, int | None],
) -> None:
    """On PostgreSQL both processes write the one database, no side file. When the child's own
    process dies, the forked one may have committed any part of its projection (it is ended with
    its parent), so the writer applies whatever of it is left (`None`: not asserted)."""
    server = request.getfixturevalue("postgres_server")
    url = server.create_database(f"catchup_{uuid4().hex[:12]}")
    await catch_up_then_live(kafka_bootstrap, tmp_path, url, 10, False, 2, crash, in_child, here)


async def catch_up_then_live(
    kafka_bootstrap: str,
    tmp_path: Path,
    url: str | None,
    threshold: int,
    fail: bool,
    processes: int,
    crash: str | None,
    in_child: bool,
    here: tuple[int, int | None],
) -> None:
    topic = f"rmchild{uuid4().hex[:8]}.events.v1"
    await ensure_topics(
        kafka_bootstrap, [Topic(name=topic, partitions=3, retention_ms=-1, description="test")]
    )
    workspaces = [str(uuid4()) for _ in range(5)]
    await publish(
        kafka_bootstrap, topic, [renamed(w, i) for w in workspaces for i in range(1, 7)]
    )  # 30 events behind
    database = tmp_path / "rm.sqlite"
    engine = open_engine(url, database)
    one, two = Counting("one", topic), Counting("two", topic)
    orders = {
        "database": str(database),
        "topic": topic,
        "names": ["one", "two"],
        "bootstrap": kafka_bootstrap,
        "fail": fail,
        "processes": processes,
        "crash": crash,
        "url": url,
    }
    rm = ReadModels(
        engine,
        [one, two],
        bootstrap=kafka_bootstrap,
        registry=REGISTRY,
        name="t",
        lock_path=tmp_path / "rm.lock",
        catch_up_command=[sys.executable, str(CHILD)],
        catch_up_input=json.dumps(orders).encode(),
        catch_up_threshold=threshold,
    )
    stop, task = await run_until_caught_up(rm)
    try:
        status = rm.status()
        assert status["caught_up_in_child"] == (60 if in_child else None)  # 30 events x 2
        # The writer applied only what the child had not committed: nothing, or everything of
        # a projection whose process died (the forked one's side file is never merged).
        applied = status["projections"]
        got = (applied["one"]["applied"], applied["two"]["applied"])
        assert got == (here[0], got[1] if here[1] is None else here[1])
        if crash != "one":  # merged or dropped
            assert not [p for p in os.listdir(tmp_path) if ".catch-up-" in p]
        with engine.connect() as conn:
            assert one.totals(conn) == two.totals(conn) == {w: 6 for w in workspaces}

        # Then live, in the writer itself.
        await publish(kafka_bootstrap, topic, [renamed(workspaces[0], 7)])
        assert await rm.wait_for(await rm.end_offsets(), 30)
        with engine.connect() as conn:
            assert one.totals(conn)[workspaces[0]] == 7
    finally:
        stop.set()
        await task
        engine.dispose()


def test_split_balances_what_each_group_reads_and_applies() -> None:
    """Four projections as the API's: one reads both topics (the largest), three read one; the
    greedy split gives the largest a process and the three the other, whose rows are the most. A projection with rows
    already (on SQLite) stays in the first group, and one with nothing to do."""
    both = Counting("accounts", "events")
    both.topics = ("events", "credentials")  # type: ignore[assignment]
    others = [Counting(n, "events") for n in ("log", "outcomes", "workspaces")]
    engine = sqlite_engine(Path("unused"))  # never connected
    projector = Projector([both, *others], engine, bootstrap="-", registry=REGISTRY)
    targets = {("events", 0): 130, ("credentials", 0): 70}

    def names(groups: list[list[Any]]) -> list[list[str]]:
        return [[p.name for p in g] for g in groups]

    # The three apply the most events: theirs stay in the database, the accounts' are copied in.
    assert names(split(projector, targets, 2)) == [["log", "outcomes", "workspaces"], ["accounts"]]
    assert names(split(projector, targets, 1)) == [["accounts", "log", "outcomes", "workspaces"]]
    projector.member("outcomes").offsets = {("events", 0): 130}  # nothing to do
    projector.member("log").offsets = {("events", 0): 5}  # rows already: not movable
    groups = split(projector, targets, 2, lambda m: not m.offsets)
    assert names(groups) == [["log", "workspaces", "outcomes"], ["accounts"]]
