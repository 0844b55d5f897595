"""The broker is stopped and restarted while the relay produces; nothing is lost once it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from plutarc_contracts import events_topic
from plutarc_localkafka.launcher import KafkaConfig, start, stop
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.store import Meta
from plutarc_testkit.kafka import TEST_JVM_OPTS, free_ports
from plutarc_testkit.waiting import until

from .conftest import spec_for
from .demo import Counter, demo_registry
from .kafka_helpers import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def save_batch(store, n: int) -> None:
    clock = FakeClock()
    for _ in range(n // 10):
        counter = Counter.open("c", clock.now())
        for _ in range(9):
            counter.increment(1, clock.now())
        store.save(counter, meta=Meta("user:alice", "restart"))


async def test_relay_survives_a_broker_restart(tmp_path: Path, run_service_on) -> None:
    port, controller_port = free_ports(2)  # two separate probes may return the same port
    cfg = KafkaConfig(
        port=port,
        controller_port=controller_port,
        data_dir=tmp_path / "kafka",
        jvm_opts=TEST_JVM_OPTS,
    )
    await asyncio.to_thread(start, cfg)
    try:
        service = await run_service_on(cfg.bootstrap, spec_for("restart"))
        service.relay.retry_backoff = 0.2
        await asyncio.to_thread(save_batch, service.store, 500)
        await until(lambda: service.relay.position >= 500, what="first 500 published")

        await asyncio.to_thread(stop, cfg)
        await asyncio.to_thread(save_batch, service.store, 500)
        assert service.relay.position < 1000, "nothing can be published while the broker is down"

        await asyncio.to_thread(start, cfg)
        await asyncio.to_thread(save_batch, service.store, 500)
        await until(lambda: service.relay.position >= 1500, timeout=90, what="all 1500 published")

        records = await read_all(cfg.bootstrap, events_topic("restart"))
        registry = demo_registry()
        ids = {registry.decode_event(r.value).event_id for r in records}
        stored = {
            registry.decode_event(n.state).event_id
            for n in await asyncio.to_thread(service.store.notifications, 1, 5000)
        }
        assert len(stored) == 1500
        assert ids == stored
    finally:
        await asyncio.to_thread(stop, cfg)
