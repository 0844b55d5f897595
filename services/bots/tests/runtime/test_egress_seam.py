"""The egress proxy runs beside the runtime while the bot trades on a venue."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from plutarc_bots.runtime import EgressSwitch, default_egress


async def test_the_proxy_runs_while_the_mode_is_testnet_or_live() -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def egress() -> AsyncIterator[str]:
        seen.append("up")
        yield "proxy"
        seen.append("down")

    switch = EgressSwitch(egress)
    await switch("paper")
    assert seen == []
    await switch("testnet")
    await switch("live")  # still the same proxy
    assert (seen, switch.running) == (["up"], "proxy")
    await switch("paper")
    assert (seen, switch.running) == (["up", "down"], None)
    await switch("live")
    await switch.aclose()
    assert seen == ["up", "down", "up", "down"]


async def test_without_an_egress_module_it_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    switch = EgressSwitch(None)
    with caplog.at_level(logging.WARNING):
        await switch("testnet")
        await switch("paper")
        await switch("live")
    warned = [r for r in caplog.records if "no egress proxy" in r.getMessage()]
    assert len(warned) == 1
    assert switch.running is None


def test_the_default_is_the_egress_module_where_it_is_installed() -> None:
    try:
        import plutarc_bots.egress  # noqa: F401
    except ImportError:
        assert default_egress(object()) is None
    else:
        assert default_egress(object()) is not None
