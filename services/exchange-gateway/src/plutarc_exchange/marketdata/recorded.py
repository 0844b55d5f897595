"""Recorded market data: JSON Lines files of `MarketBatch`, one encoded batch per line.

The recorder copies the market topics into a file; the player publishes a file back, stating
``source="recorded"``, as fast as it can or paced to the time in the data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path

import msgspec
from plutarc_contracts.market import MarketBatch, decode_batch
from plutarc_runtime.bus import log_reader, partitions_of

from .publisher import MarketPublisher, MarketTopics


class BadRecording(ValueError):
    pass


def read_recording(path: Path) -> Iterator[MarketBatch]:
    """The batches of a file in order; `BadRecording` names the first line that is not one."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield decode_batch(line)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise BadRecording(f"{path}:{number}: not a market batch ({exc})") from None


def first_instant(batch: MarketBatch) -> datetime | None:
    for items in (batch.books, batch.trades):
        if items:
            return items[0].at
    return batch.candles[0].opens_at if batch.candles else None


async def play(
    path: Path,
    publisher: MarketPublisher,
    stop: asyncio.Event,
    *,
    speed: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Publish a recording; with ``speed`` (1.0 = real time) each batch waits until its first
    instant is due relative to the first batch. Returns how many batches were published."""
    if speed is not None and speed <= 0:
        raise ValueError("speed must be positive")
    origin: datetime | None = None
    started = monotonic()
    published = 0
    for batch in read_recording(path):
        if stop.is_set():
            break
        at = first_instant(batch)
        if speed is not None and at is not None:
            origin = origin or at
            due = (at - origin).total_seconds() / speed - (monotonic() - started)
            if due > 0:
                await sleep(due)
        published += await publisher.publish([msgspec.structs.replace(batch, source="recorded")])
    return published


async def record(
    bootstrap: str,
    path: Path,
    stop: asyncio.Event,
    *,
    topics: MarketTopics | None = None,
    from_beginning: bool = False,
    on_line: Callable[[int], None] | None = None,
) -> int:
    """Append what arrives on the books and trades topics to ``path`` until ``stop``; from now on
    unless ``from_beginning``. Each line is the message exactly as published."""
    topics = topics or MarketTopics()
    consumer = log_reader(bootstrap, "plutarc-market-recorder", fetch_max_wait_ms=100)
    await consumer.start()
    lines = 0
    try:
        parts = await partitions_of(consumer, [topics.books, topics.trades], stop, "recorder")
        consumer.assign(parts)
        if from_beginning:
            await consumer.seek_to_beginning(*parts)
        else:
            await consumer.seek_to_end(*parts)
        with path.open("ab") as out:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=1000)
                for records in batches.values():
                    for record in records:
                        out.write(record.value.rstrip(b"\n") + b"\n")
                        lines += 1
                out.flush()
                if on_line is not None:
                    on_line(lines)
    finally:
        await consumer.stop()
    return lines
