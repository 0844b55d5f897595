"""Balances: reserved when an order opens, settled by its fills, released when it is cancelled."""

from __future__ import annotations

from .helpers import D, at, engine, limit, market, one, seeded_book, trade


def test_a_limit_buy_reserves_quote_with_its_fee_and_a_cancel_releases_it_all() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("b", "buy", "2", "99.0"), at(0))
    reserve = D(2) * D("99.0") * (1 + D("0.002"))  # the higher of the two rates
    assert e.reserved("a", "USDT") == reserve
    assert e.free("a", "USDT") == D(100000) - reserve
    assert one(e.cancel("b", at(1))).cancelled
    assert (e.reserved("a", "USDT"), e.free("a", "USDT")) == (D(0), D(100000))
    assert e.free("a", "BTC") == D(10)


def test_a_limit_sell_reserves_base() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("s", "sell", "3", "101.0"), at(0))
    assert (e.free("a", "BTC"), e.reserved("a", "BTC")) == (D(7), D(3))
    e.cancel("s", at(1))
    assert (e.free("a", "BTC"), e.reserved("a", "BTC")) == (D(10), D(0))


def test_a_partial_fill_then_cancel_settles_the_fill_and_releases_the_rest() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("b", "buy", "2", "99.0"), at(0))
    e.on_trade(trade("98.0", "0.5", "sell", ms=1))  # through our price: 0.5 at 99.0, maker
    paid = D("0.5") * D("99.0") * (1 + D("0.001"))
    assert e.reserved("a", "USDT") == D("1.5") * D("99.0") * (1 + D("0.002"))
    assert e.free("a", "BTC") == D("10.5")
    e.cancel("b", at(2))
    assert e.reserved("a", "USDT") == 0
    assert e.free("a", "USDT") == D(100000) - paid
    balances = {b.currency: (b.free, b.reserved) for b in e.balances("a")}
    assert balances == {"BTC": ("10.5", "0"), "USDT": ("99950.4505", "0")}


def test_a_filled_buy_at_a_better_price_gives_back_the_difference() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("b", "buy", "1", "100.5"), at(0))  # takes 1 at 100.1, rests nothing more
    assert e.order("b") is None
    assert e.reserved("a", "USDT") == 0
    assert e.free("a", "USDT") == D(100000) - D("100.1") - D("0.2002")


def test_a_sell_fill_pays_the_fee_from_the_proceeds() -> None:
    e = engine()
    seeded_book(e)
    e.submit(market("m", "sell", "1"), at(0))
    assert e.free("a", "USDT") == D(100000) + D(100) - D("0.2")
    assert e.free("a", "BTC") == D(9)
    assert e.position("a") == -1


def test_accounts_are_separate() -> None:
    e = engine()
    e.deposit("b", "USDT", "50")
    seeded_book(e)
    from plutarc_exchange.paper import PaperOrder

    report = one(e.submit(PaperOrder("x", "buy", "market", D(1), account="b"), at(0)))
    assert report.rejected_code == "order.insufficient_funds"
    assert e.free("b", "USDT") == D(50) and e.free("a", "USDT") == D(100000)
    assert e.open_orders("b") == []
