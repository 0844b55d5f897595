from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from plutarc_contracts import exchange as x
from plutarc_exchange.domain import BotAccount

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
START = {"USDT": Decimal(10000)}


def _order(account: BotAccount, side: str, quantity: str, price: str | None = None) -> str:
    order_id = str(uuid4())
    account.accept(
        x.OrderAccepted(
            workspace_id="ws",
            bot_id=account.bot_id,
            order_id=order_id,
            client_order_id=order_id[:8],
            mode="paper",
            venue="binance",
            symbol="BTC/USDT",
            side=side,  # type: ignore[arg-type]
            type="market" if price is None else "limit",
            quantity=quantity,
            price=price,
        ),
        T0,
    )
    return order_id


def _fill(order_id: str, fill_id: str, quantity: str, price: str, fee: str = "0") -> x.VenueReport:
    return x.VenueReport(
        order_id=order_id,
        fills=[
            x.Fill(
                fill_id=fill_id,
                quantity=quantity,
                price=price,
                fee=fee,
                fee_currency="USDT",
                liquidity="taker",
                at=T0,
            )
        ],
    )


def _account() -> BotAccount:
    account = BotAccount.open(workspace_id="ws", bot_id=uuid4())
    account.book("paper", "BTC/USDT", START, T0)
    return account


def _replayed(account: BotAccount) -> BotAccount:
    again = BotAccount.blank(account.id)
    for i, event in enumerate(account.collect_events(), start=1):
        again._mutate(event.payload, i, event.timestamp)
    return again


def test_positions_and_pnl_fold_from_fills_by_average_cost() -> None:
    account = _account()
    buy = _order(account, "buy", "2")
    account.report(_fill(buy, "f1", "1", "100", fee="0.1"), None, T0)
    account.report(_fill(buy, "f2", "1", "110", fee="0.1"), None, T0)
    book = account.books["paper"]
    assert book.quantity == 2 and book.average_price == 105
    sell = _order(account, "sell", "3")
    account.report(_fill(sell, "f3", "3", "120", fee="0.3"), None, T0)
    # closed 2 at 120 over 105: +30; fees 0.5; then short 1 at 120
    assert book.quantity == -1 and book.average_price == 120
    assert book.realised == Decimal("29.5") and book.fees == Decimal("0.5")
    assert book.balances["USDT"] == Decimal(10000) - 210 + 360 - Decimal("0.5")
    assert book.balances["BTC"] == -1
    positions = [e.payload for e in account._pending if isinstance(e.payload, x.PositionChanged)]
    assert [p.quantity for p in positions] == ["1", "2", "-1"]
    assert not account.orders  # both filled, out of the state
    replayed = _replayed(account)
    assert replayed.books["paper"] == book


def test_a_fill_reported_twice_counts_once_and_never_beyond_the_order() -> None:
    account = _account()
    buy = _order(account, "buy", "1", "100")
    account.report(_fill(buy, "f1", "0.4", "100"), None, T0)
    account.report(_fill(buy, "f1", "0.4", "100"), None, T0)
    assert account.orders[buy].filled == Decimal("0.4")
    account.report(_fill(buy, "f2", "5", "100"), None, T0)
    filled = [e.payload for e in account._pending if isinstance(e.payload, x.OrderFilled)]
    assert [f.fill.quantity for f in filled] == ["0.4", "0.6"]
    assert filled[-1].status == "filled" and filled[-1].remaining == "0"
    assert buy not in account.orders


def test_a_daily_loss_beyond_the_limit_halts_entries_until_the_next_utc_day() -> None:
    account = _account()
    buy = _order(account, "buy", "1")
    account.report(_fill(buy, "f1", "1", "100"), Decimal(50), T0)
    sell = _order(account, "sell", "1")
    account.report(_fill(sell, "f2", "1", "40"), Decimal(50), T0)
    halts = [e.payload for e in account._pending if isinstance(e.payload, x.EntriesHalted)]
    assert len(halts) == 1 and halts[0].loss == "60" and halts[0].threshold == "50"
    assert halts[0].until == datetime(2026, 12, 4, tzinfo=UTC)
    book = account.books["paper"]
    assert book.halted(T0) and not book.halted(T0 + timedelta(days=1))
    assert _replayed(account).books["paper"].halted(T0)


def test_a_cancel_closes_the_order_with_what_remained() -> None:
    account = _account()
    buy = _order(account, "buy", "1", "100")
    account.report(_fill(buy, "f1", "0.25", "100"), None, T0)
    account.cancel(buy, "requested", T0)
    cancelled = account._pending[-1].payload
    assert isinstance(cancelled, x.OrderCancelled) and cancelled.remaining == "0.75"
    assert buy not in account.orders
