from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from plutarc_contracts.bots import VENUES
from plutarc_contracts.market import BookUpdate
from plutarc_exchange.paper import PaperEngine, PaperOrder
from plutarc_exchange.venue_table import UnknownMarket, VenueTable
from plutarc_exchange.venues.markets import snapshot

TABLE = VenueTable()
MARKETS = [
    (venue, symbol)
    for venue in VENUES
    for kind in snapshot(venue).markets.values()
    for symbol in kind
]
T0 = datetime(2026, 12, 3, 9, tzinfo=UTC)


@pytest.mark.parametrize(("venue", "symbol"), MARKETS)
def test_paper_trades_every_snapshot_market_of_all_ten_venues(venue: str, symbol: str) -> None:
    rules = TABLE.rules(venue, symbol)
    engine = PaperEngine(rules, latency=TABLE.latency(venue), seed=1)
    engine.deposit("bot", rules.quote, Decimal(10) ** 9)
    price = rules.price_tick * 1000
    step = max(rules.amount_step, rules.min_amount)
    quantity = step
    while quantity * price * rules.contract_size < rules.min_notional:
        quantity += step
    ask = (str(price), str(quantity * 10))
    engine.on_book(BookUpdate(sequence=1, at=T0, snapshot=True, asks=[ask], bids=[]))
    reports = engine.submit(
        PaperOrder(order_id="o-1", side="buy", type="market", quantity=quantity, account="bot"),
        T0,
    )
    reports += engine.advance(T0.replace(minute=1))
    filled = sum(Decimal(f.quantity) for r in reports for f in r.fills)
    assert filled == quantity, reports


def test_testnets_closed_venues_and_client_ids_come_from_the_table() -> None:
    assert TABLE.has_testnet("binance") and not TABLE.has_testnet("kucoin")
    assert TABLE.closed("bitmex") == "2026-09-23" and TABLE.closed("okx") is None
    command_id = "0194a0c0-5e00-7000-8000-000000000001"
    assert TABLE.client_order_id("binance", command_id) == "pl" + command_id.replace("-", "")
    with pytest.raises(UnknownMarket):
        TABLE.rules("binance", "DOGE/JPY")
