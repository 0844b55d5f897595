"""The gateway's reading of the venue data (venues/): whether a venue has a testnet, each order's
client id in the venue's format, and each market's rules and latency for the paper engines
(from the repository's market snapshots: the paper engine needs no network)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from .paper import LatencyModel, MarketRules
from .venues.capabilities import CapabilityTable, capability_table
from .venues.client_ids import derive_client_order_id
from .venues.markets import snapshot_markets


class UnknownMarket(LookupError):
    """No market rules for this symbol: neither the venue nor its snapshot knows it."""


class VenueTable:
    def __init__(self, table: CapabilityTable | None = None) -> None:
        self.table = table or capability_table()

    def has_testnet(self, venue: str, kind: str = "spot") -> bool:
        return self.table.venue(venue).endpoint(kind, "testnet") is not None  # type: ignore[arg-type]

    def closed(self, venue: str) -> str | None:
        """The day the venue stopped trading (its markets remain on paper), or None."""
        return self.table.venue(venue).closed

    def client_order_id(self, venue: str, command_id: str) -> str:
        return derive_client_order_id(command_id, self.table.venue(venue).client_order_id)

    def rules(self, venue: str, symbol: str) -> MarketRules:
        return _rules(self, venue, symbol)

    def latency(self, venue: str) -> LatencyModel:
        found = self.table.venue(venue).latency
        return LatencyModel.from_spread(found.median_ms, found.spread_ms)

    def __hash__(self) -> int:
        return id(self)


@cache
def _rules(table: VenueTable, venue: str, symbol: str) -> MarketRules:
    kind = "perpetual" if ":" in symbol else "spot"
    market = snapshot_markets(venue, kind).get(symbol)  # type: ignore[arg-type]
    if market is None:
        raise UnknownMarket(f"no market rules for {symbol} on {venue}")
    if market.get("maker") is None or market.get("taker") is None:
        fee = table.table.venue(venue).fees[kind]  # type: ignore[index]
        market = {**market, "maker": Decimal(fee.maker), "taker": Decimal(fee.taker)}
    return MarketRules.from_ccxt_market(market)
