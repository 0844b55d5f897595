"""A burst of commands through a running service: decided in batches, every one answered once."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from plutarc_contracts import commands_topic, events_topic
from plutarc_testkit.waiting import until

from .conftest import spec_for
from .demo import HANDLERS, Counter, Increment, OpenCounter
from .kafka_helpers import read_all
from .test_delivery import REGISTRY, command

pytestmark = pytest.mark.kafka


async def test_a_burst_of_commands_is_stored_in_few_transactions_and_answered_once_each(
    run_service, kafka_bootstrap, unique_context
) -> None:
    service = await run_service(spec_for(unique_context, handlers=HANDLERS))
    commits: list[int] = []
    service.store.on_saved(commits.append)
    counter_id = str(uuid4())
    opened = command("demo.open_counter", OpenCounter(counter_id=counter_id, name="burst"))
    increments = [
        command("demo.increment", Increment(counter_id=counter_id, by=1)) for _ in range(300)
    ]
    refused = command("demo.increment", Increment(counter_id=counter_id, by=0))
    repeated = increments[10]
    burst = [opened, *increments[:150], refused, repeated, *increments[150:]]

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = [
            await producer.send(commands_topic(unique_context), raw, key=counter_id.encode())
            for _, raw in burst
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()

    async def answered() -> list[object]:
        records = await read_all(kafka_bootstrap, events_topic(unique_context))
        envs = [REGISTRY.decode_event(r.value) for r in records]
        hits = [e for e in envs if e.type.startswith("system.command_")]
        return hits if len(hits) >= len(burst) else []

    replies = await until(answered, timeout=60, interval=0.2, what="a reply to every command")
    assert len(replies) == len(burst)
    by_command: dict[str, list[object]] = {}
    for env in replies:
        by_command.setdefault(env.payload.command_id, []).append(env.payload)  # type: ignore[attr-defined]
    assert len(by_command[repeated[0]]) == 2
    assert by_command[repeated[0]][0] == by_command[repeated[0]][1]
    assert by_command[refused[0]][0].code == "demo.bad_increment"  # type: ignore[attr-defined]
    counter = await asyncio.to_thread(service.store.get, Counter, UUID(counter_id))
    assert counter.value == 300
    assert len(commits) < len(burst) / 5, f"{len(commits)} transactions for {len(burst)} commands"
