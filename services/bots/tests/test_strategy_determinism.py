"""Determinism: the same candles give the same intents, byte for byte; and the golden series.

The golden file (data/golden_ma_crossover.json) holds every intent of an EMA 9/21 crossover with a
fixed-fraction sizer on the committed synthetic series (data/candles_btc_usdt_1h.json). A change
of any of them is a change of behaviour: if it is meant, rewrite the file with
``PLUTARC_UPDATE_GOLDEN=1 .venv/bin/pytest services/bots/tests/test_strategy_determinism.py``
and say why in the commit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import msgspec
import pytest
from plutarc_bots.strategy import Candle, compile, indicators
from plutarc_contracts.bots import StrategySpec

from .strategy_helpers import DATA, recorded, ref

GOLDEN = DATA / "golden_ma_crossover.json"
GOLDEN_SPEC = StrategySpec(
    timeframe="1h",
    components=[
        ref("ma_crossover", kind="ema", fast=9, slow=21),
        ref("fixed_fraction", fraction=0.25, min_notional=10, quantity_decimals=5),
    ],
)

# Between them, every component of the library.
SPECS = [
    GOLDEN_SPEC,
    StrategySpec(
        timeframe="1h",
        components=[
            ref("ma_crossover", kind="sma", fast=12, slow=48),
            ref("rsi_reversion", period=14, low=35, high=65),
            ref("breakout", period=24, exit_period=12),
            ref("fixed_fraction", fraction=0.2, max_notional=2_500),
        ],
    ),
    StrategySpec(
        timeframe="1h",
        components=[
            ref("grid", levels=8, spacing_pct=1.25),
            ref("dca", every=36, drop_pct=3, take_profit_pct=4, max_orders=5),
            ref("fixed_fraction", fraction=0.05, min_notional=25),
        ],
    ),
]


def encoded(spec: StrategySpec, candles: list[Candle]) -> bytes:
    strategy = compile(spec)
    intents = [intent for c in candles for intent in strategy.on_candle(c)]
    return msgspec.json.encode(intents)


@pytest.mark.parametrize("spec", SPECS, ids=["golden", "signals", "grid+dca"])
def test_two_runs_give_identical_intents(spec: StrategySpec) -> None:
    candles = recorded()
    first = encoded(spec, candles)
    assert len(msgspec.json.decode(first)) >= 5
    assert encoded(spec, candles) == first


def test_every_component_emits_on_the_recorded_series() -> None:
    candles = recorded()
    seen = {
        intent["component"]
        for spec in SPECS
        for intent in msgspec.json.decode(encoded(spec, candles))
    }
    assert seen == {"ma_crossover", "rsi_reversion", "breakout", "grid", "dca"}


def test_trimming_talipp_history_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    candles = recorded()
    monkeypatch.setattr(indicators, "PURGE_EVERY", 1)
    every_candle = [encoded(spec, candles) for spec in SPECS]
    monkeypatch.setattr(indicators, "PURGE_EVERY", 10**9)
    assert [encoded(spec, candles) for spec in SPECS] == every_candle


def _golden_text(intents: bytes) -> str:
    rows = ",\n".join("    " + json.dumps(row) for row in json.loads(intents))
    return (
        "{\n"
        '  "candles": "candles_btc_usdt_1h.json",\n'
        f'  "spec": {msgspec.json.encode(GOLDEN_SPEC).decode()},\n'
        '  "cash": "10000",\n'
        '  "intents": [\n' + rows + "\n  ]\n}\n"
    )


def test_the_golden_crossover_series() -> None:
    text = _golden_text(encoded(GOLDEN_SPEC, recorded()))
    if os.environ.get("PLUTARC_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_another_process_with_another_hash_seed_gives_the_same_bytes() -> None:
    script = (
        "import sys, msgspec\n"
        "from services.bots.tests import test_strategy_determinism as t\n"
        "from services.bots.tests.strategy_helpers import recorded\n"
        "sys.stdout.buffer.write(msgspec.json.encode([t.encoded(s, recorded()) for s in t.SPECS]))\n"
    )
    root = DATA.parents[3]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, check=True
    )
    candles = recorded()
    assert done.stdout == msgspec.json.encode([encoded(spec, candles) for spec in SPECS])
