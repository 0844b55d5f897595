"""Health, readiness and metrics endpoints of a running service, and structured logs."""

from __future__ import annotations

import json
import logging
from uuid import uuid4

import httpx
import pytest
from plutarc_contracts import commands_topic, events_topic
from plutarc_runtime.logs import JsonFormatter
from plutarc_testkit.waiting import until

from .conftest import spec_for
from .demo import HANDLERS, OpenCounter
from .kafka_helpers import produce
from .test_delivery import command, replies


@pytest.mark.kafka
async def test_health_ready_and_metrics(run_service, kafka_bootstrap, unique_context) -> None:
    service = await run_service(spec_for(unique_context, handlers=HANDLERS))
    base = f"http://127.0.0.1:{service.ops.port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        health = await client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "alive"
        ready = await client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"store": "ok", "broker": "ok"}
        metrics = (await client.get("/metrics")).text
        for name in (
            "plutarc_relay_lag_events",
            "plutarc_consumer_lag_messages",
            "plutarc_commands_handled_total",
            "plutarc_commands_failed_total",
            "plutarc_command_handling_seconds",
        ):
            assert name in metrics

        # Readiness follows the store: once it stops answering, the service is not ready.
        answering = service.store.max_notification_id
        calls = []

        def unavailable() -> int:
            calls.append(1)
            raise OSError("database is gone")

        service.store.max_notification_id = unavailable
        not_ready = await client.get("/ready")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["store"].startswith("failing")

        # The relay meets the outage too (it reads the head for its lag metric) and keeps running:
        # once the store answers again the service is ready and still handles commands.
        await until(lambda: len(calls) >= 3, what="the relay to meet the store outage")
        service.store.max_notification_id = answering
        await until(lambda: _ready(client), what="readiness after the store came back")
        counter_id = str(uuid4())
        cid, raw = command("demo.open_counter", OpenCounter(counter_id=counter_id, name="after"))
        await produce(
            kafka_bootstrap, commands_topic(unique_context), [raw], key=counter_id.encode()
        )
        [reply] = await replies(kafka_bootstrap, events_topic(unique_context), f"corr-{cid}", 1)
        assert reply.type == "system.command_accepted"


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/ready")).status_code == 200


def test_log_lines_are_json_with_extra_fields() -> None:
    record = logging.LogRecord(
        "plutarc.test", logging.WARNING, __file__, 1, "relay %s", ("slow",), None
    )
    record.position = 42
    record.error = ValueError("boom")
    line = json.loads(JsonFormatter("identity").format(record))
    assert line["level"] == "warning" and line["service"] == "identity"
    assert line["msg"] == "relay slow" and line["position"] == 42
    assert line["error"] == "ValueError('boom')"
