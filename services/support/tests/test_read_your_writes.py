"""Read-your-writes across services: a command refused for what the service learns from identity's
topic (no such workspace, not a member) is decided again once the service applied everything on
that topic at that instant. A workspace the API created a moment ago is then found, not refused;
a workspace that does not exist is still refused, promptly.

The memberships follower is paused (as a slow follower would be) while identity's events and the
command arrive, so the race a fast client runs into is played every time, not by chance.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_contracts import Envelope, default_registry
from plutarc_contracts import identity as c
from plutarc_contracts import support as s
from plutarc_contracts.catalogue import topics_of
from plutarc_contracts.compute import COMPUTE
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.service import Service
from plutarc_support.bootstrap import build
from plutarc_support.settings import SupportSettings
from plutarc_testkit.identity_events import workspace_events
from plutarc_testkit.waiting import until

from .test_service_over_kafka import command

sys.path.insert(0, str(Path(__file__).parents[3] / "libs" / "runtime" / "tests"))
from kafka_helpers import produce, read_all

pytestmark = pytest.mark.kafka
REGISTRY = default_registry()


@pytest.fixture(params=[500, 1], ids=["batched", "one-by-one"])
async def support(
    request: pytest.FixtureRequest, kafka_bootstrap: str, tmp_path: Path, policy: Any
) -> AsyncIterator[Service]:
    # The topics of the contexts it follows exist, as on a running platform.
    await ensure_topics(kafka_bootstrap, [*c.identity_topics().all(), *topics_of(COMPUTE).all()])
    settings = SupportSettings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path,
        timer_poll=0.05,
        command_batch=request.param,  # both of the command consumer's paths catch up
    )
    service = Service(
        build(settings, policy=policy),
        settings,
        clock=FakeClock(),
        consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(service.started.is_set, what="support started")
        await until(service.consumers[0].assigned.is_set, what="command partitions")
        await until(lambda: all(r.caught_up.is_set() for r in service.replays), what="followers")
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def open_ticket(ws: str) -> s.OpenTicket:
    return s.OpenTicket(
        workspace_id=ws,
        ticket_id=str(uuid4()),
        subject="Orders rejected",
        body="Since 09:00 every order is rejected.",
        category="exchange_connections",
        priority="normal",
    )


async def reply_to(bootstrap: str, command_id: str) -> Envelope | None:
    for record in await read_all(bootstrap, "support.events.v1"):
        env = REGISTRY.decode_event(record.value)
        if env.type.startswith("system.command_") and env.payload.command_id == command_id:
            return env
    return None


async def test_a_workspace_created_a_moment_ago_is_found_not_refused(
    kafka_bootstrap: str, support: Service
) -> None:
    (memberships,) = support.replays
    assert memberships._kafka is not None
    partitions = list(memberships.offsets)
    memberships._kafka.pause(*partitions)  # a follower that has not read identity's news yet
    ws = str(uuid4())
    await produce(
        kafka_bootstrap,
        "identity.events.v1",
        [REGISTRY.encode_event(e) for e in workspace_events(ws, {"alice": "owner"})],
        key=ws.encode(),
    )
    value = command("user:alice", open_ticket(ws))
    command_id = REGISTRY.decode_command(value).command_id
    await produce(kafka_bootstrap, "support.commands.v1", [value], key=ws.encode())

    # Refused once for an unknown workspace: the consumer now waits for the follower to catch up.
    await until(lambda: command_id in support.processor._caught_up, what="the first refusal")
    memberships._kafka.resume(*partitions)

    reply = await until(lambda: reply_to(kafka_bootstrap, command_id), timeout=30, what="reply")
    assert reply.type == "system.command_accepted", reply.payload
    assert support.authorizer is not None
    assert support.authorizer.source.role_of("alice", ws) == "owner"


async def test_a_workspace_that_does_not_exist_is_still_refused(
    kafka_bootstrap: str, support: Service
) -> None:
    ws = str(uuid4())
    value = command("user:alice", open_ticket(ws))
    command_id = REGISTRY.decode_command(value).command_id
    await produce(kafka_bootstrap, "support.commands.v1", [value], key=ws.encode())

    reply = await until(lambda: reply_to(kafka_bootstrap, command_id), timeout=30, what="reply")
    assert reply.type == "system.command_rejected"
    assert reply.payload.code == "workspace.not_found"
    assert command_id not in support.processor._caught_up  # decided twice, then forgotten
