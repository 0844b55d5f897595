"""A bot's world on the real topics, written by the test: its events, candles of a market of its
own, and a stand-in for the exchange gateway that fills each order at the last close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaProducer
from plutarc_bots.runtime import BotRuntime, RuntimeSettings
from plutarc_bots.runtime.feed import COMMANDS, topic_partitions
from plutarc_contracts import CommandEnvelope, Envelope, default_registry, new_event_id
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts import market as m
from plutarc_runtime.bus import log_reader, make_producer
from plutarc_runtime.clock import FakeClock
from plutarc_testkit.waiting import until

from .helpers import HALF, RSI

T0 = datetime(2026, 6, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SPEC = b.StrategySpec(timeframe="1m", components=[RSI, HALF])
SERIES = [10, 11, 12, 13, 14, 12, 10, 8, 7, 8, 10, 12, 14, 16, 15, 13, 11, 9, 8, 9, 11, 13, 15]
SERIES += [17, 16, 14, 12, 10, 9, 10, 12, 14, 16]
"""RSI 3 over 1-minute closes: a buy at candles 6, 16, 26 and a sell at 11, 21, 31."""


def open_ms(i: int) -> int:
    return int((T0 + i * MINUTE).timestamp()) * 1000


class World:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.registry = default_registry()
        self.ws, self.bot, self.strategy_id = str(uuid4()), str(uuid4()), str(uuid4())
        self.symbol = f"T{uuid4().hex[:12].upper()}/USDT"  # a market no other test publishes
        self.key = m.market_key("binance", self.symbol)
        self.clock = FakeClock(T0)
        self.producer: AIOKafkaProducer = make_producer(bootstrap, client_id="runtime-test")
        self.commands = log_reader(bootstrap, "runtime-test-commands")
        self.seen: list[CommandEnvelope] = []
        self.position = 0
        self.positions = 0

    async def start(self) -> None:
        await self.producer.start()
        await self.commands.start()
        partitions = await topic_partitions(self.commands, COMMANDS)
        self.commands.assign(partitions)
        await self.commands.seek_to_beginning(*partitions)

    async def close(self) -> None:
        await self.producer.stop()
        await self.commands.stop()

    def runtime(self) -> BotRuntime:
        # Nothing here is stale: what keeps a restart from sending twice is what it reads back.
        settings = RuntimeSettings(
            kafka_bootstrap=self.bootstrap,
            bot_runtime_poll_seconds=0.05,
            bot_runtime_stale_after_seconds=3600,
        )
        return BotRuntime(settings, self.bot, clock=self.clock)

    # --- what the test publishes -------------------------------------------------------------
    async def event(
        self,
        payload: Any,
        stream: str,
        at: datetime,
        topic: str = "bots.events.v1",
        correlation_id: str | None = None,
    ) -> None:
        name, version = self.registry.type_name_of(type(payload))
        env = Envelope(
            event_id=new_event_id(),
            type=name,
            schema_version=version,
            occurred_at=at,
            producer="test",
            stream_id=stream,
            stream_position=1,
            workspace_id=self.ws,
            actor="system:test",
            correlation_id=correlation_id or new_event_id(),
            causation_id=None,
            payload=payload,
        )
        await self.producer.send_and_wait(
            topic,
            self.registry.encode_event(env),
            key=stream.encode(),
            headers=[("type", name.encode())],
        )

    async def bot_running(self) -> None:
        await self.event(
            b.StrategyCreated(
                workspace_id=self.ws,
                strategy_id=self.strategy_id,
                name="rsi",
                spec=SPEC,
                created_by="user:a",
            ),
            self.strategy_id,
            T0 - 3 * MINUTE,
        )
        self.config = config = b.BotConfig(
            name="rsi",
            strategy=b.PinnedStrategy(strategy_id=self.strategy_id, version=1),
            market=b.MarketRef(venue="binance", symbol=self.symbol),
            sessions=b.TradingSessions(end_rule="flatten"),
        )
        bot = {"workspace_id": self.ws, "bot_id": self.bot, "version": 1}
        await self.event(b.BotCreated(**bot, config=config, mode="paper"), self.bot, T0 - MINUTE)
        await self.event(b.BotStarted(**bot), self.bot, T0)

    async def stopped(self) -> None:
        at = self.clock.now()
        payload = b.BotStopped(workspace_id=self.ws, bot_id=self.bot, version=1)
        await self.event(payload, self.bot, at)

    async def candle(self, i: int) -> None:
        """Candle ``i``, published one second after it closed (the clock says so)."""
        self.clock.set(T0 + (i + 1) * MINUTE + timedelta(seconds=1))
        close = str(SERIES[i])
        candle = m.Candle(
            width="1m",
            opens_at=T0 + i * MINUTE,
            open=close,
            high=close,
            low=close,
            close=close,
            volume="1",
            trades=1,
        )
        batch = m.MarketBatch(
            venue="binance", symbol=self.symbol, source="simulator", candles=[candle]
        )
        await self.producer.send_and_wait(m.CANDLES_TOPIC, m.encode_batch(batch), key=self.key)

    # --- the gateway's part ----------------------------------------------------------------------
    async def read_commands(self) -> list[CommandEnvelope]:
        batch = await self.commands.getmany(timeout_ms=100)
        for records in batch.values():
            for record in records:
                if record.key == self.bot.encode():
                    self.seen.append(self.registry.decode_command(record.value))
        return self.seen

    def place_orders(self) -> list[CommandEnvelope]:
        return [c for c in self.seen if isinstance(c.payload, x.PlaceOrder)]

    async def fill(self, command: CommandEnvelope, price: str) -> None:
        """Accept and fill ``command`` at ``price``, and publish the position after it."""
        order = command.payload
        assert isinstance(order, x.PlaceOrder)
        at = self.clock.now()
        order_id = new_event_id()
        common = {"workspace_id": self.ws, "bot_id": self.bot, "order_id": order_id}
        await self.event(
            x.OrderAccepted(
                **common,
                client_order_id="pl" + order_id.replace("-", ""),
                mode="paper",
                venue="binance",
                symbol=self.symbol,
                side=order.side,
                type=order.type,
                quantity=order.quantity,
            ),
            self.bot,
            at,
            topic=x.ORDERS_TOPIC,
            correlation_id=command.correlation_id,
        )
        fill = x.Fill(
            fill_id=new_event_id(),
            quantity=order.quantity,
            price=price,
            fee="0",
            fee_currency="USDT",
            liquidity="taker",
            at=at,
        )
        filled = x.OrderFilled(**common, fill=fill, remaining="0", status="filled")
        await self.event(filled, self.bot, at, topic=x.ORDERS_TOPIC)
        self.position += int(order.quantity) * (1 if order.side == "buy" else -1)
        self.positions += 1
        position = x.PositionChanged(
            workspace_id=self.ws,
            bot_id=self.bot,
            mode="paper",
            symbol=self.symbol,
            quantity=str(self.position),
            average_price="0",
            realised_pnl="0",
            fees_paid="0",
            balances=[],
        )
        await self.event(position, self.bot, at, topic=x.ORDERS_TOPIC)

    async def answer(self, runtime: BotRuntime, i: int, expected: int) -> None:
        """After candle ``i``: wait until the runtime read it; fill what it ordered (``expected``
        place_order commands in all by then) and wait until it knows its new position."""
        await until(lambda: runtime.decider.last_candle == open_ms(i), what=f"candle {i} read")

        async def arrived() -> bool:
            return len([c for c in await self.read_commands() if _places(c)]) >= expected

        await until(arrived, what=f"{expected} place_order commands")
        for command in self.place_orders()[self.positions :]:
            await self.fill(command, str(SERIES[i]))
            await until(partial(_holds, runtime, self.position), what="the position applied")


def _holds(runtime: BotRuntime, position: int) -> bool:
    return runtime.decider.position == position


def _places(command: CommandEnvelope) -> bool:
    return isinstance(command.payload, x.PlaceOrder)
