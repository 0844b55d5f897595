"""The fleet turns other contexts' events into the scheduler's inputs: only the hosted workspaces'
bots, and only the exposure of a bot's current mode keeps its host up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import msgspec
from plutarc_compute.views import Fleet
from plutarc_contracts import Envelope, default_registry
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x

T = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
BOT = str(uuid4())


def env(payload: msgspec.Struct, ws: str) -> Envelope:
    name, version = default_registry().type_name_of(type(payload))
    return Envelope(
        event_id=str(uuid4()),
        type=name,
        schema_version=version,
        occurred_at=T - timedelta(hours=1),
        producer=name.split(".")[0],
        stream_id=BOT,
        stream_position=1,
        workspace_id=ws,
        actor="system:test",
        correlation_id=str(uuid4()),
        causation_id=None,
        payload=payload,
    )


def window(ws: str) -> Envelope:
    return env(
        b.TradingWindowScheduled(
            workspace_id=ws,
            bot_id=BOT,
            version=1,
            starts_at=T,
            ends_at=T + timedelta(hours=1),
            end_rule="flatten",
            time_zone="UTC",
        ),
        ws,
    )


def test_only_the_hosted_workspaces_bots_are_followed() -> None:
    fleet = Fleet("memory", workspaces=frozenset({"ws-a"}))
    assert not fleet.bots_follower().apply(window("ws-b"))
    assert fleet.decide(T) == []
    assert fleet.bots_follower().apply(window("ws-a"))
    assert [type(p).__name__ for p in fleet.decide(T - timedelta(hours=1))] == ["PlanWindow"]


def position(mode: str, qty: str) -> Envelope:
    p: Any = x.PositionChanged(
        workspace_id="ws-a",
        bot_id=BOT,
        mode=mode,  # type: ignore[arg-type]
        symbol="BTC/USDT",
        quantity=qty,
        average_price="1",
        realised_pnl="0",
        fees_paid="0",
        balances=[],
    )
    return env(p, "ws-a")


def mode_changed(mode: str, version: int) -> Envelope:
    config = b.BotConfig(
        name="grid",
        strategy=b.PinnedStrategy(strategy_id=str(uuid4()), version=1),
        market=b.MarketRef(venue="binance", symbol="BTC/USDT"),
    )
    p: Any = b.BotModeChanged(
        workspace_id="ws-a",
        bot_id=BOT,
        version=version,
        config=config,
        previous_mode="paper" if mode != "paper" else "testnet",
        mode=mode,  # type: ignore[arg-type]
    )
    return env(p, "ws-a")


def test_only_the_current_modes_position_counts() -> None:
    fleet = Fleet("memory")
    s = fleet.scheduler
    fleet.bots_follower().apply(mode_changed("testnet", 2))
    fleet.orders_follower().apply(position("paper", "3"))
    fleet.orders_follower().apply(position("testnet", "0"))
    assert not any(s._bots[BOT].positions.values()), "a paper position does not hold a testnet host"
    fleet.bots_follower().apply(mode_changed("paper", 3))
    assert dict(s._bots[BOT].positions) == {("paper", "BTC/USDT"): 3}
