"""`plutarc bot run BOT_ID`: bad input refused with a code and an exit status; a running bot runs
(its egress proxy beside it while it trades on a venue) until it is stopped."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from plutarc_cli import bot_cmd
from plutarc_cli.main import app
from plutarc_contracts import bots as b
from plutarc_contracts import default_topics
from plutarc_contracts import exchange as x
from plutarc_runtime.bus import ensure_topics
from plutarc_testkit.waiting import until
from typer.testing import CliRunner

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from services.bots.tests.runtime.kafka_world import T0, World  # noqa: E402


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["bot", "run", *args])


def test_a_malformed_id_is_refused_before_anything_is_read() -> None:
    result = invoke("not-a-uuid", "--kafka", "127.0.0.1:1")
    assert result.exit_code == 2
    assert "bots.invalid_id" in result.output and "not-a-uuid" in result.output


def test_an_unreachable_kafka_is_a_clear_error() -> None:
    result = invoke(str(uuid4()), "--kafka", "127.0.0.1:1")
    assert result.exit_code == 2
    assert "cannot reach Kafka at 127.0.0.1:1" in result.output


@pytest.mark.kafka
async def test_a_bot_nobody_created_is_not_found(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap, default_topics().all())
    bot_id = str(uuid4())
    result = await asyncio.to_thread(invoke, bot_id, "--kafka", kafka_bootstrap)
    assert result.exit_code == 1
    assert f"bots.bot_not_found: no bot {bot_id}" in result.output


@pytest.mark.kafka
async def test_a_stopped_bot_has_nothing_to_run(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap, default_topics().all())
    world = World(kafka_bootstrap)
    await world.start()
    try:
        await world.bot_running()
        await world.stopped()
        result = await asyncio.to_thread(invoke, world.bot, "--kafka", kafka_bootstrap)
    finally:
        await world.close()
    assert result.exit_code == 1
    assert f"bots.not_running: bot {world.bot} is stopped" in result.output


@pytest.mark.kafka
async def test_a_running_bot_runs_with_its_egress_until_stopped(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ensure_topics(kafka_bootstrap, default_topics().all())
    proxies: list[str] = []

    @asynccontextmanager
    async def egress() -> AsyncIterator[Any]:
        proxies.append("up")
        yield SimpleNamespace(url="http://127.0.0.1:8899")
        proxies.append("down")

    ports: list[tuple[int, ...]] = []

    def made(bind: str, runtime_dir: Any, connect_ports: tuple[int, ...]) -> Any:
        ports.append(connect_ports)
        return egress

    monkeypatch.setattr(bot_cmd, "default_egress", made)
    monkeypatch.setenv("PLUTARC_BOT_EGRESS_CONNECT_PORTS", "443,8443")
    world = World(kafka_bootstrap)
    await world.start()
    try:
        await world.bot_running()
        bot = {"workspace_id": world.ws, "bot_id": world.bot, "version": 2}
        testnet = b.BotModeChanged(
            **bot, config=world.config, previous_mode="paper", mode="testnet"
        )
        await world.event(testnet, world.bot, T0)
        running = asyncio.create_task(
            asyncio.to_thread(
                invoke, world.bot, "--kafka", kafka_bootstrap, "--egress-bind", "127.0.0.9"
            )
        )
        await until(lambda: proxies == ["up"], what="the egress proxy started")
        world.clock.set(datetime.now(UTC))  # the command line runs on the real clock
        await world.stopped()
        result = await asyncio.wait_for(running, 60)

        async def three() -> bool:
            return len(await world.read_commands()) >= 3

        await until(three, what="the bot's three commands")
        told = [c.payload for c in world.seen]
    finally:
        await world.close()
    assert result.exit_code == 0, result.output
    assert f"bot {world.bot}: stopped" in result.output
    assert proxies == ["up", "down"]
    assert ports == [(443, 8443)], "the tunnels' ports come from the settings"
    assert told == [
        x.AttachEgress(
            workspace_id=world.ws,
            bot_id=world.bot,
            proxy_url="http://127.0.0.1:8899",
            address="127.0.0.9",
        ),
        x.CancelAllOrders(workspace_id=world.ws, bot_id=world.bot),  # the stop's flatten
        x.DetachEgress(workspace_id=world.ws, bot_id=world.bot),
    ]


@pytest.mark.kafka
async def test_the_ready_file_is_written_once_the_bot_caught_up_and_runs(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap, default_topics().all())
    ready = tmp_path / "ready"
    world = World(kafka_bootstrap)
    await world.start()
    try:
        await world.bot_running()
        running = asyncio.create_task(
            asyncio.to_thread(
                invoke, world.bot, "--kafka", kafka_bootstrap, "--ready-file", str(ready)
            )
        )
        await until(ready.exists, timeout=60, what="the ready file")
        assert not running.done(), "ready means running, not finished"
        assert ready.read_text().strip().isdigit()
        world.clock.set(datetime.now(UTC))
        await world.stopped()
        result = await asyncio.wait_for(running, 60)
    finally:
        await world.close()
    assert result.exit_code == 0, result.output


def test_no_ready_file_is_written_for_a_bot_that_cannot_run(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    result = invoke(str(uuid4()), "--kafka", "127.0.0.1:1", "--ready-file", str(ready))
    assert result.exit_code == 2
    assert not ready.exists()


@pytest.mark.parametrize("url", ["10.0.0.7:8888", "http://10.0.0.7", "https://10.0.0.7:8888"])
def test_a_malformed_egress_url_is_refused_before_anything_is_read(url: str) -> None:
    result = invoke(str(uuid4()), "--kafka", "127.0.0.1:1", "--egress-url", url)
    assert result.exit_code == 2
    assert "bot_runtime.invalid_egress_url" in result.output
    assert "cannot reach Kafka" not in result.output


@pytest.mark.kafka
async def test_on_a_host_that_runs_the_proxy_the_bot_announces_that_one(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An AWS host's egress unit listens on the instance's address: the runtime starts no proxy
    of its own and tells the gateway the unit's URL and the bot's address."""
    await ensure_topics(kafka_bootstrap, default_topics().all())

    def none_of_its_own(*args: Any) -> Any:
        raise AssertionError("the runtime started a proxy of its own")

    monkeypatch.setattr(bot_cmd, "default_egress", none_of_its_own)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    unit = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{unit.sockets[0].getsockname()[1]}"
    world = World(kafka_bootstrap)
    await world.start()
    try:
        await world.bot_running()
        bot = {"workspace_id": world.ws, "bot_id": world.bot, "version": 2}
        live = b.BotModeChanged(**bot, config=world.config, previous_mode="paper", mode="testnet")
        await world.event(live, world.bot, T0)
        args = ("--kafka", kafka_bootstrap, "--egress-bind", "10.0.0.7", "--egress-url", url)
        running = asyncio.create_task(asyncio.to_thread(invoke, world.bot, *args))

        async def attached() -> bool:
            return len(await world.read_commands()) >= 1

        await until(attached, timeout=60, what="the bot's egress announced")
        world.clock.set(datetime.now(UTC))
        await world.stopped()
        result = await asyncio.wait_for(running, 60)
        told = [c.payload for c in world.seen]
    finally:
        await world.close()
        unit.close()
        await unit.wait_closed()
    assert result.exit_code == 0, result.output
    assert told[0] == x.AttachEgress(
        workspace_id=world.ws, bot_id=world.bot, proxy_url=url, address="10.0.0.7"
    )
