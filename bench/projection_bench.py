"""Gateway start-up: replaying the identity topics from offset 0, against resuming from a checkpoint.

Identity-shaped events go to two fresh topics (an events and a credentials topic, 3 partitions
each): per user a registration, a personal workspace and its owner, a password, and a few logins;
every tenth user also creates an organisation. The gateway's own projections (IdentityView and
Memberships) read them through a ReplayConsumer, first from offset 0, then from the checkpoint that
run saved.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from uuid import uuid4

from plutarc_access import Memberships, RegoEngine
from plutarc_api.views import IdentityView
from plutarc_contracts import Envelope, Topic, default_registry, new_event_id
from plutarc_contracts import identity as c
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.checkpoint import CheckpointFile
from plutarc_runtime.projection import ReplayConsumer

from .common import rate

LOGINS = 3


def envelope(stream: str, position: int, payload: c.Payload, workspace: str | None) -> Envelope:
    return Envelope(
        event_id=new_event_id(),
        type=default_registry().type_name_of(type(payload))[0],
        schema_version=1,
        occurred_at=datetime.now(UTC),
        producer="identity",
        stream_id=stream,
        stream_position=position,
        workspace_id=workspace,
        actor="anonymous",
        correlation_id=stream,
        causation_id=None,
        payload=payload,
    )


def user_events(expires: datetime) -> tuple[list[Envelope], list[Envelope]]:
    user, ws = str(uuid4()), str(uuid4())
    email = f"{user[:12]}@example.com"
    events = [
        envelope(user, 1, c.UserRegistered(user_id=user, email=email, display_name="U",
                                           personal_workspace_id=ws), None),
        envelope(ws, 1, c.WorkspaceCreated(workspace_id=ws, kind="personal", name="U",
                                           created_by=user), ws),
        envelope(ws, 2, c.MemberJoined(workspace_id=ws, user_id=user, role="owner",
                                       via="creation"), ws),
    ]  # fmt: skip
    credentials = [
        envelope(user, 2, c.PasswordSet(user_id=user, password_hash="$argon2id$x"), None)
    ]
    for _ in range(LOGINS):
        session = str(uuid4())
        credentials.append(
            envelope(session, 1, c.SessionStarted(session_id=session, user_id=user,
                                                  token_hash=sha256(session.encode()).hexdigest(),
                                                  expires_at=expires), None)
        )  # fmt: skip
    return events, credentials


async def fill(bootstrap: str, users: int) -> tuple[list[str], int]:
    topics = [f"benchid{uuid4().hex[:8]}.events.v1", f"benchid{uuid4().hex[:8]}.credentials.v1"]
    await ensure_topics(
        bootstrap, [Topic(name=t, partitions=3, description="bench") for t in topics]
    )
    registry = default_registry()
    expires = datetime.now(UTC) + timedelta(days=1)
    producer = make_producer(bootstrap, client_id="bench-fill")
    await producer.start()
    sent = 0
    try:
        for _ in range(users):
            events, credentials = user_events(expires)
            for topic, batch in zip(topics, (events, credentials), strict=True):
                for env in batch:
                    await producer.send(
                        topic, registry.encode_event(env), key=env.stream_id.encode()
                    )
                    sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return topics, sent


async def replay(
    bootstrap: str, topics: list[str], checkpoint: Path
) -> tuple[ReplayConsumer, float]:
    consumer = ReplayConsumer(
        name="bench",
        bootstrap=bootstrap,
        topics=topics,
        registry=default_registry(),
        projections=[IdentityView(), Memberships(RegoEngine())],
        checkpoint=CheckpointFile(checkpoint),
        checkpoint_interval=1e9,  # only the save at stop
    )
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(consumer.run(stop))
    while not consumer.caught_up.is_set():
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - start
    stop.set()
    await asyncio.wait_for(task, 60)
    return consumer, seconds


async def _run(base: Path, bootstrap: str, users: int) -> list[str]:
    topics, sent = await fill(bootstrap, users)
    path = base / "projection.checkpoint"
    full, full_s = await replay(bootstrap, topics, path)
    assert full.resumed_from is None and full.applied == sent, (full.applied, sent)
    started = time.perf_counter()
    for projection in full.projections:  # the part of a save that holds the event loop
        projection.export_state()  # type: ignore[attr-defined]
    export_s = time.perf_counter() - started
    started = time.perf_counter()
    await full.save_checkpoint()
    save_s = time.perf_counter() - started
    resumed, resumed_s = await replay(bootstrap, topics, path)
    assert resumed.resumed_from == sent
    return [
        f"projection: {users:,} users, {sent:,} identity events on Kafka",
        f"projection: start by full replay: {full_s:.2f} s ({rate(sent, full_s)})",
        f"projection: checkpoint save: {save_s * 1000:.0f} ms, {path.stat().st_size / 1e6:.1f} MB; "
        f"encoding the state (in the event loop): {export_s * 1000:.0f} ms",
        f"projection: start from the checkpoint: {resumed_s:.2f} s",
    ]


def run(base: Path, bootstrap: str, users: int = 20_000, quick: bool = False) -> list[str]:
    return asyncio.run(_run(base, bootstrap, 2_000 if quick else users))
