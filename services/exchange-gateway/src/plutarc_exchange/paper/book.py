"""One side of an order book as the paper engine sees it: the venue's displayed amounts, what our
own taker fills took from them, the public volume traded at each price since its last update, and
the decreases no trade has explained yet.

The venue never sees a paper fill, so its book keeps showing liquidity a paper order took. That
amount is ``consumed`` at the level and is not available to the next order until book updates show
the market moved through it: a decrease of the displayed amount at the level uses up the consumed
amount first (the front of the queue, where our fill took from, is what trades and leaves first),
and the level's disappearance clears it. An increase leaves it alone (new orders join the back).

A decrease that the trades seen at the price since its previous update do not explain is a
``Suspect``: books and trades come on separate streams, so the trade may still arrive. Trades at
the price within ``lag`` explain it first; what is left after the lag counts as cancels, which the
engine spreads over the queue (``Resting.cancels``).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator, Set
from datetime import datetime, timedelta
from decimal import Decimal

ZERO = Decimal(0)


class Suspect:
    __slots__ = ("amount", "since", "standing")

    def __init__(self, amount: Decimal, standing: Decimal, since: datetime) -> None:
        self.amount = amount  # not yet explained by trades
        self.standing = standing  # what stood at the level before the decrease
        self.since = since


class BookSide:
    __slots__ = ("bids", "consumed", "lag", "levels", "prices", "suspects", "traded")

    def __init__(self, *, bids: bool, lag: timedelta) -> None:
        self.bids = bids
        self.lag = lag
        self.levels: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []  # ascending, whatever the side
        self.consumed: dict[Decimal, Decimal] = {}
        self.traded: dict[Decimal, Decimal] = {}
        self.suspects: dict[Decimal, Suspect] = {}

    def displayed(self, price: Decimal) -> Decimal:
        return self.levels.get(price, ZERO)

    def available(self, price: Decimal) -> Decimal:
        shown = self.levels.get(price, ZERO)
        taken = self.consumed.get(price)
        if taken is None:
            return shown
        return shown - taken if taken < shown else ZERO

    def suspected(self, price: Decimal) -> Decimal:
        suspect = self.suspects.get(price)
        return suspect.amount if suspect is not None else ZERO

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

    def expire(self, price: Decimal, now: datetime) -> Suspect | None:
        """The suspect at ``price`` if the lag has passed: it is now cancels (the caller's to
        apply), and is gone from here."""
        suspect = self.suspects.get(price)
        if suspect is not None and now - suspect.since > self.lag:
            del self.suspects[price]
            return suspect
        return None

    def note_trade(self, price: Decimal, amount: Decimal, now: datetime) -> Suspect | None:
        """A public trade at ``price`` on this side; returns an expired suspect there."""
        expired = self.expire(price, now)
        suspect = self.suspects.get(price)
        if suspect is not None:  # the book showed this trade before the trade arrived
            explained = amount if amount < suspect.amount else suspect.amount
            suspect.amount -= explained
            amount -= explained
            if not suspect.amount:
                del self.suspects[price]
        if amount:
            self.traded[price] = self.traded.get(price, ZERO) + amount
        return expired

    def put(self, price: Decimal, amount: Decimal, now: datetime) -> tuple[Decimal, Suspect | None]:
        """Replace the amount at one price; returns the amount before and the suspect there that
        expired before this update."""
        old = self.levels.get(price, ZERO)
        if amount > 0:
            if not old:
                insort(self.prices, price)
            self.levels[price] = amount
        elif old:
            del self.levels[price]
            del self.prices[bisect_left(self.prices, price)]
        return old, self._changed(price, old, amount, now)

    def replace(
        self, levels: dict[Decimal, Decimal], now: datetime, watched: Set[Decimal]
    ) -> list[tuple[Decimal, Decimal, Suspect | None]]:
        """A snapshot: the whole side anew. Returns (price, amount before, expired suspect) for
        each price in ``watched`` (where paper orders rest); expired suspects elsewhere are
        dropped."""
        old_levels = self.levels
        changes = []
        for price in old_levels.keys() | levels.keys() | self.suspects.keys():
            old = old_levels.get(price, ZERO)
            expired = self._changed(price, old, levels.get(price, ZERO), now)
            if price in watched:
                changes.append((price, old, expired))
        self.traded = {}
        self.levels = levels
        self.prices = sorted(levels)
        return changes

    def _changed(self, price: Decimal, old: Decimal, new: Decimal, now: datetime) -> Suspect | None:
        traded = self.traded.pop(price, ZERO) if self.traded else ZERO
        expired = self.expire(price, now)
        unexplained = old - new - traded
        if unexplained > 0 and old > traded:
            suspect = self.suspects.get(price)
            if suspect is None:
                self.suspects[price] = Suspect(unexplained, old - traded, now)
            else:
                suspect.amount += unexplained
        taken = self.consumed.get(price)
        if taken is not None:
            if not new:
                del self.consumed[price]
            elif new < old:
                left = taken - (old - new)
                if left > 0:
                    self.consumed[price] = left
                else:
                    del self.consumed[price]
        return expired
