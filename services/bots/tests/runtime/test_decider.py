"""The decision loop on simulated time with in-memory inputs (docs/bot-runtime.md)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import msgspec
from plutarc_bots.runtime import Decider, amount, intent_command_id, own_command_id
from plutarc_bots.strategy import compile
from plutarc_bots.strategy.model import Candle
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x

from .helpers import (
    BUY_CLOSE,
    CLOSES,
    HALF,
    HOUR,
    SELL_CLOSE,
    SPEC,
    T0,
    Run,
    candle,
    orders,
    sessions,
)


def bought(run: Run) -> None:
    """Start, run to the buy at candle 6's close, fill it: 500 held."""
    run.start()
    (buy,) = run.candles(CLOSES[:7])
    run.fill(buy, "10", BUY_CLOSE, position="500")


def test_each_intent_is_one_place_order_whose_id_a_restart_derives_again() -> None:
    run = Run()
    run.start()
    (buy,) = run.candles(CLOSES)  # never filled: the sell never comes, no second entry
    alone = compile(SPEC, paper=False)
    intents = [i for n, c in enumerate(CLOSES) for i in alone.on_candle(_c(n, c))]
    assert [i.candle_time for i in intents] == [int((T0 + 6 * HOUR).timestamp()) * 1000]
    assert buy.command_id == intent_command_id(run.bot, 1, intents[0].candle_time, 0)
    assert buy.at == BUY_CLOSE
    assert buy.payload == x.PlaceOrder(
        workspace_id=run.ws, bot_id=run.bot, side="buy", type="market", quantity="500"
    )


def _c(n: int, close: float) -> Candle:
    return Candle(int((T0 + n * HOUR).timestamp() * 1000), close, close, close, close, 1.0)


def test_fills_reach_the_strategy_so_its_exit_follows() -> None:
    run = Run()
    bought(run)
    (sell,) = run.candles(CLOSES, first=7)
    assert orders([sell]) == [("market", "sell", "500")]
    assert sell.at == SELL_CLOSE


def test_a_replay_sends_nothing_already_sent_and_a_fresh_one_the_same_ids() -> None:
    first = Run()
    bought(first)
    first.candles(CLOSES, first=7)
    ids = [o.command_id for o in first.sent]
    assert len(ids) == 2

    def replay(sent: set[str]) -> list[str]:
        again = Run()
        again.ws, again.bot, again.strategy_id = first.ws, first.bot, first.strategy_id
        again.decider = Decider(first.bot, clock=again.clock, sent=sent)
        again.version = 0
        again.publish(SPEC)
        again._versioned(b.BotCreated, T0 - HOUR, config=again.make_config(), mode="paper")
        again.start()
        again.candles(CLOSES[:7])
        again.fill(first.sent[0], "10", BUY_CLOSE, position="500")  # its outcome, replayed
        again.candles(CLOSES, first=7)
        return [o.command_id for o in again.sent]

    assert replay(set()) == ids
    assert replay(set(ids)) == []


def test_a_stale_decision_never_sent_is_dropped_and_the_strategy_told() -> None:
    run = Run()
    run.start()
    run.clock.set(T0 + timedelta(days=2))  # the runtime was down: these candles are history
    assert run.candles(CLOSES) == []
    assert run.decider.stale == 3  # buys at candles 6, 7 and 8: each dropped gave its cash back
    assert run.decider.strategy is not None
    assert run.decider.strategy.book.cash == Decimal(10_000)


def test_stop_entries_lets_exits_run_after_the_window() -> None:
    run = Run(sessions=sessions("00:00", "08:00", "stop_entries"))
    bought(run)
    assert run.advance(T0 + 8 * HOUR) == []  # the window ends: nothing to do
    assert orders(run.candles(CLOSES, first=7)) == [("market", "sell", "500")]


def test_hold_keeps_the_position_as_it_is_after_the_window() -> None:
    run = Run(sessions=sessions("00:00", "08:00", "hold"))
    bought(run)
    assert run.advance(T0 + 8 * HOUR) == []
    assert run.candles(CLOSES, first=7) == []
    assert run.decider.held_back >= 1  # the sell at candle 11, and each one after


def test_flatten_at_the_window_end_cancels_all_and_closes_reduce_only() -> None:
    run = Run(sessions=sessions("00:00", "08:00", "flatten"))
    bought(run)
    run.advance(T0 + 7 * HOUR + timedelta(minutes=59))
    assert run.sent[1:] == []
    out = run.advance(T0 + 8 * HOUR + timedelta(seconds=1))
    end = T0 + 8 * HOUR
    assert orders(out) == [("cancel_all", "", ""), ("market reduce_only", "sell", "500")]
    assert [o.command_id for o in out] == [
        own_command_id(run.bot, 1, "flatten-cancel", end),
        own_command_id(run.bot, 1, "flatten-close", end),
    ]
    assert all(o.at == end for o in out)
    run.position("0", end + timedelta(seconds=2))
    assert run.candles(CLOSES, first=7) == []  # flat: nothing to sell, no entry outside
    assert run.advance(T0 + 20 * HOUR) == []  # a window end is carried out once


def test_entries_outside_the_window_are_held_back() -> None:
    run = Run(sessions=sessions("08:00", "16:00", "stop_entries"))
    run.start()
    out = run.candles(CLOSES)
    assert run.decider.held_back == 1  # candle 6's buy, at 07:00
    assert [o.at for o in out] == [T0 + 8 * HOUR]  # candle 7's, as the window opens


def test_entries_halted_until_the_gate_says_then_exits_still_run() -> None:
    run = Run()
    run.start()
    run.halt(T0 + 6 * HOUR, until=T0 + 8 * HOUR + timedelta(minutes=30))
    out = run.candles(CLOSES[:9])
    assert [o.at for o in out] == [T0 + 9 * HOUR]  # 07:00 and 08:00 held back, 09:00 goes
    run.fill(out[0], "7", T0 + 9 * HOUR, position="714.285714")
    run.halt(T0 + 10 * HOUR, until=T0 + 24 * HOUR)
    assert orders(run.candles(CLOSES, first=9)) == [("market", "sell", "714.285714")]


def test_positions_and_halts_are_per_mode_as_the_gateway_keeps_them() -> None:
    run = Run(sessions=sessions("00:00", "08:00", "flatten"))
    run.start()
    run.halt(T0 + HOUR, until=T0 + 24 * HOUR)  # in paper
    run.mode("testnet", T0 + 2 * HOUR)
    (buy,) = run.candles(CLOSES[:7])  # testnet's entries are not halted
    run.fill(buy, "10", BUY_CLOSE, position="500")  # testnet holds 500
    run.mode("paper", BUY_CLOSE + timedelta(minutes=1))
    assert run.decider.positions == {"testnet": Decimal(500)}
    out = run.advance(T0 + 8 * HOUR)
    assert orders(out) == [("cancel_all", "", "")]  # paper holds nothing to close


def test_a_mode_change_changes_nothing_the_strategy_computes() -> None:
    plain, toggled = Run(), Run()
    for run in (plain, toggled):
        bought(run)
    strategy = toggled.decider.strategy
    assert toggled.mode("testnet", T0 + 8 * HOUR + timedelta(minutes=5)) == []
    assert toggled.mode("paper", T0 + 10 * HOUR + timedelta(minutes=5)) == []
    assert toggled.decider.strategy is strategy
    for run in (plain, toggled):
        run.candles(CLOSES, first=7)
    assert decisions(toggled) == decisions(plain)
    assert len(decisions(plain)) == 2
    assert toggled.sent[-1].command_id != plain.sent[-1].command_id  # made under version 3, not 1


