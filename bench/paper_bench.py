"""The paper fill engine alone, on one core (the gateway's goal, issue 11: >= 5,000 paper orders/s
end to end, so the engine must be far faster).

A seeded market (a BTC/USDT-like book, 20 levels a side, tick 0.1, step 0.001) is built once in
memory: one-level book updates near the top, public trades, and a new snapshot now and then. The
engine runs with a 5 ms lognormal latency, so every order goes through the in-flight heap.

- market orders: each order walks the book (the liquidity it took stays taken until updates move
  through it); orders/s counts `submit` calls and the fills they produce, with the market data
  between them outside the timer.
- mixed: 60 % limit orders near the top (they rest, fill from trades behind their queue, some take
  on arrival), 25 % market, 15 % cancels, interleaved with the market data; orders/s is orders over
  the whole loop's time (market data included) and over the time in `submit`/`cancel` alone.
- book update cost: a one-level update and a 20+20 level snapshot, with 0 and 200 resting orders;
  and a public trade reaching 200 resting orders.
Each figure is the median of `repeats` runs.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from plutarc_contracts.market import BookUpdate, Trade
from plutarc_exchange.paper import LatencyModel, MarketRules, PaperEngine, PaperOrder

GOAL = 5_000
RULES = MarketRules(
    base="BTC",
    quote="USDT",
    price_tick=Decimal("0.1"),
    amount_step=Decimal("0.001"),
    min_amount=Decimal("0.001"),
    min_notional=Decimal("5"),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.001"),
)
LATENCY = LatencyModel(median_ms=5, sigma=0.5, floor_ms=1)
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TICK = Decimal("0.1")


def _size(rng: random.Random) -> str:
    return str(Decimal(rng.randint(1, 2000)) / 1000)


def _snapshot(rng: random.Random, mid: int, seq: int, at: datetime) -> BookUpdate:
    bids = [(str(TICK * (mid - i)), _size(rng)) for i in range(1, 21)]
    asks = [(str(TICK * (mid + i)), _size(rng)) for i in range(1, 21)]
    return BookUpdate(sequence=seq, at=at, snapshot=True, bids=bids, asks=asks)


def _market(count: int, seed: int = 7) -> list[BookUpdate | Trade]:
    rng = random.Random(seed)
    mid = 640_000
    out: list[BookUpdate | Trade] = [_snapshot(rng, mid, 0, T0)]
    for i in range(1, count):
        at = T0 + timedelta(milliseconds=i)
        r = rng.random()
        if r < 0.3:
            side = "buy" if rng.random() < 0.5 else "sell"
            price = TICK * (mid + rng.randint(1, 2) if side == "buy" else mid - rng.randint(1, 2))
            amount = _size(rng)
            out.append(
                Trade(trade_id=str(i), at=at, price=str(price), amount=amount, side=side)  # type: ignore[arg-type]
            )
        elif r < 0.99:
            level = rng.randint(1, 20)
            amount = "0" if rng.random() < 0.1 else _size(rng)
            if rng.random() < 0.5:
                out.append(
                    BookUpdate(sequence=i, at=at, bids=[(str(TICK * (mid - level)), amount)])
                )
            else:
                out.append(
                    BookUpdate(sequence=i, at=at, asks=[(str(TICK * (mid + level)), amount)])
                )
        else:
            mid += rng.choice((-1, 1))
            out.append(_snapshot(rng, mid, i, at))
    return out


def _engine() -> PaperEngine:
    e = PaperEngine(RULES, latency=LATENCY, seed=1)
    e.deposit("bot", "USDT", "1000000000")
    e.deposit("bot", "BTC", "100000")
    return e


def _feed(e: PaperEngine, item: BookUpdate | Trade) -> int:
    return len(e.on_book(item) if isinstance(item, BookUpdate) else e.on_trade(item))


def _market_orders(stream: list[BookUpdate | Trade], per_item: int) -> tuple[float, int]:
    e = _engine()
    rng = random.Random(3)
    orders = 0
    fills = 0
    spent = 0.0
    clock = time.perf_counter
    for i, item in enumerate(stream):
        _feed(e, item)
        for k in range(per_item):
            side = "buy" if rng.random() < 0.5 else "sell"
            order = PaperOrder(f"m{i}-{k}", side, "market", Decimal("0.05"), account="bot")  # type: ignore[arg-type]
            t0 = clock()
            reports = e.submit(order, item.at)
            reports += e.advance(item.at + timedelta(milliseconds=50))
            spent += clock() - t0
            orders += 1
            fills += sum(len(r.fills) for r in reports)
    return orders / spent, fills


def _mixed(stream: list[BookUpdate | Trade]) -> tuple[float, float, int]:
    e = _engine()
    rng = random.Random(5)
    orders = 0
    fills = 0
    in_orders = 0.0
    open_ids: list[str] = []
    clock = time.perf_counter
    start = clock()
    mid = Decimal("64000.0")
    for i, item in enumerate(stream):
        fills += _feed(e, item)
        if isinstance(item, Trade):
            mid = Decimal(item.price)
        r = rng.random()
        t0 = clock()
        if r < 0.6:
            side = "buy" if rng.random() < 0.5 else "sell"
            offset = TICK * rng.randint(0, 4)
            price = mid - offset if side == "buy" else mid + offset
            order = PaperOrder(f"l{i}", side, "limit", Decimal("0.01"), price, account="bot")  # type: ignore[arg-type]
            reports = e.submit(order, item.at)
            open_ids.append(order.order_id)
        elif r < 0.85:
            side = "buy" if rng.random() < 0.5 else "sell"
            order = PaperOrder(f"m{i}", side, "market", Decimal("0.01"), account="bot")  # type: ignore[arg-type]
            reports = e.submit(order, item.at)
        elif open_ids:
            reports = e.cancel(open_ids.pop(rng.randrange(len(open_ids))), item.at)
        else:
            continue
        in_orders += clock() - t0
        orders += 1
        fills += sum(len(r.fills) for r in reports)
    total = clock() - start
    return orders / total, orders / in_orders, fills


def _update_cost(resting: int, snapshot: bool, updates: int) -> float:
    e = _engine()
    rng = random.Random(9)
    mid = 640_000
    e.on_book(_snapshot(rng, mid, 0, T0))
    for k in range(resting):
        side = "buy" if k % 2 else "sell"
        level = 1 + k % 20
        price = TICK * (mid - level if side == "buy" else mid + level)
        e.submit(PaperOrder(f"r{k}", side, "limit", Decimal("0.01"), price, account="bot"), T0)  # type: ignore[arg-type]
    at = T0 + timedelta(seconds=1)
    if snapshot:
        batch = [_snapshot(rng, mid, i, at) for i in range(1, 51)]
    else:
        batch = [
            BookUpdate(sequence=i, at=at, bids=[(str(TICK * (mid - 1 - i % 20)), _size(rng))])
            for i in range(1, 1001)
        ]
    e.advance(at)
    clock = time.perf_counter
    t0 = clock()
    done = 0
    while done < updates:
        for u in batch:
            e.on_book(u)
        done += len(batch)
    return (clock() - t0) / done


def _trade_cost(resting: int, trades: int) -> float:
    e = _engine()
    rng = random.Random(9)
    mid = 640_000
    e.on_book(_snapshot(rng, mid, 0, T0))
    for k in range(resting):
        price = TICK * (mid - 1 - k % 20)
        e.submit(PaperOrder(f"r{k}", "buy", "limit", Decimal("1000"), price, account="bot"), T0)
    at = T0 + timedelta(seconds=1)
    e.advance(at)
    tape = [
        Trade(trade_id=str(i), at=at, price=str(TICK * (mid - 25)), amount="0.001", side="sell")
        for i in range(trades)
    ]
    clock = time.perf_counter
    t0 = clock()
    for t in tape:
        e.on_trade(t)
    return (clock() - t0) / trades


def run(quick: bool = False, items: int = 100_000, repeats: int = 3) -> Iterator[str]:
    if quick:
        items, repeats = 10_000, 1
    stream = _market(items)
    rates = [_market_orders(stream[: items // 2], 1) for _ in range(repeats)]
    rate = statistics.median(r for r, _ in rates)
    yield (
        f"paper market orders: {rate:,.0f} orders/s in submit (+fills), "
        f"{rates[0][1]:,} fills for {items // 2:,} orders; goal of the whole gateway {GOAL:,}/s: "
        f"{rate / GOAL:.0f}x"
    )
    mixed = [_mixed(stream) for _ in range(repeats)]
    whole = statistics.median(m[0] for m in mixed)
    alone = statistics.median(m[1] for m in mixed)
    yield (
        f"paper mixed (60% limit, 25% market, 15% cancel) over {items:,} market-data items: "
        f"{whole:,.0f} orders/s with the market data, {alone:,.0f} orders/s in submit/cancel, "
        f"{mixed[0][2]:,} fills"
    )
    n = 20_000 if quick else 100_000
    for resting in (0, 200):
        one = statistics.median(_update_cost(resting, False, n) for _ in range(repeats))
        snap = statistics.median(_update_cost(resting, True, n // 20) for _ in range(repeats))
        yield (
            f"paper book update, {resting} resting orders: one level {one * 1e6:.1f} us "
            f"({1 / one:,.0f}/s), 20+20 snapshot {snap * 1e6:.0f} us ({1 / snap:,.0f}/s)"
        )
    trade = statistics.median(_trade_cost(200, n // 10) for _ in range(repeats))
    yield f"paper public trade reaching 200 resting orders: {trade * 1e6:.0f} us ({1 / trade:,.0f}/s)"
