"""A bot, its strategy and candles as the runtime reads them, on simulated time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from plutarc_bots.runtime import Decider, Outgoing
from plutarc_contracts import Envelope, new_event_id
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts import market as m
from plutarc_runtime.clock import FakeClock

T0 = datetime(2026, 1, 5, tzinfo=UTC)
"""A Monday, 00:00 UTC."""
HOUR = timedelta(hours=1)
RSI = b.ComponentRef(component="rsi_reversion", params={"period": 3, "low": 30, "high": 70})
HALF = b.ComponentRef(component="fixed_fraction", params={"fraction": 0.5, "min_notional": 1})
SPEC = b.StrategySpec(timeframe="1h", components=[RSI, HALF])
CLOSES = [10, 11, 12, 13, 14, 12, 10, 8, 7, 8, 10, 12, 14, 16]
"""RSI 3 is under 30 at candles 6 to 8 (a buy at the close of candle 6, 07:00) and over 70 from
candle 11 (a sell at its close, 12:00)."""
BUY_CLOSE, SELL_CLOSE = T0 + 7 * HOUR, T0 + 12 * HOUR
START = T0 - timedelta(days=1)
"""Where a run's clock starts."""
KEY = "binance:BTC/USDT"


def envelope(payload: Any, at: datetime, *, stream: str, correlation_id: str = "") -> Envelope:
    return Envelope(
        event_id=new_event_id(),
        type="test",
        schema_version=1,
        occurred_at=at,
        producer="test",
        stream_id=stream,
        stream_position=1,
        workspace_id=getattr(payload, "workspace_id", None),
        actor="system:test",
        correlation_id=correlation_id or new_event_id(),
        causation_id=None,
        payload=payload,
    )


def candle(i: int, close: float) -> m.Candle:
    return m.Candle(
        width="1h",
        opens_at=T0 + i * HOUR,
        open=str(close),
        high=str(close),
        low=str(close),
        close=str(close),
        volume="1",
        trades=1,
    )


def sessions(start: str, end: str, end_rule: b.EndRule) -> b.TradingSessions:
    return b.TradingSessions(
        always_on=False,
        windows=[b.SessionWindow(days=["mon"], start=start, end=end)],
        end_rule=end_rule,
    )


