from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plutarc_contracts.market import Candle, MarketBatch, Trade
from plutarc_exchange.marketdata.candle_processor import CandleReader
from plutarc_exchange.marketdata.candles import MarketCandles, decode_state, encode_state, fold

NIGHT = datetime(2026, 3, 1, 23, 59, 59, 500_000, tzinfo=UTC)


def trade(at: datetime, price: str, amount: str = "1") -> Trade:
    return Trade(trade_id=price, at=at, price=price, amount=amount, side="buy")


def test_windows_are_aligned_to_utc_and_close_on_the_next_trade() -> None:
    state = MarketCandles()
    assert (
        fold(state, [trade(NIGHT, "10"), trade(NIGHT + timedelta(seconds=0.2), "12", "0.5")]) == []
    )
    closed = fold(state, [trade(NIGHT + timedelta(seconds=0.6), "9")])
    day = datetime(2026, 3, 1, tzinfo=UTC)
    by_width = {c.width: c for c in closed}
    assert set(by_width) == {"1s", "1m", "5m", "15m", "1h", "4h", "1d"}
    assert by_width["1d"] == Candle(
        width="1d", opens_at=day, open="10", high="12", low="10", close="12", volume="1.5", trades=2
    )
    assert by_width["4h"].opens_at == datetime(2026, 3, 1, 20, tzinfo=UTC)
    assert by_width["1s"].opens_at == datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)


def test_a_quiet_window_has_no_candle_and_a_late_trade_is_counted_not_folded() -> None:
    state = MarketCandles()
    t0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
    fold(state, [trade(t0, "5")], widths=("1s",))
    closed = fold(state, [trade(t0 + timedelta(seconds=5), "6")], widths=("1s",))
    assert [c.opens_at for c in closed] == [t0]
    assert fold(state, [trade(t0 + timedelta(seconds=1), "7")], widths=("1s",)) == []
    assert state.late == 1
    assert state.open["1s"].open == "6" and state.open["1s"].trades == 1


def test_state_round_trips_through_its_encoding() -> None:
    state = MarketCandles()
    fold(state, [trade(NIGHT, "10"), trade(NIGHT, "11")])
    state.offset = 41
    assert decode_state(encode_state(state)) == state
    assert decode_state(None) == MarketCandles()


def test_reader_passes_each_window_once() -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)

    def candle(minute: int) -> Candle:
        return Candle(
            width="1m",
            opens_at=day + timedelta(minutes=minute),
            open="1",
            high="1",
            low="1",
            close="1",
            volume="1",
            trades=1,
        )

    def batch(*minutes: int) -> MarketBatch:
        return MarketBatch(
            venue="okx", symbol="BTC/USDT", source="venue", candles=[candle(m) for m in minutes]
        )

    reader = CandleReader()
    assert len(reader.accept(batch(0, 1))) == 2
    assert reader.accept(batch(1)) == []
    assert [c.opens_at.minute for c in reader.accept(batch(1, 2))] == [2]
