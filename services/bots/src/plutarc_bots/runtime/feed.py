"""Reading the runtime's topics: from the beginning up to their end at start (the catch-up), in
the one order the decider replays them, and the keys that spare decoding what is not the bot's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import ContractError, Envelope, Registry, commands_topic, events_topic
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts import market as m
from plutarc_runtime.bus import log_reader

BOTS_EVENTS = events_topic(b.BOTS)
ORDERS = x.ORDERS_TOPIC
CANDLES = m.CANDLES_TOPIC
COMMANDS = commands_topic(x.EXCHANGE)
STRATEGY_TYPES = frozenset({b"bots.strategy_created", b"bots.strategy_version_published"})


@dataclass(frozen=True, slots=True)
class Item:
    """One input in replay order: ``at`` its instant (an event's, a candle's close)."""

    at: datetime
    kind: Literal["bot", "order", "candle"]
    event: Envelope | None = None
    key: str = ""
    candle: m.Candle | None = None


RANK = {"bot": 0, "order": 1, "candle": 2}


def replay_order(items: Iterable[Item]) -> list[Item]:
    """By instant; at one instant the bot's events, then order outcomes, then candles (a candle
    that closes as a window ends is decided after the end). Stable within a kind: log order."""
    return sorted(items, key=lambda i: (i.at, RANK[i.kind]))


def candle_items(key: str, batch: m.MarketBatch) -> Iterator[Item]:
    for candle in batch.candles:
        close = candle.opens_at + timedelta(seconds=m.CANDLE_SECONDS[candle.width])
        yield Item(close, "candle", key=key, candle=candle)


def header(record: Any, name: str) -> bytes | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value)
    return None


def is_bot_record(record: Any, bot_id: bytes) -> bool:
    """A record of the bots topic the runtime needs: the bot's own, or a strategy version."""
    return record.key == bot_id or header(record, "type") in STRATEGY_TYPES


def decode_event(registry: Registry, record: Any) -> Envelope | None:
    try:
        return registry.decode_event(record.value)
    except ContractError:
        return None


def decode_candles(record: Any) -> m.MarketBatch | None:
    try:
        return m.decode_batch(record.value)
    except Exception:  # msgspec's DecodeError and ValidationError: not a market batch
        return None


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions as the cluster knows them now; none for a topic that does not
    exist (no waiting: a runtime of a bot nobody created has nothing to wait for)."""
    await consumer._client.force_metadata_update()
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


async def read_to_end(
    bootstrap: str,
    topic: str,
    keep: Callable[[Any], bool],
    *,
    client_id: str,
    until: dict[TopicPartition, int] | None = None,
) -> tuple[list[Any], dict[TopicPartition, int]]:
    """Every record of ``topic`` that ``keep`` accepts, from offset 0 up to its end now (or
    ``until``), and the offsets where that reading stopped."""
    consumer = log_reader(bootstrap, client_id)
    await consumer.start()
    try:
        partitions = await topic_partitions(consumer, topic)
        if not partitions:
            return [], {}
        ends = until if until is not None else await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        kept: list[Any] = []
        left = {tp for tp in partitions if ends.get(tp, 0) > 0}
        for tp in list(left):
            if await consumer.position(tp) >= ends[tp]:
                left.discard(tp)
        while left:
            batch = await consumer.getmany(*left, timeout_ms=500, max_records=5_000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp] and keep(record):
                        kept.append(record)
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
            await asyncio.sleep(0)
        return kept, {tp: ends.get(tp, 0) for tp in partitions}
    finally:
        await consumer.stop()
