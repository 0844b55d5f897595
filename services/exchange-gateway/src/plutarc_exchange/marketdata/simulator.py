"""The seeded market simulator: the embedded default source of books and trades.

Per market, a mid price follows geometric Brownian motion (optionally with clustered volatility),
a ladder of ``depth`` levels per side sits a few ticks around it, and three Poisson processes on
the simulated clock drive it: book updates (the mid moves, the ladder follows it, a few levels
change size), trades (lognormal sizes that take from the side they hit, so the book update that
follows shows the liquidity gone) and periodic snapshots. Nothing reads the wall clock; the same
seed, start and markets give byte-identical output however the time is advanced.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

import msgspec
from plutarc_contracts.bots import VENUES, Symbol, Venue
from plutarc_contracts.market import BookUpdate, Level, MarketBatch, Trade

from .units import Units

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS_PER_YEAR = 365 * 24 * 3600
MICROS = 1_000_000


@dataclass(frozen=True, kw_only=True)
class MarketParams:
    """How one simulated market behaves. Sizes are in the base currency, rates per second."""

    price: float = 100.0
    tick: str = "0.01"
    step: str = "0.001"
    volatility: float = 0.8
    """Annualised volatility of the mid (0.8 = 80 % a year)."""
    clustering: float = 0.0
    """Standard deviation of log-volatility, which mean-reverts over ``clustering_seconds``: 0 is
    constant volatility, 0.5 gives calm and wild stretches."""
    clustering_seconds: float = 300.0
    spread_ticks: int = 2
    depth: int = 20
    level_size: float = 1.0
    """Mean size of the best level; deeper levels are larger (see `level_mean`)."""
    updates_per_second: float = 50.0
    trades_per_second: float = 5.0
    trade_size: float = 0.2
    """Median trade size; sizes are lognormal around it with ``trade_size_sigma``."""
    trade_size_sigma: float = 1.0
    snapshot_every: float = 60.0
    """Seconds between full snapshots after the first (0: only the first), for late joiners."""

    def __post_init__(self) -> None:
        positive: dict[str, float] = {
            "price": self.price,
            "volatility": self.volatility + 1e-300,
            "clustering_seconds": self.clustering_seconds,
            "level_size": self.level_size,
            "updates_per_second": self.updates_per_second,
            "trade_size": self.trade_size,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        non_negative: dict[str, float] = {
            "clustering": self.clustering,
            "trades_per_second": self.trades_per_second,
            "trade_size_sigma": self.trade_size_sigma,
            "snapshot_every": self.snapshot_every,
        }
        for name, value in non_negative.items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be zero or more, got {value!r}")
        if not 1 <= self.spread_ticks <= 1000:
            raise ValueError(f"spread_ticks must be 1 to 1000, got {self.spread_ticks}")
        if not 1 <= self.depth <= 1000:
            raise ValueError(f"depth must be 1 to 1000, got {self.depth}")
        tick, step = Units(self.tick), Units(self.step)
        if self.price / float(tick.increment) <= self.depth + self.spread_ticks:
            raise ValueError(f"price {self.price} is too few ticks of {self.tick} for the depth")
        if self.level_size < float(step.increment):
            raise ValueError(f"level_size {self.level_size} is below one step of {self.step}")


@dataclass(frozen=True)
class MarketSpec:
    venue: str
    symbol: str
    params: MarketParams = field(default_factory=MarketParams)

    def __post_init__(self) -> None:
        if self.venue not in VENUES:
            raise ValueError(f"unknown venue `{self.venue}`: one of {', '.join(VENUES)}")
        try:
            msgspec.convert(self.symbol, Symbol)
        except msgspec.ValidationError:
            raise ValueError(
                f"`{self.symbol}` is not a unified symbol such as BTC/USDT or BTC/USDT:USDT"
            ) from None

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"


def market_seed(seed: int, venue: str, symbol: str) -> int:
    """Each market's own random stream, so adding a market changes no other market's output."""
    digest = hashlib.sha256(f"{seed}:{venue}:{symbol}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class MarketSimulator:
    """One market. `advance_to` runs its events up to an instant (microseconds since the epoch)
    and returns the book updates and trades they made, in order."""

    def __init__(self, spec: MarketSpec, seed: int, start_us: int) -> None:
        p = spec.params
        self.spec = spec
        self.prices = Units(p.tick)
        self.amounts = Units(p.step)
        self._rng = random.Random(market_seed(seed, spec.venue, spec.symbol))
        self.now_us = self._moved_us = start_us
        self.sequence = 0
        self.trade_count = 0
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._log_mid = math.log(p.price / float(self.prices.increment))
        self._sigma = p.volatility / math.sqrt(_SECONDS_PER_YEAR)
        self._log_vol = 0.0
        self._vol_dt = 0.0
        self._level_steps = p.level_size / float(self.amounts.increment)
        self._trade_mu = math.log(p.trade_size / float(self.amounts.increment))
        self._last_move = 0
        self._dirty = True
        self._best_bid = 0
        self._next_update = start_us + self._gap(p.updates_per_second)
        self._next_trade = start_us + self._gap(p.trades_per_second)
        snap = int(p.snapshot_every * MICROS)
        self._snapshot_us = snap
        self._next_snapshot = start_us + snap if snap else None
        self._refill(math.floor(math.exp(self._log_mid) - p.spread_ticks / 2))
        self._last_move = 0

    @property
    def mid(self) -> float:
        """The simulated mid price (the book's best levels sit around it)."""
        return math.exp(self._log_mid) * float(self.prices.increment)

    def _gap(self, rate: float) -> int:
        if rate <= 0:
            return 1 << 62
        return 1 + int(-math.log(1.0 - self._rng.random()) / rate * MICROS)

    def level_mean(self, index: int) -> float:
        """Mean size in steps at ``index`` levels from the top: thin at the touch, thicker behind
        it, flat far out (the usual shape of a crypto book)."""
        return self._level_steps * (1.0 + 0.25 * min(index, 12))

    def _size(self, index: int) -> int:
        return max(1, int(self.level_mean(index) * self._rng.lognormvariate(0.0, 0.5)))

    def _at(self, us: int) -> datetime:
        return _EPOCH + timedelta(microseconds=us)

    def snapshot(self) -> BookUpdate:
        """The whole book as the next update (``snapshot=True``)."""
        self.sequence += 1
        text_p, text_a = self.prices.texts, self.amounts.texts
        return BookUpdate(
            sequence=self.sequence,
            at=self._at(self.now_us),
            snapshot=True,
            bids=[(text_p[t], text_a[a]) for t, a in sorted(self.bids.items(), reverse=True)],
            asks=[(text_p[t], text_a[a]) for t, a in sorted(self.asks.items())],
        )

    def advance_to(self, until_us: int) -> tuple[list[BookUpdate], list[Trade]]:
        books: list[BookUpdate] = []
        trades: list[Trade] = []
        if self.sequence == 0:
            books.append(self.snapshot())
        p = self.spec.params
        append = books.append
        while True:
            next_update, next_trade = self._next_update, self._next_trade
            at = next_update if next_update <= next_trade else next_trade
            snapshot_at = self._next_snapshot
            if snapshot_at is not None and snapshot_at <= at:
                if snapshot_at > until_us:
                    break
                self.now_us = snapshot_at
                append(self.snapshot())
                self._next_snapshot = snapshot_at + self._snapshot_us
                continue
            if at > until_us:
                break
            if at == next_update:
                update = self._update(at)
                if update is not None:
                    append(update)
                self._next_update = at + self._gap(p.updates_per_second)
            else:
                self.now_us = at
                update = self._trade(at, trades)
                if update is not None:
                    append(update)
                self._next_trade = at + self._gap(p.trades_per_second)
        self.now_us = max(self.now_us, until_us)
        return books, trades

    def _update(self, at: int) -> BookUpdate | None:
        """The mid moves by GBM over the time since the last update, the ladders follow it, and
        a few levels change size (orders placed and cancelled)."""
        p = self.spec.params
        rng = self._rng
        dt = (at - self._moved_us) / MICROS
        self.now_us = self._moved_us = at
        if p.clustering:
            self._vol_dt += dt
            if self._vol_dt >= 1.0:
                decay = math.exp(-self._vol_dt / p.clustering_seconds)
                self._log_vol = self._log_vol * decay + p.clustering * math.sqrt(
                    1.0 - decay * decay
                ) * rng.gauss(0.0, 1.0)
                self._vol_dt = 0.0
            sigma = self._sigma * math.exp(self._log_vol - 0.5 * p.clustering * p.clustering)
        else:
            sigma = self._sigma
        self._log_mid += -0.5 * sigma * sigma * dt + sigma * math.sqrt(dt) * rng.gauss(0.0, 1.0)
        best_bid = math.floor(math.exp(self._log_mid) - p.spread_ticks / 2)
        self._last_move = best_bid - self._best_bid
        if best_bid != self._best_bid or self._dirty:
            bid_changes, ask_changes = self._refill(best_bid)
        else:
            bid_changes, ask_changes = [], []
        depth, spread = p.depth, p.spread_ticks
        text_p, text_a = self.prices.texts, self.amounts.texts
        random = rng.random
        bids, asks = self.bids, self.asks
        for _ in range(1 + int(random() * 3)):
            index = int(depth * random() ** 2)
            if random() < 0.5:
                tick = best_bid - index
                if tick in bids:
                    size = bids[tick] = int(bids[tick] * (0.6 + 0.8 * random())) or 1
                    bid_changes.append((text_p[tick], text_a[size]))
            else:
                tick = best_bid + spread + index
                if tick in asks:
                    size = asks[tick] = int(asks[tick] * (0.6 + 0.8 * random())) or 1
                    ask_changes.append((text_p[tick], text_a[size]))
        if not bid_changes and not ask_changes:
            return None
        self.sequence += 1
        return BookUpdate(
            sequence=self.sequence,
            at=_EPOCH + timedelta(microseconds=at),
            bids=bid_changes,
            asks=ask_changes,
        )

    def _refill(self, best_bid: int) -> tuple[list[Level], list[Level]]:
        """Make the ladders match a new best bid: drop levels that crossed it or fell out of
        depth, add the missing ones. Returns the changed levels."""
        p = self.spec.params
        best_ask = best_bid + p.spread_ticks
        self._best_bid = best_bid
        self._dirty = False
        text_p, text_a = self.prices.texts, self.amounts.texts
        low_bid = best_bid - p.depth + 1
        high_ask = best_ask + p.depth - 1
        bid_changes: list[Level] = []
        ask_changes: list[Level] = []
        bids, asks = self.bids, self.asks
        for tick in [t for t in bids if t > best_bid or t < low_bid]:
            del bids[tick]
            bid_changes.append((text_p[tick], "0"))
        for tick in [t for t in asks if t < best_ask or t > high_ask]:
            del asks[tick]
            ask_changes.append((text_p[tick], "0"))
        for index in range(p.depth):
            tick = best_bid - index
            if tick not in bids:
                size = bids[tick] = self._size(index)
                bid_changes.append((text_p[tick], text_a[size]))
            tick = best_ask + index
            if tick not in asks:
                size = asks[tick] = self._size(index)
                ask_changes.append((text_p[tick], text_a[size]))
        return bid_changes, ask_changes

    def _trade(self, at: int, trades: list[Trade]) -> BookUpdate | None:
        """A taker order of lognormal size sweeps the side it hits, level by level, as far as the
        visible depth goes; one print per level, then the book update that shows what it took."""
        rng = self._rng
        p = self.spec.params
        lean = 0.15 if self._last_move > 0 else -0.15 if self._last_move < 0 else 0.0
        side: Literal["buy", "sell"] = "buy" if rng.random() < 0.5 + lean else "sell"
        wanted = max(1, int(rng.lognormvariate(self._trade_mu, p.trade_size_sigma)))
        book = self.asks if side == "buy" else self.bids
        ticks = sorted(book) if side == "buy" else sorted(book, reverse=True)
        text_p, text_a = self.prices.texts, self.amounts.texts
        at_dt = self._at(at)
        changes: list[Level] = []
        for tick in ticks:
            if wanted <= 0:
                break
            available = book[tick]
            taken = min(available, wanted)
            wanted -= taken
            self.trade_count += 1
            trades.append(
                Trade(
                    trade_id=str(self.trade_count),
                    at=at_dt,
                    price=text_p[tick],
                    amount=text_a[taken],
                    side=side,
                )
            )
            if taken == available:
                del book[tick]
                changes.append((text_p[tick], "0"))
            else:
                book[tick] = available - taken
                changes.append((text_p[tick], text_a[available - taken]))
        if not changes:
            return None
        self._dirty = True
        self.sequence += 1
        if side == "buy":
            return BookUpdate(sequence=self.sequence, at=at_dt, asks=changes)
        return BookUpdate(sequence=self.sequence, at=at_dt, bids=changes)


class Simulator:
    """Several markets on one simulated clock, each with its own seeded stream."""

    def __init__(
        self,
        markets: list[MarketSpec],
        *,
        seed: int,
        start: datetime,
        max_batch: int = 2000,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulator needs a timezone-aware start instant")
        if len({m.key for m in markets}) != len(markets):
            raise ValueError("a market is listed twice")
        self.now_us = _micros(start)
        self.max_batch = max_batch
        self.markets = [MarketSimulator(m, seed, self.now_us) for m in markets]

    @property
    def now(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.now_us)

    def advance(self, seconds: float) -> list[MarketBatch]:
        return self.advance_to(self.now_us + int(seconds * MICROS))

    def advance_to(self, until_us: int) -> list[MarketBatch]:
        """Every market's updates and trades up to ``until_us``, as batches of at most
        ``max_batch`` items: per market its books, then its trades."""
        out: list[MarketBatch] = []
        size = self.max_batch
        for market in self.markets:
            books, trades = market.advance_to(until_us)
            venue, symbol = cast(Venue, market.spec.venue), market.spec.symbol
            for i in range(0, len(books), size):
                out.append(
                    MarketBatch(
                        venue=venue,
                        symbol=symbol,
                        source="simulator",
                        books=books[i : i + size],
                    )
                )
            for i in range(0, len(trades), size):
                out.append(
                    MarketBatch(
                        venue=venue,
                        symbol=symbol,
                        source="simulator",
                        trades=trades[i : i + size],
                    )
                )
        self.now_us = max(self.now_us, until_us)
        return out


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds
