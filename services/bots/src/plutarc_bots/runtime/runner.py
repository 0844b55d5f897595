"""The bot runtime's I/O: Kafka in, the decider, commands out to the exchange gateway.

At start it reads, from the beginning up to their end: the bots topic (the bot's versions, its
starts and stops, the strategy versions), the candles of the markets the bot has traded, the bot's
orders, fills and positions, and its own commands already on ``exchange.commands.v1`` (those are
never sent again). It replays them into a `Decider` in time order, sends what the replay decided
and had not sent, then follows the same topics live until the bot is stopped or deleted.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError
from plutarc_contracts import CommandEnvelope, Registry, default_registry, default_topics
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts import market as m
from plutarc_runtime.bus import ensure_topics, log_reader, make_producer
from plutarc_runtime.clock import Clock, SystemClock
from pydantic import Field

from ..settings import BotsSettings
from .decider import Decider, Outgoing
from .egress_seam import EgressSwitch
from .errors import BotNotFound, BotNotRunning, InvalidBotId, KafkaUnreachable
from .feed import (
    BOTS_EVENTS,
    CANDLES,
    COMMANDS,
    ORDERS,
    Item,
    candle_items,
    decode_candles,
    decode_event,
    is_bot_record,
    read_to_end,
    replay_order,
    topic_partitions,
)
from .ids import actor_of, own_command_id

log = logging.getLogger(__name__)


class RuntimeSettings(BotsSettings):
    bot_runtime_stale_after_seconds: float = Field(
        default=120,
        gt=0,
        description="A decision older than this that was never sent (the runtime was down) is "
        "dropped rather than sent late",
    )
    bot_runtime_poll_seconds: float = Field(
        default=0.2, gt=0, le=5, description="How often time is looked at with nothing arriving"
    )
    bot_egress_connect_ports: str = Field(
        default="443",
        pattern=r"^\d{1,5}(,\d{1,5})*$",
        description="Ports the bot's egress proxy opens tunnels to, comma-separated (venues "
        "listen on 443; a testnet or a local fake may not)",
    )

    def egress_connect_ports(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.bot_egress_connect_ports.split(","))


class Outcome(StrEnum):
    stopped = "stopped"
    deleted = "deleted"
    interrupted = "interrupted"


def check_bot_id(bot_id: str) -> str:
    """Bots are named by UUIDs (bots.invalid_id otherwise)."""
    try:
        return str(uuid.UUID(bot_id))
    except (ValueError, AttributeError, TypeError):
        raise InvalidBotId(f"{bot_id!r} is not a bot id (a UUID)") from None


class BotRuntime:
    """One bot's runtime. `run` returns when the bot is stopped or deleted, or when ``stop`` is
    set. With ``egress``, the bot's egress proxy follows its mode from the end of the catch-up
    (running in testnet and live), and the gateway hears where it is."""

    def __init__(
        self,
        settings: RuntimeSettings,
        bot_id: str,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
        egress: EgressSwitch | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_ready = on_ready
        """Called once the catch-up is done and the egress follows the bot's mode."""
        self.bot_id = check_bot_id(bot_id)
        self.clock = clock or SystemClock()
        self.registry = registry or default_registry()
        self.egress = egress
        self.decider = Decider(
            self.bot_id,
            clock=self.clock,
            stale_after=timedelta(seconds=settings.bot_runtime_stale_after_seconds),
        )
        self.sent = 0
        """Commands this process sent."""
        self._key = self.bot_id.encode()
        self._producer: AIOKafkaProducer | None = None
        self._mode: b.Mode | None = None
        self._positions: dict[TopicPartition, int] = {}

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap

    async def run(self, stop: asyncio.Event | None = None) -> Outcome:
        stop = stop or asyncio.Event()
        self._producer = make_producer(self.bootstrap, client_id=f"bot-runtime-{self.bot_id}")
        try:
            await self._producer.start()
        except KafkaConnectionError as exc:
            await self._producer.stop()
            raise KafkaUnreachable(f"cannot reach Kafka at {self.bootstrap}: {exc}") from None
        try:
            await ensure_topics(
                self.bootstrap,
                [t for t in default_topics() if t.name in (BOTS_EVENTS, CANDLES, ORDERS, COMMANDS)],
            )
            await self._catch_up()
            if not self.decider.running:
                what = "deleted" if self.decider.deleted else "stopped"
                raise BotNotRunning(f"bot {self.bot_id} is {what}: nothing to run")
            await self._mode_seen()
            if self.on_ready is not None:
                self.on_ready()
            return await self._follow(stop)
        finally:
            try:
                if self.egress is not None and await self.egress.aclose():
                    await self._send([self._egress_command(detach=True)])
            finally:
                await self._producer.stop()

    # --- the catch-up ----------------------------------------------------------------------------
    async def _catch_up(self) -> None:
        d, registry, key = self.decider, self.registry, self._key
        records, ends = await read_to_end(
            self.bootstrap,
            BOTS_EVENTS,
            lambda r: is_bot_record(r, key),
            client_id=f"bot-runtime-{self.bot_id}",
        )
        self._positions.update(ends)
        events = [e for e in (decode_event(registry, r) for r in records) if e is not None]
        markets = {
            f"{e.payload.config.market.venue}:{e.payload.config.market.symbol}"
            for e in events
            if isinstance(e.payload, b.VERSIONED) and e.payload.bot_id == self.bot_id
        }
        if not markets:
            raise BotNotFound(f"no bot {self.bot_id} on {BOTS_EVENTS} at {self.bootstrap}")
        wanted = {k.encode() for k in markets}
        candle_records, ends = await read_to_end(
            self.bootstrap, CANDLES, lambda r: r.key in wanted, client_id="bot-runtime-candles"
        )
        self._positions.update(ends)
        order_records, ends = await read_to_end(
            self.bootstrap, ORDERS, lambda r: r.key == key, client_id="bot-runtime-orders"
        )
        self._positions.update(ends)
        command_records, _ = await read_to_end(
            self.bootstrap, COMMANDS, lambda r: r.key == key, client_id="bot-runtime-commands"
        )
        for record in command_records:
            with_id = _command_id(registry, record.value)
            if with_id is not None:
                d.sent.add(with_id)
        items = [Item(e.occurred_at, "bot", event=e) for e in events]
        for record in order_records:
            env = decode_event(registry, record)
            if env is not None:
                items.append(Item(env.occurred_at, "order", event=env))
        for record in candle_records:
            batch = decode_candles(record)
            if batch is not None:
                items.extend(candle_items(record.key.decode(), batch))
        out: list[Outgoing] = []
        for item in replay_order(items):
            out += self._apply(item)
        out += d.advance(self.clock.now())
        await self._send(out)
        log.info(
            "caught up",
            extra={
                "bot_id": self.bot_id,
                "events": len(events),
                "candles": len(candle_records),
                "orders": len(order_records),
                "already_sent": len(command_records),
                "sent": len(out),
                "stale": d.stale,
                "held_back": d.held_back,
            },
        )

    def _apply(self, item: Item) -> list[Outgoing]:
        d = self.decider
        if item.kind == "candle":
            assert item.candle is not None
            return d.candle(item.key, item.candle)
        assert item.event is not None
        if item.kind == "bot":
            return d.bot_event(item.event)
        return d.order_event(item.event)

    # --- live ------------------------------------------------------------------------------------
    async def _follow(self, stop: asyncio.Event) -> Outcome:
        d = self.decider
        consumer = log_reader(self.bootstrap, f"bot-runtime-{self.bot_id}")
        await consumer.start()
        try:
            partitions = [
                tp
                for topic in (BOTS_EVENTS, CANDLES, ORDERS)
                for tp in await topic_partitions(consumer, topic)
            ]
            consumer.assign(partitions)
            for tp in partitions:
                consumer.seek(tp, self._positions.get(tp, 0))
            poll = int(self.settings.bot_runtime_poll_seconds * 1000)
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=poll, max_records=2_000)
                for tp, records in batch.items():
                    for record in records:
                        await self._send(await self._live(tp.topic, record))
                        if not d.running:
                            return Outcome.deleted if d.deleted else Outcome.stopped
                await self._send(d.advance(self.clock.now()))
                await self._mode_seen()
            return Outcome.interrupted
        finally:
            await consumer.stop()

    async def _live(self, topic: str, record: Any) -> list[Outgoing]:
        d = self.decider
        if topic == CANDLES:
            if record.key is None or record.key.decode() not in d.markets:
                return []
            batch = decode_candles(record)
            out: list[Outgoing] = []
            for item in candle_items(record.key.decode(), batch) if batch else ():
                out += self._apply(item)
            return out
        if topic == ORDERS and record.key != self._key:
            return []
        if topic == BOTS_EVENTS and not is_bot_record(record, self._key):
            return []
        env = decode_event(self.registry, record)
        if env is None:
            return []
        if topic == ORDERS:
            return d.order_event(env)
        before = d.markets
        out = d.bot_event(env)
        for key in d.markets - before:
            await self._load_history(key, until=env.occurred_at)
        return out

    async def _load_history(self, key: str, until: datetime) -> None:
        """The candles of a market the bot moved to, closed by ``until``, from the beginning."""
        wanted = key.encode()
        records, _ = await read_to_end(
            self.bootstrap, CANDLES, lambda r: r.key == wanted, client_id="bot-runtime-history"
        )
        for record in records:
            batch = decode_candles(record)
            if batch is not None:
                self.decider.add_history(
                    key,
                    (
                        c
                        for c in batch.candles
                        if c.opens_at + timedelta(seconds=m.CANDLE_SECONDS[c.width]) <= until
                    ),
                )

    async def _mode_seen(self) -> None:
        mode = self.decider.mode
        if mode != self._mode:
            self._mode = mode
            log.info("mode", extra={"bot_id": self.bot_id, "mode": mode})
            change = None if self.egress is None else await self.egress.follow(mode)
            if change is not None:
                await self._send([self._egress_command(detach=change == "detached")])

    def _egress_command(self, *, detach: bool) -> Outgoing:
        d, now = self.decider, self.clock.now()
        ids = {"workspace_id": d.workspace_id, "bot_id": self.bot_id}
        payload: x.AttachEgress | x.DetachEgress
        if detach:
            what, payload = "detach-egress", x.DetachEgress(**ids)
        else:
            assert self.egress is not None
            what = "attach-egress"
            payload = x.AttachEgress(**ids, proxy_url=self.egress.url, address=self.egress.address)
        return Outgoing(own_command_id(self.bot_id, d.version, what, now), payload, now, what)

    async def _send(self, out: list[Outgoing]) -> None:
        if not out:
            return
        assert self._producer is not None
        registry, now = self.registry, self.clock.now().astimezone(UTC)
        futures = []
        for o in out:
            name, version = registry.type_name_of(type(o.payload))
            envelope = CommandEnvelope(
                command_id=o.command_id,
                type=name,
                schema_version=version,
                issued_at=now,
                actor=actor_of(self.bot_id),
                workspace_id=o.payload.workspace_id,
                correlation_id=o.command_id,
                causation_id=None,
                payload=o.payload,
            )
            data = registry.encode_command(envelope)
            futures.append(await self._producer.send(COMMANDS, data, key=self._key))
        try:
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise KafkaUnreachable(f"cannot send commands to {COMMANDS}: {exc}") from None
        self.sent += len(out)
        for o in out:
            log.info(
                "command sent",
                extra={"bot_id": self.bot_id, "command_id": o.command_id, "reason": o.reason},
            )


def _command_id(registry: Registry, data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return registry.decode_command(data).command_id
    except Exception:  # not a command this registry reads: not one of ours
        return None
