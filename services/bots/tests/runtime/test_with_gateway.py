"""The runtime's commands through the real exchange gateway (its handlers, the paper engine), and
the gateway's order events back into the runtime: what each side must provide the other."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_access.workspaces import Workspaces
from plutarc_bots.runtime import Outgoing, actor_of
from plutarc_contracts import CommandAccepted, CommandRejected
from plutarc_contracts.market import BookUpdate, MarketBatch
from plutarc_exchange.bootstrap import build
from plutarc_exchange.paper import MarketRules
from plutarc_exchange.paper_desk import PaperDesk
from plutarc_exchange.settings import ExchangeSettings
from plutarc_exchange.views import Bots
from plutarc_runtime.clock import FakeClock
from plutarc_testkit.harness import Harness
from plutarc_testkit.identity_events import workspace_events

from .helpers import CLOSES, HOUR, START, T0, Run, envelope, orders, sessions

RULES = MarketRules(
    base="BTC",
    quote="USDT",
    price_tick=Decimal("0.01"),
    amount_step=Decimal("0.001"),
    min_amount=Decimal("0.001"),
    min_notional=Decimal("5"),
    maker_fee=Decimal("0"),
    taker_fee=Decimal("0"),
)


class Linked(Run):
    """A runtime's decider whose commands go to the gateway as the bot, and whose order events
    come back from it, on one simulated clock."""

    def __init__(self, gateway: Harness, follow: Bots, desk: PaperDesk, **config: Any) -> None:
        self.gateway, self.follow, self.desk = gateway, follow, desk
        self.stream = 0
        self.read = 0
        self.replies: list[CommandAccepted | CommandRejected] = []
        super().__init__(clock=gateway.clock, **config)

    def bots(self, payload: Any, at: datetime) -> list[Outgoing]:
        self.stream += 1
        env = envelope(payload, at, stream=self.bot)
        self.follow.apply(
            msgspec.structs.replace(env, stream_position=self.stream)
        )  # the gateway follows the bot's versions and desired state
        out = super().bots(payload, at)
        self.route(out)
        return out

    def candles(self, closes: list[float], first: int = 0) -> list[Outgoing]:
        out: list[Outgoing] = []
        for i in range(first, len(closes)):
            self.book(closes[i])
            decided = super().candles(closes[: i + 1], first=i)
            self.route(decided)
            out += decided
        return out

    def advance(self, to: datetime) -> list[Outgoing]:
        out = super().advance(to)
        self.route(out)
        return out

    def book(self, close: float) -> None:
        """A deep book one tick either side of the close."""
        bid, ask = Decimal(str(close)) - Decimal("0.01"), Decimal(str(close)) + Decimal("0.01")
        self.desk.on_batch(
            MarketBatch(
                venue="binance",
                symbol="BTC/USDT",
                source="simulator",
                books=[
                    BookUpdate(
                        sequence=1,
                        at=self.clock.now(),
                        snapshot=True,
                        bids=[(str(bid), "100000")],
                        asks=[(str(ask), "100000")],
                    )
                ],
            )
        )

    def route(self, out: list[Outgoing]) -> None:
        for o in out:
            reply = self.gateway.send(actor_of(self.bot), o.payload, command_id=o.command_id)
            self.replies.append(reply)
            self.back()

    def back(self) -> None:
        """The gateway's new events of this bot, into the runtime."""
        events = self.gateway.events("exchange.")
        for env in events[self.read :]:
            if getattr(env.payload, "bot_id", None) == self.bot:
                self.decider.order_event(env)
        self.read = len(events)


@pytest.fixture
def linked(tmp_path: Path, policy: RegoEngine) -> Iterator[Any]:
    made: list[Harness] = []

    def make(**config: Any) -> Linked:
        memberships, workspaces, follow = Memberships(policy), Workspaces(), Bots()
        ws = str(uuid4())
        for env in workspace_events(ws, {"alice": "owner"}):
            memberships.apply(env)
            workspaces.apply(env)
        desk = PaperDesk(lambda venue, symbol: RULES)
        clock = FakeClock(START)
        spec = build(
            ExchangeSettings(data_dir=tmp_path / f"data-{len(made)}"),
            clock=clock,
            memberships=memberships,
            workspaces=workspaces,
            bots=follow,
            paper=desk,
        )
        gateway = Harness(spec, sqlite_path=tmp_path / f"x-{len(made)}.sqlite", clock=clock)
        made.append(gateway)
        return Linked(gateway, follow, desk, ws=ws, **config)

    yield make
    for gateway in made:
        gateway.close()


def accepted(run: Linked) -> list[dict[str, Any]]:
    assert all(isinstance(r, CommandAccepted) for r in run.replies), run.replies
    return [r.result for r in run.replies if isinstance(r, CommandAccepted)]


def test_the_gateway_takes_the_bots_orders_and_its_fills_drive_the_strategy(linked: Any) -> None:
    run: Linked = linked()
    run.start()
    out = run.candles(CLOSES)
    assert orders(out) == [("market", "buy", "500"), ("market", "sell", "500")]
    assert [r["status"] for r in accepted(run)] == ["filled", "filled"]
    assert [r["order_id"] for r in accepted(run)] == [o.command_id for o in out]
    assert run.decider.position == 0
    assert run.decider.strategy is not None
    assert run.decider.strategy.book.position() == 0
    assert run.decider.strategy.book.cash == Decimal(10_990)  # 500 bought at 10.01, sold at 11.99
    # the same command again (a second runtime, a resend): one order at the gateway
    again = run.gateway.send(actor_of(run.bot), out[0].payload, command_id=out[0].command_id)
    assert isinstance(again, CommandAccepted)
    placed = [e for e in run.gateway.events("exchange.order_accepted")]
    assert [e.payload.order_id for e in placed] == [o.command_id for o in out]


def test_another_bots_identity_is_refused(linked: Any) -> None:
    run: Linked = linked()
    run.start()
    (buy,) = run.candles(CLOSES[:7])
    intruder = run.gateway.send(actor_of(str(uuid4())), buy.payload, command_id=str(uuid4()))
    assert isinstance(intruder, CommandRejected)
    assert intruder.code == "exchange.not_this_bot"


def test_a_flatten_at_the_window_end_leaves_the_bot_flat_at_the_gateway(linked: Any) -> None:
    run: Linked = linked(sessions=sessions("00:00", "08:00", "flatten"))
    run.start()
    run.candles(CLOSES[:7])
    assert run.decider.position == Decimal(500)
    run.book(CLOSES[6])
    out = run.advance(T0 + 8 * HOUR + timedelta(seconds=1))
    assert orders(out) == [("cancel_all", "", ""), ("market reduce_only", "sell", "500")]
    assert [r.get("status") for r in accepted(run)][-1] == "filled"
    assert run.decider.position == 0
