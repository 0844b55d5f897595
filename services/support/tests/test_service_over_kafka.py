"""The support service as it runs: memberships replayed from identity's topic, commands over
Kafka, user-side events on `support.events.v1`, notes on the private `support.notes.v1` only, and
the auto-close timer on the service's clock."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from plutarc_contracts import CommandEnvelope, Envelope, default_registry
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

sys.path.insert(0, str(Path(__file__).parents[3] / "libs" / "runtime" / "tests"))
from kafka_helpers import produce, read_all

pytestmark = pytest.mark.kafka
REGISTRY = default_registry()
NOTE = "operator-only: the venue owes them a refund"


def command(actor: str, payload: msgspec.Struct) -> bytes:
    name, version = REGISTRY.type_name_of(type(payload))
    cid = str(uuid4())
    return REGISTRY.encode_command(
        CommandEnvelope(
            command_id=cid,
            type=name,
            schema_version=version,
            issued_at=datetime.now(UTC),
            actor=actor,
            workspace_id=getattr(payload, "workspace_id", None),
            correlation_id=cid,
            causation_id=None,
            payload=payload,
        )
    )


async def decoded(bootstrap: str, topic: str) -> list[Envelope]:
    return [REGISTRY.decode_event(r.value) for r in await read_all(bootstrap, topic)]


async def test_support_runs_on_kafka_with_notes_on_their_private_topic(
    kafka_bootstrap: str, tmp_path: Path, policy: Any
) -> None:
    ws, ticket_id = str(uuid4()), str(uuid4())
    # The topics of the contexts it follows exist, as on a running platform (alone, the
    # compute-alerts consumer would wait for its topic, and stop slowly).
    await ensure_topics(kafka_bootstrap, [*c.identity_topics().all(), *topics_of(COMPUTE).all()])
    await produce(
        kafka_bootstrap,
        "identity.events.v1",
        [REGISTRY.encode_event(e) for e in workspace_events(ws, {"alice": "owner"})],
        key=ws.encode(),
    )
    settings = SupportSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path, timer_poll=0.05)
    clock = FakeClock()
    service = Service(
        build(settings, policy=policy),
        settings,
        clock=clock,
        consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(service.started.is_set, what="support started")
        await until(service.consumers[0].assigned.is_set, what="command partitions")
        assert service.authorizer is not None
        await until(lambda: service.authorizer.source.role_of("alice", ws), what="memberships")
        commands = [
            command("system:cli", s.GrantOperator(user_id="op")),
            command(
                "user:alice",
                s.OpenTicket(
                    workspace_id=ws,
                    ticket_id=ticket_id,
                    subject="Orders rejected",
                    body="Since 09:00 every order is rejected.",
                    category="exchange_connections",
                    priority="urgent",
                ),
            ),
            command(
                "user:op",
                s.AddInternalNote(
                    workspace_id=ws, ticket_id=ticket_id, note_id=str(uuid4()), body=NOTE
                ),
            ),
            command(
                "user:op",
                s.PostMessage(
                    workspace_id=ws,
                    ticket_id=ticket_id,
                    message_id=str(uuid4()),
                    body="Fixed on the venue's side; can you check?",
                    side="operator",
                ),
            ),
        ]
        await produce(kafka_bootstrap, "support.commands.v1", commands, key=ticket_id.encode())

        async def of_ticket(types: set[str]) -> list[Envelope]:
            events = await decoded(kafka_bootstrap, "support.events.v1")
            mine = [e for e in events if getattr(e.payload, "ticket_id", None) == ticket_id]
            return mine if types <= {e.type for e in mine} else []

        mine = await until(
            lambda: of_ticket({"support.ticket_opened", "support.message_posted"}),
            timeout=30,
            what="the ticket and its message on the events topic",
        )
        notes = await until(
            lambda: decoded(kafka_bootstrap, s.NOTES_TOPIC), timeout=30, what="the note"
        )
        assert [n.payload.body for n in notes if n.payload.ticket_id == ticket_id] == [NOTE]
        assert all(e.producer == "support" for e in mine)
        raw = b"".join(r.value for r in await read_all(kafka_bootstrap, "support.events.v1"))
        assert b"refund" not in raw and b"internal_note_added" not in raw

        # Waiting on the user since the operator's message: warned at day 6, closed at day 7.
        clock.advance(timedelta(days=6))
        await until(
            lambda: of_ticket({"support.auto_close_warning_sent"}), timeout=30, what="warning"
        )
        clock.advance(timedelta(days=1))
        closed = await until(
            lambda: of_ticket({"support.ticket_auto_closed"}), timeout=30, what="auto-close"
        )
        assert [e.actor for e in closed if e.type == "support.ticket_auto_closed"] == [
            "system:support"
        ]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
