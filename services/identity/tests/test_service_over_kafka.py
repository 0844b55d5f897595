"""The identity service as it runs: commands over Kafka, replies and events on their topics."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_contracts import CommandEnvelope, default_registry
from plutarc_contracts import identity as c
from plutarc_identity.bootstrap import build
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.service import Service
from plutarc_runtime.settings import RuntimeSettings
from plutarc_testkit.waiting import until

from .conftest import PASSWORD_HASH, token_hash

sys.path.insert(0, str(Path(__file__).parents[3] / "libs" / "runtime" / "tests"))
from kafka_helpers import produce, read_all

pytestmark = pytest.mark.kafka
REGISTRY = default_registry()


def command(actor: str, payload, key: str) -> tuple[str, bytes]:
    name, version = REGISTRY.type_name_of(type(payload))
    cid = str(uuid4())
    env = CommandEnvelope(
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
    return cid, REGISTRY.encode_command(env)


async def test_identity_service_handles_commands_and_keeps_credentials_off_the_events_topic(
    kafka_bootstrap, tmp_path, policy
) -> None:
    settings = RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path)
    service = Service(
        build(policy=policy),
        settings,
        clock=FakeClock(),
        consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(service.started.is_set, what="identity started")
        await until(service.consumers[0].assigned.is_set, what="command partitions")
        user_id = str(uuid4())
        cid, raw = command(
            "anonymous",
            c.RegisterUser(
                user_id=user_id,
                personal_workspace_id=str(uuid4()),
                email=f"{user_id[:8]}@example.com",
                display_name="Kim",
                password_hash=PASSWORD_HASH,
            ),
            user_id,
        )
        sid, raw2 = command(
            f"user:{user_id}",
            c.StartSession(session_id=str(uuid4()), user_id=user_id, token_hash=token_hash("s")),
            user_id,
        )
        await produce(kafka_bootstrap, "identity.commands.v1", [raw, raw2], key=user_id.encode())

        async def replies() -> dict:
            found = {}
            for r in await read_all(kafka_bootstrap, "identity.events.v1"):
                env = REGISTRY.decode_event(r.value)
                if env.correlation_id in (cid, sid) and env.type.startswith("system.command_"):
                    found[env.correlation_id] = env
            return found if len(found) == 2 else {}

        found = await until(replies, timeout=30, what="both replies")
        assert {e.type for e in found.values()} == {"system.command_accepted"}

        events = [
            REGISTRY.decode_event(r.value)
            for r in await read_all(kafka_bootstrap, "identity.events.v1")
        ]
        credentials = [
            REGISTRY.decode_event(r.value)
            for r in await read_all(kafka_bootstrap, "identity.credentials.v1")
        ]
        mine = [e for e in events if e.stream_id == user_id or e.correlation_id in (cid, sid)]
        assert "identity.user_registered" in {e.type for e in mine}
        assert not {e.type for e in events} & c.CREDENTIAL_EVENTS
        assert b"argon2" not in b"".join(
            r.value for r in await read_all(kafka_bootstrap, "identity.events.v1")
        )
        assert {"identity.password_set", "identity.session_started"} <= {
            e.type for e in credentials if getattr(e.payload, "user_id", None) == user_id
        }
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
