"""Replays: the same seed, market data and orders give identical reports; invariants hold for any
sequence (hypothesis)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Literal

import msgspec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from plutarc_contracts.exchange import VenueReport
from plutarc_contracts.market import BookUpdate, Trade
from plutarc_exchange.paper import LatencyModel, PaperEngine, PaperOrder

from .helpers import RULES, D, at, market_stream

JITTER = LatencyModel(median_ms=8, sigma=0.8, floor_ms=1)


def drive(seed: int, stream: list[BookUpdate | Trade], order_seed: int) -> tuple[bytes, list[str]]:
    e = PaperEngine(RULES, latency=JITTER, seed=seed)
    e.deposit("a", "USDT", "1000000")
    e.deposit("a", "BTC", "100")
    rng = random.Random(order_seed)
    reports: list[VenueReport] = []
    sent: list[str] = []
    for i, item in enumerate(stream):
        reports += e.on_book(item) if isinstance(item, BookUpdate) else e.on_trade(item)
        if rng.random() < 0.2:
            order_id = f"o{i}"
            side: Side = rng.choice(["buy", "sell"])
            quantity = D(rng.randint(1, 200)) / 100
            if rng.random() < 0.3:
                order = PaperOrder(order_id, side, "market", quantity, account="a")
            else:
                price = D("0.1") * (1000 + rng.randint(-6, 6))
                order = PaperOrder(order_id, side, "limit", quantity, price, account="a")
            reports += e.submit(order, item.at)
            sent.append(order_id)
        if sent and rng.random() < 0.05:
            reports += e.cancel(rng.choice(sent), item.at)
    reports += e.cancel_all("a", stream[-1].at)
    reports += e.advance(at(10**9))
    return msgspec.json.encode([reports, e.balances("a")]), sent


def test_two_runs_give_identical_reports() -> None:
    stream = market_stream(3, 3000)
    first, sent = drive(11, stream, 5)
    second, _ = drive(11, stream, 5)
    assert first == second
    decoded = msgspec.json.decode(first)
    fills = [f for r in decoded[0] for f in r.get("fills", [])]
    assert len(sent) > 400 and len(fills) > 200  # the run did trade, at both liquidities
    assert {f["liquidity"] for f in fills} == {"maker", "taker"}


def test_another_latency_seed_gives_another_run() -> None:
    stream = market_stream(3, 1500)
    assert drive(11, stream, 5)[0] != drive(12, stream, 5)[0]


Side = Literal["buy", "sell"]
SIDES: dict[str, Side] = {"buy": "buy", "sell": "sell"}
ORDERS = st.tuples(
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(["market", "limit", "post_only", "reduce_only", "cancel"]),
    st.integers(-5, 5),  # price offset in ticks from 100.0
    st.integers(1, 300),  # quantity in hundredths
)
DATA = st.tuples(
    st.sampled_from(["bid", "ask", "trade_buy", "trade_sell", "snapshot"]),
    st.just(""),
    st.integers(-5, 5),
    st.integers(0, 400),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(ORDERS, DATA), min_size=5, max_size=120), st.integers(0, 3))
def test_invariants_hold_for_any_sequence(ops: list[tuple[str, str, int, int]], seed: int) -> None:
    e = PaperEngine(RULES, latency=LatencyModel(median_ms=3, sigma=1.0), seed=seed)
    start = {"USDT": D(2000), "BTC": D(5)}
    for currency, amount in start.items():
        e.deposit("a", currency, amount)
    e.on_book(
        BookUpdate(
            sequence=0,
            at=at(0),
            snapshot=True,
            bids=[("100.0", "1"), ("99.9", "2")],
            asks=[("100.1", "1"), ("100.2", "2")],
        )
    )
    quantities: dict[str, Decimal] = {}
    sides: dict[str, str] = {}
    filled: dict[str, Decimal] = {}
    held = dict(start)
    for i, op in enumerate(ops, start=1):
        now = at(i)
        what, kind, offset, q = op
        if what in SIDES:
            side = SIDES[what]
            order_id = f"o{i}"
            quantity = D(q) / 100
            price = D("100.0") + D("0.1") * offset
            if kind == "cancel":
                reports = e.cancel(f"o{max(1, i - 3)}", now)
            else:
                order = PaperOrder(
                    order_id,
                    side,
                    "market" if kind == "market" else "limit",
                    quantity,
                    None if kind == "market" else price,
                    post_only=kind == "post_only",
                    reduce_only=kind == "reduce_only",
                    account="a",
                )
                quantities[order_id] = quantity
                sides[order_id] = side
                reports = e.submit(order, now)
        else:
            level = str(D("100.0") + D("0.1") * offset)
            size = str(D(q) / 100)
            if what == "bid":
                reports = e.on_book(BookUpdate(sequence=i, at=now, bids=[(level, size)]))
            elif what == "ask":
                reports = e.on_book(BookUpdate(sequence=i, at=now, asks=[(level, size)]))
            elif what == "snapshot":
                top = D("100.0") + D("0.1") * min(offset, 0)
                bids = [(str(top - D("0.1") * k), size) for k in range(3)]
                asks = [(str(top + D("0.1") * (k + 1)), size) for k in range(3)]
                snapshot = BookUpdate(sequence=i, at=now, snapshot=True, bids=bids, asks=asks)
                reports = e.on_book(snapshot)
            else:
                taker: Side = "buy" if what == "trade_buy" else "sell"
                trade = Trade(trade_id=str(i), at=now, price=level, amount=size, side=taker)
                reports = e.on_trade(trade)
                makers = sum(
                    (D(f.quantity) for r in reports for f in r.fills if f.liquidity == "maker"),
                    D(0),
                )
                assert makers <= D(size)
        for r in reports:
            for f in r.fills:
                qty, x, fee = D(f.quantity), D(f.price), D(f.fee)
                filled[r.order_id] = filled.get(r.order_id, D(0)) + qty
                assert filled[r.order_id] <= quantities[r.order_id]
                sign = 1 if sides[r.order_id] == "buy" else -1
                held["BTC"] += sign * qty
                held["USDT"] -= sign * qty * x + fee
        for b in e.balances("a"):
            assert D(b.free) >= 0 and D(b.reserved) >= 0, b
            assert D(b.free) + D(b.reserved) == held[b.currency]
    event("some order filled" if filled else "no fill")
    e.cancel_all("a", at(len(ops) + 1))
    e.advance(at(10**6))
    assert e.reserved("a", "USDT") == 0 and e.reserved("a", "BTC") == 0
    assert e.open_orders() == []
