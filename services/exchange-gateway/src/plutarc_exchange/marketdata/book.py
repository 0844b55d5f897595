"""A consumer's copy of one market's order book, built from `BookUpdate`s."""

from __future__ import annotations

from decimal import Decimal

from plutarc_contracts.market import BookUpdate, Level


class SequenceGap(Exception):
    """An update was missed: the book is stale until the next snapshot."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"book update {got} arrived where {expected} was expected")
        self.expected = expected
        self.got = got


class OrderBook:
    """Applies snapshots and increments in sequence. Before the first snapshot, and after a gap
    until the next one, it is not ``ready`` and increments are ignored."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.sequence = 0
        self.ready = False

    def apply(self, update: BookUpdate) -> None:
        """Raises `SequenceGap` (and stops being ready) when ``update`` does not follow on."""
        if update.snapshot:
            self.bids = _side(update.bids)
            self.asks = _side(update.asks)
            self.sequence = update.sequence
            self.ready = True
            return
        if not self.ready:
            return
        if update.sequence != self.sequence + 1:
            self.ready = False
            raise SequenceGap(self.sequence + 1, update.sequence)
        self.sequence = update.sequence
        _merge(self.bids, update.bids)
        _merge(self.asks, update.asks)

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        return max(self.bids.items()) if self.bids else None

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        return min(self.asks.items()) if self.asks else None

    def depth(self, side: str, levels: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Levels from the top: ``"bids"`` highest first, ``"asks"`` lowest first."""
        book = self.bids if side == "bids" else self.asks
        ordered = sorted(book.items(), reverse=side == "bids")
        return ordered if levels is None else ordered[:levels]


def _side(levels: list[Level]) -> dict[Decimal, Decimal]:
    return {Decimal(p): Decimal(a) for p, a in levels if Decimal(a) != 0}


def _merge(book: dict[Decimal, Decimal], levels: list[Level]) -> None:
    for price, amount in levels:
        value = Decimal(amount)
        if value == 0:
            book.pop(Decimal(price), None)
        else:
            book[Decimal(price)] = value
