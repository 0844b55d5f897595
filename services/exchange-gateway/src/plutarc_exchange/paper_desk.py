"""The paper venue of the gateway: one paper engine per market, shared by every bot trading it on
paper (so bots compete for the same liquidity, as they would at the venue), fed by the market-data
topics, and a paper account per bot inside each engine.

Handlers submit and cancel in their thread; the market-data feed (`PaperFeed`) applies books and
trades on the event loop and hands the fills they caused back as ``exchange.record_venue_reports``
commands; one lock keeps the engines consistent between the two. The engines live in memory: a
bot's paper account is funded from its book the first time the bot trades after a start, and
`resume` re-submits a bot's open paper orders (their queue position estimated again from the book
as it is then): the gateway does it for every bot with open paper orders when it starts
(``exchange.resume_paper_orders``), and before any paper order or cancel of a bot it has not
resumed yet.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from plutarc_contracts import exchange as x
from plutarc_contracts.bots import MarketRef
from plutarc_contracts.market import MarketBatch

from .domain import Book, OpenOrder
from .paper import LatencyModel, MarketRules, PaperEngine, PaperOrder

log = logging.getLogger(__name__)

RulesFor = Callable[[str, str], MarketRules]
"""A market's rules; LookupError for a market it does not know (venue_table.UnknownMarket)."""
LatencyFor = Callable[[str], LatencyModel]
Owner = tuple[str, str]
"""(workspace id, bot id) of an order."""


class PaperDesk:
    def __init__(
        self,
        rules_for: RulesFor,
        latency_for: LatencyFor | None = None,
        *,
        seed: int = 7,
    ) -> None:
        self._rules_for = rules_for
        self._latency_for = latency_for or (lambda venue: LatencyModel())
        self._seed = seed
        self._engines: dict[tuple[str, str], PaperEngine] = {}
        self._funded: set[tuple[str, str, str]] = set()
        self._owners: dict[str, Owner] = {}
        self.lock = threading.Lock()

    # -- engines ------------------------------------------------------------------------------------
    def engine(self, venue: str, symbol: str) -> PaperEngine:
        found = self._engines.get((venue, symbol))
        if found is None:
            digest = hashlib.sha256(f"{self._seed}\x1f{venue}\x1f{symbol}".encode()).digest()
            found = PaperEngine(
                self._rules_for(venue, symbol),
                latency=self._latency_for(venue),
                seed=int.from_bytes(digest[:8], "big"),
            )
            self._engines[(venue, symbol)] = found
        return found

    def markets(self) -> list[tuple[str, str]]:
        return sorted(self._engines)

    def owner(self, order_id: str) -> Owner | None:
        return self._owners.get(order_id)

    def holds(self, order_id: str) -> bool:
        """Whether an engine of this desk has seen the order (since this process started)."""
        return order_id in self._owners

    def _fund(self, engine: PaperEngine, market: MarketRef, bot_id: str, book: Book) -> None:
        key = (market.venue, market.symbol, bot_id)
        if key in self._funded:
            return
        for currency, amount in sorted(book.balances.items()):
            if amount > 0:
                engine.deposit(bot_id, currency, amount)
        self._funded.add(key)

    # -- the Paper protocol (routing.Paper) ---------------------------------------------------------
    def reference_price(self, venue: str, symbol: str, side: str) -> Decimal | None:
        with self.lock:
            engine = self._engines.get((venue, symbol))
            if engine is None:
                return None
            return engine.best_ask() if side == "buy" else engine.best_bid()

    def submit(
        self, bot_id: str, market: MarketRef, order: x.OrderAccepted, book: Book, now: datetime
    ) -> list[x.VenueReport]:
        with self.lock:
            engine = self.engine(market.venue, market.symbol)
            self._fund(engine, market, bot_id, book)
            self._owners[order.order_id] = (order.workspace_id, bot_id)
            return engine.submit(
                PaperOrder(
                    order_id=order.order_id,
                    side=order.side,
                    type=order.type,
                    quantity=Decimal(order.quantity),
                    price=None if order.price is None else Decimal(order.price),
                    post_only=order.post_only,
                    reduce_only=order.reduce_only,
                    account=bot_id,
                ),
                now,
            )

    def cancel(
        self, bot_id: str, market: MarketRef, order_id: str, now: datetime
    ) -> list[x.VenueReport]:
        with self.lock:
            return self.engine(market.venue, market.symbol).cancel(order_id, now)

    def resume(
        self,
        workspace_id: str,
        bot_id: str,
        market: MarketRef,
        book: Book,
        orders: list[tuple[str, OpenOrder]],
        now: datetime,
    ) -> list[x.VenueReport]:
        """After a restart: the bot's paper account from its book, and its open orders again (an
        order an engine holds already is left as it is)."""
        reports: list[x.VenueReport] = []
        with self.lock:
            engine = self.engine(market.venue, market.symbol)
            self._fund(engine, market, bot_id, book)
            for order_id, order in orders:
                if order_id in self._owners:
                    continue
                self._owners[order_id] = (workspace_id, bot_id)
                reports.extend(
                    engine.submit(
                        PaperOrder(
                            order_id=order_id,
                            side=order.side,  # type: ignore[arg-type]
                            type=order.type,  # type: ignore[arg-type]
                            quantity=order.remaining,
                            price=order.price,
                            reduce_only=order.reduce_only,
                            account=bot_id,
                        ),
                        now,
                    )
                )
        return reports

    # -- market data --------------------------------------------------------------------------------
    def on_batch(self, batch: MarketBatch) -> list[x.VenueReport]:
        """Apply one batch of a market's data; the reports it caused, in order. A market no bot
        trades on paper yet still gets an engine: its book is the reference price of the next
        order."""
        reports: list[x.VenueReport] = []
        with self.lock:
            try:
                engine = self.engine(batch.venue, batch.symbol)
            except LookupError:  # data of a market with no rules: no engine can trade it
                return reports
            for update in batch.books:
                reports.extend(engine.on_book(update))
            for trade in batch.trades:
                reports.extend(engine.on_trade(trade))
        return reports

    def advance(self, now: datetime) -> list[x.VenueReport]:
        """Let time pass on every engine (orders in flight arrive)."""
        reports: list[x.VenueReport] = []
        with self.lock:
            for key in sorted(self._engines):
                reports.extend(self._engines[key].advance(now))
        return reports
