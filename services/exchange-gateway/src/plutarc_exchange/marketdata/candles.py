"""Tumbling candle windows over trades, on event time: the fold the candle agent keeps per market.

A window of width ``w`` seconds opens at a multiple of ``w`` since the epoch (UTC: days start at
midnight, 4 h windows at 00, 04, ...). It closes when the first trade of a later window arrives,
never on the wall clock, so a replay closes exactly the same windows. A window in which nothing
traded has no candle. A trade older than a market's open window (it arrives after that window's
successor opened) is late: it is counted and left out of that width.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import msgspec
from plutarc_contracts.market import CANDLE_SECONDS, Candle, CandleWidth, Trade

WIDTHS: tuple[CandleWidth, ...] = ("1s", "1m", "5m", "15m", "1h", "4h", "1d")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OpenCandle(msgspec.Struct, array_like=True, gc=False):
    opens_at: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    trades: int


class MarketCandles(msgspec.Struct, gc=False):
    """The open window of each width for one market, as the agent's table keeps it, and the
    position of the last trades message folded into it (so that a message read again after a
    restart is recognised and skipped)."""

    open: dict[str, OpenCandle] = {}
    late: int = 0
    offset: int = -1


_state_encoder = msgspec.json.Encoder()
_state_decoder = msgspec.json.Decoder(MarketCandles)


def encode_state(state: MarketCandles) -> bytes:
    return _state_encoder.encode(state)


def decode_state(data: bytes | None) -> MarketCandles:
    return MarketCandles() if not data else _state_decoder.decode(data)


def window_start(at: datetime, width: str) -> int:
    seconds = CANDLE_SECONDS[width]
    delta = at - _EPOCH
    epoch_seconds = delta.days * 86400 + delta.seconds
    return epoch_seconds - epoch_seconds % seconds


def to_candle(width: str, c: OpenCandle) -> Candle:
    return Candle(
        width=width,  # type: ignore[arg-type]
        opens_at=datetime.fromtimestamp(c.opens_at, UTC),
        open=c.open,
        high=c.high,
        low=c.low,
        close=c.close,
        volume=c.volume,
        trades=c.trades,
    )


def fold(
    state: MarketCandles, trades: Iterable[Trade], widths: Iterable[str] = WIDTHS
) -> list[Candle]:
    """Add ``trades`` (in the order the market printed them) to ``state``; return the candles of
    the windows they closed, oldest first within each width."""
    closed: list[Candle] = []
    opened = state.open
    widths = tuple(widths)
    for trade in trades:
        price = Decimal(trade.price)
        for width in widths:
            start = window_start(trade.at, width)
            current = opened.get(width)
            if current is not None and start == current.opens_at:
                if price > Decimal(current.high):
                    current.high = trade.price
                elif price < Decimal(current.low):
                    current.low = trade.price
                current.close = trade.price
                current.volume = str(Decimal(current.volume) + Decimal(trade.amount))
                current.trades += 1
                continue
            if current is not None and start < current.opens_at:
                state.late += 1
                continue
            if current is not None:
                closed.append(to_candle(width, current))
            opened[width] = OpenCandle(
                start, trade.price, trade.price, trade.price, trade.price, trade.amount, 1
            )
    order = {w: i for i, w in enumerate(WIDTHS)}
    closed.sort(key=lambda c: (order[c.width], c.opens_at))
    return closed