class Run:
    """A decider for one bot with its strategy published, fed on a fake clock that stands at
    each input's instant; every command it sends lands in ``sent``."""

    def __init__(
        self, *, ws: str | None = None, clock: FakeClock | None = None, **config: Any
    ) -> None:
        self.ws, self.bot, self.strategy_id = ws or str(uuid4()), str(uuid4()), str(uuid4())
        self.clock = clock or FakeClock(START)
        self.decider = Decider(self.bot, clock=self.clock)
        self.sent: list[Outgoing] = []
        self.version = 0
        self.publish(SPEC)
        self.config = self.make_config(**config)
        self._versioned(b.BotCreated, T0 - HOUR, config=self.config, mode="paper")

    def make_config(self, version: int = 1, **fields: Any) -> b.BotConfig:
        values: dict[str, Any] = {
            "name": "rsi",
            "strategy": b.PinnedStrategy(strategy_id=self.strategy_id, version=version),
            "market": b.MarketRef(venue="binance", symbol="BTC/USDT"),
            **fields,
        }
        return b.BotConfig(**values)

    def at(self, when: datetime) -> None:
        if when > self.clock.now():
            self.clock.set(when)

    def bots(self, payload: Any, at: datetime) -> list[Outgoing]:
        self.at(at)
        out = self.decider.bot_event(envelope(payload, at, stream=self.bot))
        self.sent += out
        return out

    def publish(self, spec: b.StrategySpec, version: int = 1) -> None:
        if version == 1:
            payload: Any = b.StrategyCreated(
                workspace_id=self.ws,
                strategy_id=self.strategy_id,
                name="rsi",
                spec=spec,
                created_by="user:a",
            )
        else:
            payload = b.StrategyVersionPublished(
                workspace_id=self.ws,
                strategy_id=self.strategy_id,
                version=version,
                spec=spec,
                published_by="user:a",
            )
        self.decider.bot_event(envelope(payload, T0 - 2 * HOUR, stream=self.strategy_id))

    def _versioned(self, cls: Any, at: datetime, **fields: Any) -> list[Outgoing]:
        self.version += 1
        extra = {"changed": ["strategy"]} if cls is b.BotReconfigured else {}
        if cls is b.BotModeChanged:
            extra = {"previous_mode": self.decider.mode}
        payload = cls(
            workspace_id=self.ws, bot_id=self.bot, version=self.version, **fields, **extra
        )
        return self.bots(payload, at)

    def reconfigure(self, config: b.BotConfig, at: datetime) -> list[Outgoing]:
        self.config = config
        return self._versioned(b.BotReconfigured, at, config=config, mode=self.decider.mode)

    def mode(self, mode: b.Mode, at: datetime) -> list[Outgoing]:
        return self._versioned(b.BotModeChanged, at, config=self.config, mode=mode)

    def start(self, at: datetime = T0) -> list[Outgoing]:
        return self.bots(b.BotStarted(workspace_id=self.ws, bot_id=self.bot, version=1), at)

    def stop(self, at: datetime) -> list[Outgoing]:
        return self.bots(b.BotStopped(workspace_id=self.ws, bot_id=self.bot, version=1), at)

    def candles(self, closes: list[float], first: int = 0) -> list[Outgoing]:
        out: list[Outgoing] = []
        for i, close in enumerate(closes[first:], start=first):
            self.at(T0 + (i + 1) * HOUR)
            out += self.decider.candle(KEY, candle(i, close))
        self.sent += out
        return out

    def advance(self, to: datetime) -> list[Outgoing]:
        self.at(to)
        out = self.decider.advance(to)
        self.sent += out
        return out

    def order(self, payload: Any, at: datetime, correlation_id: str = "") -> list[Outgoing]:
        self.at(at)
        env = envelope(payload, at, stream=self.bot, correlation_id=correlation_id)
        out = self.decider.order_event(env)
        self.sent += out
        return out

    def fill(self, outgoing: Outgoing, price: str, at: datetime, position: str) -> None:
        """The gateway accepted ``outgoing`` (an order of the bot) and filled it in full."""
        order = outgoing.payload
        assert isinstance(order, x.PlaceOrder)
        order_id = new_event_id()
        common = {"workspace_id": self.ws, "bot_id": self.bot, "order_id": order_id}
        accepted = x.OrderAccepted(
            **common,
            client_order_id="pl" + order_id.replace("-", ""),
            mode="paper",
            venue="binance",
            symbol="BTC/USDT",
            side=order.side,
            type=order.type,
            quantity=order.quantity,
        )
        self.order(accepted, at, correlation_id=outgoing.command_id)
        fill = x.Fill(
            fill_id=new_event_id(),
            quantity=order.quantity,
            price=price,
            fee="0",
            fee_currency="USDT",
            liquidity="taker",
            at=at,
        )
        self.order(x.OrderFilled(**common, fill=fill, remaining="0", status="filled"), at)
        self.position(position, at)

    def position(self, quantity: str, at: datetime) -> None:
        self.order(
            x.PositionChanged(
                workspace_id=self.ws,
                bot_id=self.bot,
                mode=self.decider.mode or "paper",
                symbol="BTC/USDT",
                quantity=quantity,
                average_price="0",
                realised_pnl="0",
                fees_paid="0",
                balances=[],
            ),
            at,
        )

    def halt(self, at: datetime, until: datetime) -> None:
        self.order(
            x.EntriesHalted(
                workspace_id=self.ws,
                bot_id=self.bot,
                mode=self.decider.mode or "paper",
                limit="daily_loss_limit",
                loss="300",
                threshold="250",
                until=until,
            ),
            at,
        )


def orders(out: list[Outgoing]) -> list[tuple[str, str, str]]:
    """(type, side, quantity) of each command; cancels as ("cancel_all", "", "")."""
    rows = []
    for o in out:
        p = o.payload
        if isinstance(p, x.PlaceOrder):
            rows.append((p.type + (" reduce_only" if p.reduce_only else ""), p.side, p.quantity))
        else:
            rows.append(("cancel_all", "", ""))
    return rows
