"""A writer that starts far behind leaves the catching up to a child process (whose memory goes
back to the system when it exits) and resumes from what the child committed; below the threshold,
or when the child fails, it catches up itself. Either way, every event is counted once."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_contracts import Topic
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.readmodels import ReadModels, sqlite_engine

from .test_readmodels import REGISTRY, Counting, publish, renamed, run_until_caught_up

pytestmark = pytest.mark.kafka
CHILD = Path(__file__).parent / "catchup_child.py"


@pytest.mark.parametrize(
    ("threshold", "fail", "in_child"),
    [(10, False, True), (10, True, False), (1000, False, False)],
    ids=["far-behind:child", "child-fails:here", "near:here"],
)
async def test_catching_up_far_behind_in_a_child_then_resuming_here(
    kafka_bootstrap: str, tmp_path: Path, threshold: int, fail: bool, in_child: bool
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
    engine = sqlite_engine(database)
    one, two = Counting("one", topic), Counting("two", topic)
    orders = {
        "database": str(database),
        "topic": topic,
        "names": ["one", "two"],
        "bootstrap": kafka_bootstrap,
        "fail": fail,
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
        # The writer applied only what the child had not: nothing, or everything.
        assert status["projections"]["one"]["applied"] == (0 if in_child else 30)
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
