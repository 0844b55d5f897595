"""The egress proxy runs beside the runtime while the bot trades on a venue."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from plutarc_bots.runtime import EgressSwitch, default_egress


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


def test_the_default_is_the_egress_module_where_it_is_installed(tmp_path: Path) -> None:
    try:
        import plutarc_bots.egress  # noqa: F401
    except ImportError:
        assert default_egress("127.0.0.1", tmp_path) is None
    else:
        assert default_egress("127.0.0.1", tmp_path) is not None


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
