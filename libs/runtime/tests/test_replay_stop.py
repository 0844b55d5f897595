"""A replay consumer stopped while the topics it reads do not exist yet stops cleanly."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from plutarc_contracts import default_registry
from plutarc_runtime.projection import ReplayConsumer
from plutarc_testkit.waiting import until

pytestmark = pytest.mark.kafka


async def test_stopping_while_waiting_for_a_topic_is_not_an_error(kafka_bootstrap: str) -> None:
    replay = ReplayConsumer(
        name="waiting",
        bootstrap=kafka_bootstrap,
        topics=[f"nowhere{uuid4().hex[:8]}.events.v1"],
        registry=default_registry(),
        projections=[],
    )
    stop = asyncio.Event()
    task = asyncio.create_task(replay.run(stop))
    await until(lambda: replay._kafka is not None, what="the reader started")
    stop.set()
    await asyncio.wait_for(task, 10)  # raised AssertionError (no partitions to seek) before
    assert not replay.caught_up.is_set()
