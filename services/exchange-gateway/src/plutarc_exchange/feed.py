"""The paper engines' market data: books and trades from ``market.books.v1`` and
``market.trades.v1`` applied to the `PaperDesk`, and the fills they cause recorded as
``exchange.record_venue_reports`` (one command per bot and batch, its id derived from the reports,
so a batch handled twice is recorded once).

It reads from the end of the topics when it starts: market data is a live feed, not history, and
each engine takes the next book snapshot. Once it reads, it puts every bot's open paper orders back
into the engines (``exchange.resume_paper_orders`` per bot, from `PaperResting`): the engines live
in memory, so a resting order would otherwise never fill after a restart. It runs beside the
service as an `Inbound`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

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


class PaperResting:
    """The bots with open paper orders, from the gateway's own events (a read model)."""

    event_types = frozenset(
        {
            "exchange.order_accepted",
            "exchange.order_filled",
            "exchange.order_cancelled",
            "exchange.order_rejected",
        }
    )

    def __init__(self) -> None:
        self._open: dict[str, tuple[str, str]] = {}
        """order id -> (workspace id, bot id)"""
        self._lock = threading.Lock()

    def apply(self, env: Any) -> None:
        p = env.payload
        with self._lock:
            match p:
                case x.OrderAccepted() if p.mode == "paper":
                    self._open[p.order_id] = (p.workspace_id, p.bot_id)
                case x.OrderFilled() if p.status == "filled":
                    self._open.pop(p.order_id, None)
                case x.OrderCancelled() | x.OrderRejected():
                    self._open.pop(p.order_id, None)

    def bots(self) -> list[tuple[str, str]]:
        """(workspace id, bot id) of every bot with an open paper order."""
        with self._lock:
            return sorted(set(self._open.values()))


class PaperFeed:
    name = "paper-feed"

    def __init__(
        self,
        desk: PaperDesk,
        bootstrap: str,
        clock: Clock,
        tick: float = 0.05,
        resting: PaperResting | None = None,
    ) -> None:
        self.desk, self.bootstrap, self.clock, self.tick = desk, bootstrap, clock, tick
        self.resting = resting
        self._start = str(uuid4())
        """This process's start: a resume is due once per start, so its command ids name it."""
        self._resumed = False

    def resume(self, execute: Execute) -> int:
        """Put every bot's open paper orders back into the engines (once per process); how many
        bots were asked."""
        if self._resumed or self.resting is None:
            return 0
        bots = self.resting.bots()
        for workspace_id, bot_id in bots:
            execute(
                ACTOR,
                x.ResumePaperOrders(workspace_id=workspace_id, bot_id=bot_id),
                workspace_id=workspace_id,
                command_id=str(uuid5(FEED_NS, f"resume\x1f{self._start}\x1f{bot_id}")),
            )
        self._resumed = True
        if bots:
            log.info("paper orders resumed", extra={"bots": len(bots)})
        return len(bots)

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
            await asyncio.to_thread(self.resume, execute)
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
