"""Market data contracts: order books, trades and candles per venue and symbol.

Market data is not the history of any aggregate, so it is not an event envelope and no event
store keeps it: a source (a venue's public feed, a recorded file, or the seeded simulator that is
the embedded default) publishes it straight to these topics, keyed ``<venue>:<symbol>`` so that
order holds per market. Every message states its ``source``. Messages carry a batch (a venue's
feed sends many updates at once; one Kafka message per update would cap the rate far below what
one market produces). Prices and amounts are decimal strings, exact as the venue gave them.

Candles are derived from trades by a stream processor with tumbling windows; see docs/market-data.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from plutarc_contracts.bots import Symbol, Venue
from plutarc_contracts.topics import SEVEN_DAYS_MS, Topic

MARKET = "market"
BOOKS_TOPIC = "market.books.v1"
TRADES_TOPIC = "market.trades.v1"
CANDLES_TOPIC = "market.candles.v1"

Source = Literal["venue", "recorded", "simulator"]
CandleWidth = Literal["1s", "1m", "5m", "15m", "1h", "4h", "1d"]
CANDLE_SECONDS: dict[str, int] = {
    "1s": 1,
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3600,
    "4h": 14400,
    "1d": 86400,
}
Level = tuple[str, str]
"""(price, amount) at one price level; amount ``"0"`` removes the level from the book."""


class _Msg(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    pass


class BookUpdate(_Msg, frozen=True, kw_only=True):
    """A change to one market's book. ``snapshot`` replaces the whole book; otherwise each level
    replaces the amount at its price. ``sequence`` rises by one per update of a market, so a
    consumer sees a gap and asks for a snapshot."""

    sequence: int
    at: datetime
    snapshot: bool = False
    bids: list[Level] = []
    asks: list[Level] = []


class Trade(_Msg, frozen=True, kw_only=True):
    """A public trade; ``side`` is the taker's."""

    trade_id: str
    at: datetime
    price: str
    amount: str
    side: Literal["buy", "sell"]


class Candle(_Msg, frozen=True, kw_only=True):
    """One closed candle of ``width``, from ``opens_at`` (inclusive) to the next (exclusive)."""

    width: CandleWidth
    opens_at: datetime
    open: str
    high: str
    low: str
    close: str
    volume: str
    trades: int


class MarketBatch(_Msg, frozen=True, kw_only=True):
    """One Kafka message: a batch of one kind for one market, from one source."""

    venue: Venue
    symbol: Symbol
    source: Source
    books: list[BookUpdate] = []
    trades: list[Trade] = []
    candles: list[Candle] = []


def market_key(venue: str, symbol: str) -> bytes:
    return f"{venue}:{symbol}".encode()


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(MarketBatch)


def encode_batch(batch: MarketBatch) -> bytes:
    return _encoder.encode(batch)


def decode_batch(data: bytes) -> MarketBatch:
    """msgspec.ValidationError / DecodeError on anything that is not a market batch."""
    return _decoder.decode(data)


def market_topics() -> list[Topic]:
    """Books and trades keep a day (a consumer that is further behind takes a new snapshot);
    candles a week, the history a runtime warms its indicators from."""
    day = 24 * 60 * 60 * 1000
    return [
        Topic(
            name=BOOKS_TOPIC,
            retention_ms=day,
            description="order book snapshots and updates per venue and symbol, with their source",
        ),
        Topic(
            name=TRADES_TOPIC,
            retention_ms=day,
            description="public trades per venue and symbol, with their source",
        ),
        Topic(
            name=CANDLES_TOPIC,
            retention_ms=SEVEN_DAYS_MS,
            description="closed candles (1s to 1d) derived from trades, per venue and symbol",
        ),
    ]
