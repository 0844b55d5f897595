from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from plutarc_contracts.exchange import Fill, VenueReport
from plutarc_contracts.market import BookUpdate, Trade
from plutarc_exchange.paper import LatencyModel, MarketRules, PaperEngine, PaperOrder

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
D = Decimal

RULES = MarketRules(
    base="BTC",
    quote="USDT",
    price_tick=D("0.1"),
    amount_step=D("0.001"),
    min_amount=D("0.001"),
    min_notional=D("5"),
    maker_fee=D("0.001"),
    taker_fee=D("0.002"),
)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def engine(
    rules: MarketRules = RULES,
    *,
    usdt: str = "100000",
    btc: str = "10",
    latency: LatencyModel | None = None,
    seed: int = 0,
) -> PaperEngine:
    e = PaperEngine(rules, latency=latency, seed=seed)
    if usdt != "0":
        e.deposit("a", "USDT", usdt)
    if btc != "0":
        e.deposit("a", "BTC", btc)
    return e


def book(
    bids: list[tuple[str, str]] | None = None,
    asks: list[tuple[str, str]] | None = None,
    *,
    ms: float = 0,
    snapshot: bool = False,
    seq: int = 1,
) -> BookUpdate:
    return BookUpdate(sequence=seq, at=at(ms), snapshot=snapshot, bids=bids or [], asks=asks or [])


def trade(price: str, amount: str, side: Literal["buy", "sell"], *, ms: float = 0) -> Trade:
    return Trade(
        trade_id=f"t{price}-{amount}-{ms}", at=at(ms), price=price, amount=amount, side=side
    )


def limit(
    order_id: str, side: Literal["buy", "sell"], quantity: str, price: str, **kw: bool
) -> PaperOrder:
    return PaperOrder(order_id, side, "limit", D(quantity), D(price), account="a", **kw)


def market(order_id: str, side: Literal["buy", "sell"], quantity: str, **kw: bool) -> PaperOrder:
    return PaperOrder(order_id, side, "market", D(quantity), None, account="a", **kw)


def fills(reports: list[VenueReport]) -> list[tuple[str, str, str]]:
    """(order id, quantity, price) of every fill, in order."""
    return [(r.order_id, f.quantity, f.price) for r in reports for f in r.fills]


def all_fills(reports: list[VenueReport]) -> list[Fill]:
    return [f for r in reports for f in r.fills]


def one(reports: list[VenueReport]) -> VenueReport:
    assert len(reports) == 1, reports
    return reports[0]


def seeded_book(e: PaperEngine) -> None:
    """Bids 100.0 x5, 99.9 x2; asks 100.1 x1, 100.2 x2, 100.5 x4."""
    e.on_book(
        book(
            [("100.0", "5"), ("99.9", "2")],
            [("100.1", "1"), ("100.2", "2"), ("100.5", "4")],
            snapshot=True,
        )
    )


def market_stream(seed: int, steps: int) -> list[BookUpdate | Trade]:
    """A seeded random walk of a market: a snapshot, then level changes and trades near the top."""
    import random

    rng = random.Random(seed)
    tick = D("0.1")
    mid = 1000  # in ticks
    out: list[BookUpdate | Trade] = []

    def levels(first: int, step: int) -> list[tuple[str, str]]:
        return [
            (str(tick * (first + step * i)), str(D(rng.randint(1, 400)) / 100)) for i in range(10)
        ]

    out.append(book(levels(mid - 1, -1), levels(mid + 1, 1), snapshot=True, ms=0))
    for i in range(1, steps):
        ms = i * 5
        r = rng.random()
        if r < 0.35:
            side: Literal["buy", "sell"] = rng.choice(["buy", "sell"])
            offset = rng.randint(1, 3)
            price = tick * (mid + offset if side == "buy" else mid - offset)
            out.append(trade(str(price), str(D(rng.randint(1, 300)) / 100), side, ms=ms))
        elif r < 0.95:
            level = rng.randint(1, 12)
            size = "0" if rng.random() < 0.15 else str(D(rng.randint(1, 400)) / 100)
            if rng.random() < 0.5:
                out.append(book([(str(tick * (mid - level)), size)], ms=ms, seq=i))
            else:
                out.append(book(asks=[(str(tick * (mid + level)), size)], ms=ms, seq=i))
        else:
            mid += rng.choice([-2, -1, 1, 2])
            out.append(book(levels(mid - 1, -1), levels(mid + 1, 1), snapshot=True, ms=ms, seq=i))
    return out
