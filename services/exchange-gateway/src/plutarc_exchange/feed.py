"""The paper engines' market data: books and trades from ``market.books.v1`` and
``market.trades.v1`` applied to the `PaperDesk`, and the fills they cause recorded as
``exchange.record_venue_reports`` (one command per bot and batch, its id derived from the reports,
so a batch handled twice is recorded once).

It reads from the end of the topics when it starts: market data is a live feed, not history, and
each engine takes the next book snapshot. It runs beside the service as an `Inbound`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from uuid import NAMESPACE_URL, uuid5

import msgspec
from aiokafka import AIOKafkaConsumer
from plutarc_contracts import exchange as x
from plutarc_contracts.market import BOOKS_TOPIC, TRADES_TOPIC, decode_batch, market_topics
from plutarc_runtime.bus import ensure_topics, partitions_of
from plutarc_runtime.clock import Clock
from plutarc_runtime.service import Execute

from .paper_desk import PaperDesk

log = logging.getLogger(__name__)
ACTOR = "system:exchange-gateway"
FEED_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/exchange/paper-feed")


def commands_for(desk: PaperDesk, reports: list[x.VenueReport]) -> list[x.RecordVenueReports]:
    """The reports grouped by the bot whose order they concern, in order."""
    by_bot: dict[tuple[str, str], list[x.VenueReport]] = defaultdict(list)
    for report in reports:
        owner = desk.owner(report.order_id)
        if owner is None:
            log.warning("paper report for an unknown order", extra={"order_id": report.order_id})
            continue
        by_bot[owner].append(report)
    commands = []
    for (workspace_id, bot_id), found in by_bot.items():
        for start in range(0, len(found), 1000):
            commands.append(
                x.RecordVenueReports(
                    workspace_id=workspace_id, bot_id=bot_id, reports=found[start : start + 1000]
                )
            )
    return commands


def command_id(command: x.RecordVenueReports) -> str:
    return str(uuid5(FEED_NS, msgspec.json.encode(command).decode()))


class PaperFeed:
    name = "paper-feed"

    def __init__(self, desk: PaperDesk, bootstrap: str, clock: Clock, tick: float = 0.05) -> None:
        self.desk, self.bootstrap, self.clock, self.tick = desk, bootstrap, clock, tick

    async def run(self, execute: Execute, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._follow(execute, stop)
            except Exception:
                log.exception("paper feed failed; starting again")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    async def _follow(self, execute: Execute, stop: asyncio.Event) -> None:
        await ensure_topics(self.bootstrap, market_topics())
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            client_id="exchange-gateway.paper-feed",
        )
        await consumer.start()
        try:
            partitions = await partitions_of(
                consumer, [BOOKS_TOPIC, TRADES_TOPIC], stop, "exchange-gateway.paper-feed"
            )
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=int(self.tick * 1000), max_records=500)
                reports: list[x.VenueReport] = []
                for records in batches.values():
                    for record in records:
                        try:
                            batch = decode_batch(record.value or b"")
                        except (msgspec.DecodeError, msgspec.ValidationError):
                            log.warning("undecodable market data", extra={"topic": record.topic})
                            continue
                        reports += await asyncio.to_thread(self.desk.on_batch, batch)
                reports += await asyncio.to_thread(self.desk.advance, self.clock.now())
                for command in commands_for(self.desk, reports):
                    await asyncio.to_thread(
                        execute,
                        ACTOR,
                        command,
                        workspace_id=command.workspace_id,
                        command_id=command_id(command),
                    )
        finally:
            await consumer.stop()
