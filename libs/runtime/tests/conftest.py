from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_contracts import declare_context
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.service import Service, ServiceSpec
from plutarc_runtime.settings import RuntimeSettings
from plutarc_testkit.waiting import until

from .demo import Counter, Tally, demo_registry

FAST_GROUPS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500}


@pytest.fixture
def unique_context() -> str:
    return f"demo{uuid4().hex[:8]}"


@pytest.fixture
async def run_service_on(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start a Service for a spec on a given broker in this event loop; stop it at teardown."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(kafka_bootstrap: str, spec: ServiceSpec, **settings: Any) -> Service:
        config = RuntimeSettings(
            kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path / spec.name, **settings
        )
        service = Service(spec, config, clock=FakeClock(), consumer_overrides=FAST_GROUPS)
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        running.append((stop, task))
        await until(lambda: service.started.is_set() or task.done(), what="service start")
        if task.done():
            task.result()
        for consumer in service.consumers:
            await until(consumer.assigned.is_set, timeout=30, what=f"{consumer.name} partitions")
        return service

    yield start
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
def run_service(run_service_on: Callable[..., Any], kafka_bootstrap: str) -> Callable[..., Any]:
    """Start a Service for a spec on the session's broker."""

    async def start(spec: ServiceSpec, **settings: Any) -> Service:
        return await run_service_on(kafka_bootstrap, spec, **settings)  # type: ignore[no-any-return]

    return start


def spec_for(context: str, **kwargs: Any) -> ServiceSpec:
    return ServiceSpec(
        name=context,
        context=context,
        registry=demo_registry(),
        stream_types=[Counter, Tally],
        context_topics=declare_context(context, description="demo counters"),
        **kwargs,
    )
