"""`plutarc support operators grant|revoke` against the running support service on real Kafka."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import RegoEngine
from plutarc_cli.main import app
from plutarc_contracts.identity import identity_topics
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.service import Service
from plutarc_support.bootstrap import build
from plutarc_support.settings import SupportSettings
from plutarc_testkit.waiting import until
from typer.testing import CliRunner

pytestmark = pytest.mark.kafka


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


async def test_operators_are_granted_and_revoked_from_the_command_line(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # Support authorizes from identity's topic: it waits for it to exist (identity creates it).
    await ensure_topics(kafka_bootstrap, list(identity_topics().all()))
    settings = SupportSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path)
    service = Service(
        build(settings, policy=RegoEngine()),
        settings,
        clock=FakeClock(),
        consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    user = str(uuid4())
    cli = ("--bootstrap", kafka_bootstrap)
    try:
        await until(service.started.is_set, what="support started")
        await until(service.consumers[0].assigned.is_set, what="command partitions")

        granted = await asyncio.to_thread(invoke, "support", "operators", "grant", user, *cli)
        assert granted.exit_code == 0, granted.output
        assert granted.output.strip() == f"{user} is a support operator"

        again = await asyncio.to_thread(
            invoke, "support", "operators", "grant", user, *cli, "--json"
        )
        assert again.exit_code == 1
        assert json.loads(again.stdout)["code"] == "support.already_operator"

        revoked = await asyncio.to_thread(invoke, "support", "operators", "revoke", user, *cli)
        assert revoked.exit_code == 0, revoked.output
        nobody = await asyncio.to_thread(invoke, "support", "operators", "revoke", user, *cli)
        assert nobody.exit_code == 1 and "support.unknown_operator" in nobody.output

        events = [
            service.spec.registry.decode_event(n.state)
            for n in service.store.notifications(1, 10_000)
        ]
        mine = [e for e in events if getattr(e.payload, "user_id", None) == user]
        assert [(e.type, e.actor) for e in mine] == [
            ("support.operator_granted", "system:cli"),
            ("support.operator_revoked", "system:cli"),
        ], "each recorded once, in support's store (its audit log)"
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def test_without_the_service_the_command_says_so(kafka_bootstrap: str) -> None:
    result = invoke(
        "support", "operators", "grant", "u1", "--bootstrap", kafka_bootstrap, "--timeout", "1"
    )
    assert result.exit_code == 2
    assert "support service" in result.output


def test_an_unreachable_kafka_is_a_clear_error() -> None:
    result = invoke(
        "support", "operators", "grant", "u1", "--bootstrap", "127.0.0.1:1", "--timeout", "1"
    )
    assert result.exit_code == 2
    assert "cannot reach Kafka at 127.0.0.1:1" in result.output
