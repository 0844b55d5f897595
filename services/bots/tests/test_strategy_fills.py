"""The strategy's own book with real fills (paper=False): intents stay pending until filled."""

from __future__ import annotations

from decimal import Decimal

from plutarc_bots.strategy import Fill, compile

from .strategy_helpers import HALF, run, series, spec

RSI = {"component": "rsi_reversion", "params": {"period": 3, "low": 30, "high": 70}}
# RSI 3 is under 30 from candle 6 to 8 and over 70 from candle 11.
CLOSES = [10, 11, 12, 13, 14, 12, 10, 8, 7, 8, 10, 12, 14, 16]


def test_an_entry_stays_pending_until_filled_and_holds_its_cash() -> None:
    s = compile(spec(RSI, HALF), paper=False)
    candles = series(CLOSES)
    intents = run(s, candles[:9])
    assert [(i, x.side, x.quantity) for i, x in intents] == [(6, "buy", Decimal(500))]
    assert s.book.cash == Decimal(5_000)  # held for the order
    assert s.book.position() == 0

    buy = intents[0][1]
    s.on_fill(Fill(intent_id=buy.id, quantity=Decimal(200), price=Decimal("9.9")))
    s.on_fill(Fill(intent_id=buy.id, quantity=Decimal(300), price=Decimal(10)))
    assert s.book.position() == Decimal(500)
    assert s.book.cash == Decimal(5_020)  # paid 1,980 + 3,000
    assert s.book.lots[0][0].price == Decimal("9.96")

    sells = run(s, candles[9:])
    assert [(i, x.side, x.quantity) for i, x in sells] == [(11, "sell", Decimal(500))]
    s.on_fill(Fill(intent_id=sells[0][1].id, quantity=Decimal(500), price=Decimal(12)))
    assert s.book.position() == 0
    assert s.book.cash == Decimal(11_020)


def test_a_cancelled_entry_gives_its_cash_back_and_entries_resume() -> None:
    s = compile(spec(RSI, HALF), paper=False)
    candles = series(CLOSES)
    (_, buy), *_ = run(s, candles[:7])
    s.on_fill(Fill(intent_id=buy.id, quantity=Decimal(100), price=Decimal(10)))
    s.on_cancel(buy.id)
    assert s.book.cash == Decimal(9_000)  # 100 paid at 10; the other 400's 4,000 is back
    assert s.book.position() == Decimal(100)
    # The lot it has closes on the way up; no new entry while holding.
    assert [(i, x.side) for i, x in run(s, candles[7:])] == [(11, "sell")]


def test_fills_of_unknown_intents_are_ignored() -> None:
    s = compile(spec(RSI, HALF), paper=False)
    s.on_fill(Fill(intent_id="0-0", quantity=Decimal(1), price=Decimal(1)))
    s.on_cancel("0-0")
    assert (s.book.cash, s.book.position()) == (Decimal(10_000), 0)
