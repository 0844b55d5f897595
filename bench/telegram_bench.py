"""Ticket opened -> Telegram alert received by the fake Bot API, one ticket in flight at a time.

The support service runs in this process as it runs in production (`Service`, SQLite store, its
real `telegram` adapter from settings: python-telegram-bot over HTTP to the fake Bot API on
loopback). Two paths are measured, each from just before the command leaves to the moment the
fake received the alert's `sendMessage` (its own monotonic stamp, so polling for it adds nothing):

  over Kafka   the `support.open_ticket` command produced to support.commands.v1, consumed by the
               service, handled, stored with its intent, carried out by the intent worker
  in process   the same command through the service's own command path (no Kafka hop), as the
               gateway's commands reach it once consumed

The goal (issue 9) is ticket opened (HTTP) -> alert received, p99 under 300 ms: that path, with
identity, support and the API as processes of their own, is `telegram_http.py`, run after these.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from plutarc_access import Memberships, RegoEngine
from plutarc_contracts import CommandEnvelope, Envelope, commands_topic, default_registry, topics_of
from plutarc_contracts import identity as c
from plutarc_contracts import support as s
from plutarc_contracts.identity import IDENTITY
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.service import Service
from plutarc_support.bootstrap import build
from plutarc_support.settings import SupportSettings
from plutarc_testkit.telegram import FakeTelegram
from plutarc_testkit.waiting import until

from . import telegram_http
from .common import percentiles

CHAT = -100500
FAST_GROUPS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500}


def _member(ws: str, policy: RegoEngine) -> Memberships:
    memberships = Memberships(policy)
    registry = default_registry()
    for position, payload in enumerate(
        [
            c.WorkspaceCreated(workspace_id=ws, kind="organisation", name="Bench", created_by="x"),
            c.MemberJoined(workspace_id=ws, user_id="alice", role="owner", via="creation"),
        ],
        start=1,
    ):
        name, version = registry.type_name_of(type(payload))
        memberships.apply(
            Envelope(
                event_id=str(uuid4()),
                type=name,
                schema_version=version,
                occurred_at=datetime.now(UTC),
                producer="identity",
                stream_id=ws,
                stream_position=position,
                workspace_id=ws,
                actor="user:alice",
                correlation_id=str(uuid4()),
                causation_id=None,
                payload=payload,
            )
        )
    return memberships


def _open(ws: str) -> s.OpenTicket:
    return s.OpenTicket(
        workspace_id=ws,
        ticket_id=str(uuid4()),
        subject="Bot stopped trading",
        body="It stopped at 03:00.",
        category="bots",
        priority="high",
    )


def _encoded(ws: str) -> bytes:
    registry = default_registry()
    payload = _open(ws)
    name, version = registry.type_name_of(type(payload))
    cid = str(uuid4())
    return registry.encode_command(
        CommandEnvelope(
            command_id=cid,
            type=name,
            schema_version=version,
            issued_at=datetime.now(UTC),
            actor="user:alice",
            workspace_id=ws,
            correlation_id=cid,
            causation_id=None,
            payload=payload,
        )
    )


async def _alert(fake: FakeTelegram, count: int, timeout: float = 10.0) -> float:
    """The fake's arrival stamp of alert number `count` (1-based)."""
    deadline = time.monotonic() + timeout
    while True:
        sent = fake.sent(CHAT)
        if len(sent) >= count:
            return fake.received_at[sent[count - 1]["message_id"]]
        if time.monotonic() > deadline:
            raise TimeoutError(f"alert {count} did not arrive within {timeout} s")
        await asyncio.sleep(0.0005)


async def _measure(base: Path, bootstrap: str, samples: int, warmup: int) -> list[str]:
    ws = str(uuid4())
    with FakeTelegram(chats=[CHAT]) as fake:
        settings = SupportSettings(
            kafka_bootstrap=bootstrap,
            data_dir=base / f"telegram-bench-{uuid4().hex[:6]}",
            support_telegram_bot_token=fake.token,
            support_telegram_chat_id=str(CHAT),
            support_telegram_api_url=fake.base_url,
            log_json=False,
        )
        await ensure_topics(bootstrap, list(topics_of(IDENTITY).all()))
        service = Service(
            build(settings, memberships=_member(ws, RegoEngine())),
            settings,
            consumer_overrides=FAST_GROUPS,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        producer = make_producer(bootstrap, client_id="telegram-bench", linger_ms=0)
        await producer.start()
        try:
            await until(service.started.is_set, what="support started")
            await until(service.consumers[0].assigned.is_set, what="command partitions")
            topic = commands_topic(s.SUPPORT)
            count = 0
            kafka_ms: list[float] = []
            for i in range(warmup + samples):
                raw = _encoded(ws)
                t0 = time.monotonic()
                await producer.send_and_wait(topic, raw, key=ws.encode())
                count += 1
                received = await _alert(fake, count)
                if i >= warmup:
                    kafka_ms.append((received - t0) * 1000)
            local_ms: list[float] = []
            execute = service.processor.execute
            for i in range(warmup + samples):
                payload = _open(ws)
                t0 = time.monotonic()
                await asyncio.to_thread(execute, "user:alice", payload, workspace_id=ws)
                count += 1
                received = await _alert(fake, count)
                if i >= warmup:
                    local_ms.append((received - t0) * 1000)
        finally:
            await producer.stop()
            stop.set()
            await task
        assert len(fake.sent(CHAT)) == count, "exactly one alert per ticket"
    return [
        f"ticket opened -> alert at the fake Bot API, over Kafka: {percentiles(kafka_ms)}",
        f"ticket opened -> alert at the fake Bot API, in process: {percentiles(local_ms)}",
    ]


def run(base: Path, bootstrap: str, quick: bool = False, samples: int = 300) -> list[str]:
    samples = 40 if quick else samples
    lines = asyncio.run(_measure(base, bootstrap, samples, warmup=max(5, samples // 10)))
    work = base / "telegram-http"
    work.mkdir()
    return lines + telegram_http.measure(work, bootstrap, samples, warmup=max(5, samples // 10))