def decisions(run: Run) -> list[tuple[object, object]]:
    """What was sent and when, whoever the bot: each payload with its bot and workspace blanked."""
    return [
        (msgspec.structs.replace(o.payload, workspace_id="", bot_id=""), o.at) for o in run.sent
    ]


def test_reconfiguring_the_strategy_cancels_its_orders_and_runs_the_new_version() -> None:
    run = Run()
    faster = b.StrategySpec(
        timeframe="1h",
        components=[
            b.ComponentRef(component="rsi_reversion", params={"period": 2, "low": 40, "high": 60}),
            HALF,
        ],
    )
    run.publish(faster, version=2)
    run.start()
    run.candles(CLOSES[:4])
    at = T0 + 4 * HOUR + timedelta(minutes=10)
    out = run.reconfigure(run.make_config(version=2), at)
    assert out[0].command_id == own_command_id(run.bot, 2, "reconfigured-cancel", at)
    assert orders(out) == [("cancel_all", "", "")]
    later = run.candles(CLOSES, first=4)
    again = compile(faster, paper=False)  # warmed on candles 0-3, as the runtime does
    expected = []
    for n, close in enumerate(CLOSES):
        for intent in again.on_candle(_c(n, close)):
            if n < 4:
                again.on_cancel(intent.id)
            else:
                expected.append(intent)
    assert len(expected) == len(later) == 1  # never filled: no second entry
    assert later[0].command_id == intent_command_id(run.bot, 2, expected[0].candle_time, 0)
    assert later[0].payload.quantity == amount(expected[0].quantity)


def test_moving_to_another_market_warms_the_strategy_on_that_markets_history() -> None:
    run = Run()
    run.start()
    run.candles(CLOSES[:3])
    eth = b.MarketRef(venue="binance", symbol="ETH/USDT")
    at = T0 + 6 * HOUR + timedelta(minutes=1)
    assert orders(run.reconfigure(run.make_config(market=eth), at)) == [("cancel_all", "", "")]
    assert run.decider.markets == {"binance:ETH/USDT"}
    run.decider.add_history("binance:ETH/USDT", [candle(i, c) for i, c in enumerate(CLOSES[:6])])
    run.at(BUY_CLOSE)
    (buy,) = run.decider.candle("binance:ETH/USDT", candle(6, CLOSES[6]))
    assert buy.command_id == intent_command_id(
        run.bot, 2, int((T0 + 6 * HOUR).timestamp()) * 1000, 0
    )
    assert run.candles(CLOSES[:8], first=7) == []  # BTC's candles no longer count
    assert run.decider.last_candle == int((T0 + 6 * HOUR).timestamp()) * 1000


def test_a_reconfiguration_of_limits_only_leaves_the_strategy_running() -> None:
    run = Run()
    bought(run)
    strategy = run.decider.strategy
    risk = b.RiskLimits(max_open_orders=3)
    assert run.reconfigure(run.make_config(risk=risk), T0 + 8 * HOUR) == []
    assert run.decider.strategy is strategy
    assert orders(run.candles(CLOSES, first=7)) == [("market", "sell", "500")]


def test_a_stop_under_flatten_closes_and_a_delete_ends_the_run() -> None:
    run = Run(sessions=sessions("00:00", "23:00", "flatten"))
    bought(run)
    out = run.stop(T0 + 9 * HOUR)
    assert orders(out) == [("cancel_all", "", ""), ("market reduce_only", "sell", "500")]
    assert not run.decider.running and not run.decider.deleted
    assert run.candles(CLOSES, first=9) == []
    run.bots(b.BotDeleted(workspace_id=run.ws, bot_id=run.bot), T0 + 20 * HOUR)
    assert run.decider.deleted


def test_amounts_are_plain_decimals() -> None:
    assert [amount(Decimal(v)) for v in ("500", "0.00100", "1E+2", "1E-8", "12.5000")] == [
        "500",
        "0.001",
        "100",
        "0.00000001",
        "12.5",
    ]
