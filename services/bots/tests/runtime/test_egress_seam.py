"""The egress proxy runs beside the runtime while the bot trades on a venue."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from plutarc_bots.runtime import (
    EgressSwitch,
    EgressUnreachable,
    HostEgress,
    InvalidEgressUrl,
    check_egress_url,
    default_egress,
    host_egress,
)
from plutarc_testkit.waiting import until


async def test_the_proxy_runs_while_the_mode_is_testnet_or_live() -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def egress() -> AsyncIterator[Proxy]:
        seen.append("up")
        yield Proxy()
        seen.append("down")

    switch = EgressSwitch(egress, address="127.0.0.9")
    assert await switch.follow("paper") is None
    assert seen == []
    assert await switch.follow("testnet") == "attached"
    assert await switch.follow("live") is None  # still the same proxy
    assert (seen, switch.url) == (["up"], Proxy.url)
    assert await switch.follow("paper") == "detached"
    assert (seen, switch.running) == (["up", "down"], None)
    await switch.follow("live")
    assert await switch.aclose() is True
    assert await switch.aclose() is False
    assert seen == ["up", "down", "up", "down"]


class Proxy:
    url = "http://127.0.0.1:8899"


async def test_without_an_egress_module_it_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    switch = EgressSwitch(None)
    with caplog.at_level(logging.WARNING):
        assert await switch.follow("testnet") is None
        await switch.follow("paper")
        await switch.follow("live")
    warned = [r for r in caplog.records if "no egress proxy" in r.getMessage()]
    assert len(warned) == 1
    assert switch.running is None


def test_the_default_is_tinyproxy_bound_to_the_bots_address(tmp_path: Path) -> None:
    from plutarc_bots.egress import Egress

    made = default_egress("127.0.0.9", tmp_path)()
    assert isinstance(made, Egress) and made.settings.bind == "127.0.0.9"


async def test_a_proxy_that_fails_to_start_is_said_and_tried_again_on_the_next_mode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts: list[int] = []

    @asynccontextmanager
    async def broken() -> AsyncIterator[Proxy]:
        attempts.append(1)
        raise OSError("tinyproxy is not installed")
        yield Proxy()

    switch = EgressSwitch(broken)
    with caplog.at_level(logging.ERROR):
        assert await switch.follow("testnet") is None
        assert await switch.follow("testnet") is None  # not again while the mode stands
        await switch.follow("paper")
        await switch.follow("live")
    assert len(attempts) == 2
    assert sum("did not start" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:8888",
        "https://10.0.0.7:8888",
        "http://10.0.0.7",
        "http://:8888",
        "http://10.0.0.7:99999",
        "http://user:pw@10.0.0.7:8888",
        "http://10.0.0.7:8888/path",
        "http://10.0.0.7:8888?q=1",
    ],
)
def test_a_host_proxy_url_other_than_http_host_port_is_refused(url: str) -> None:
    with pytest.raises(InvalidEgressUrl) as refused:
        host_egress(url)
    assert refused.value.code == "bot_runtime.invalid_egress_url"
    assert check_egress_url("http://10.0.0.7:8888/") == "http://10.0.0.7:8888"


async def test_the_hosts_own_proxy_is_announced_once_it_accepts_connections() -> None:
    accepted: list[bool] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(True)
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        switch = EgressSwitch(host_egress(f"http://127.0.0.1:{port}"), address="10.0.0.7")
        assert await switch.follow("live") == "attached"
        assert switch.url == f"http://127.0.0.1:{port}"
        await until(lambda: accepted == [True], what="the switch's connection")
        assert await switch.follow("paper") == "detached"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_host_proxy_that_never_answers_is_said_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as held:  # a port nobody listens on while the test runs
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        with pytest.raises(EgressUnreachable, match=f"127.0.0.1:{port}"):
            async with HostEgress(f"http://127.0.0.1:{port}", wait_seconds=0.5):
                pass
        switch = EgressSwitch(host_egress(f"http://127.0.0.1:{port}", wait_seconds=0.5))
        with caplog.at_level(logging.ERROR):
            assert await switch.follow("testnet") is None
    assert switch.running is None
    assert any("did not start" in r.getMessage() for r in caplog.records)
