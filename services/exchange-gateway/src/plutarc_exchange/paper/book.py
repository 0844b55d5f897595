"""One side of an order book as the paper engine sees it: the venue's displayed amounts, what our
own taker fills took from them, and the public volume traded at each price since its last update.

The venue never sees a paper fill, so its book keeps showing liquidity a paper order took. That
amount is ``consumed`` at the level and is not available to the next order until book updates show
the market moved through it: a decrease of the displayed amount at the level uses up the consumed
amount first (the front of the queue, where our fill took from, is what trades and leaves first),
and the level's disappearance clears it. An increase leaves it alone (new orders join the back).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from decimal import Decimal

ZERO = Decimal(0)


class BookSide:
    __slots__ = ("bids", "consumed", "levels", "prices", "traded")

    def __init__(self, *, bids: bool) -> None:
        self.bids = bids
        self.levels: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []  # ascending, whatever the side
        self.consumed: dict[Decimal, Decimal] = {}
        self.traded: dict[Decimal, Decimal] = {}

    def displayed(self, price: Decimal) -> Decimal:
        return self.levels.get(price, ZERO)

    def available(self, price: Decimal) -> Decimal:
        shown = self.levels.get(price, ZERO)
        taken = self.consumed.get(price)
        if taken is None:
            return shown
        return shown - taken if taken < shown else ZERO

    def best_first(self) -> Iterator[Decimal]:
        return reversed(self.prices) if self.bids else iter(self.prices)

    def walk(self) -> Iterator[tuple[Decimal, Decimal]]:
        """(price, available amount) from the best price outwards, levels with nothing left
        skipped."""
        consumed = self.consumed
        levels = self.levels
        for price in self.best_first():
            shown = levels[price]
            taken = consumed.get(price)
            if taken is None:
                yield price, shown
            elif taken < shown:
                yield price, shown - taken

    def best(self) -> Decimal | None:
        for price, _ in self.walk():
            return price
        return None

    def take(self, price: Decimal, amount: Decimal) -> None:
        self.consumed[price] = self.consumed.get(price, ZERO) + amount

    def note_trade(self, price: Decimal, amount: Decimal) -> None:
        self.traded[price] = self.traded.get(price, ZERO) + amount

    def put(self, price: Decimal, amount: Decimal) -> tuple[Decimal, Decimal]:
        """Replace the amount at one price; returns (amount before, public volume traded there
        since the level's previous update)."""
        old = self.levels.get(price, ZERO)
        traded = self.traded.pop(price, ZERO) if self.traded else ZERO
        if amount > 0:
            if not old:
                insort(self.prices, price)
            self.levels[price] = amount
        elif old:
            del self.levels[price]
            del self.prices[bisect_left(self.prices, price)]
        self._settle(price, old, amount)
        return old, traded

    def replace(
        self, levels: dict[Decimal, Decimal], watched: set[Decimal]
    ) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
        """A snapshot: the whole side anew. Returns (price, before, after, traded) for each price in
        ``watched`` (where paper orders rest)."""
        old_levels = self.levels
        traded = self.traded
        changes = [
            (p, old_levels.get(p, ZERO), levels.get(p, ZERO), traded.get(p, ZERO)) for p in watched
        ]
        for price in list(self.consumed):
            self._settle(price, old_levels.get(price, ZERO), levels.get(price, ZERO))
        self.levels = levels
        self.prices = sorted(levels)
        self.traded = {}
        return changes

    def _settle(self, price: Decimal, old: Decimal, new: Decimal) -> None:
        taken = self.consumed.get(price)
        if taken is None:
            return
        if not new:
            del self.consumed[price]
        elif new < old:
            left = taken - (old - new)
            if left > 0:
                self.consumed[price] = left
            else:
                del self.consumed[price]
