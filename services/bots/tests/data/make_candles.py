"""Write candles_btc_usdt_1h.json: 2,000 SYNTHETIC hourly BTC/USDT candles (not market data).

A fixed-seed random walk (Python's `random.Random`, Mersenne Twister: the same numbers on every
CPython): log returns with 0.6% hourly volatility and a drift that changes regime every 100-300
hours, wicks drawn beyond the open and the close, prices rounded to cents, volumes to 1e-4.
Run it again (``python services/bots/tests/data/make_candles.py``) and the file is byte-identical;
the golden intents (golden_ma_crossover.json) are computed from it.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

SEED = 20261203
COUNT = 2_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR_MS = 3_600_000
OUT = Path(__file__).with_name("candles_btc_usdt_1h.json")


def candles() -> list[list[float | int]]:
    rng = random.Random(SEED)
    price = 42_000.0
    drift = 0.0
    regime_left = 0
    rows: list[list[float | int]] = []
    for i in range(COUNT):
        if regime_left == 0:
            drift = rng.gauss(0.0, 0.0003)
            regime_left = rng.randint(100, 300)
        regime_left -= 1
        open_ = price
        close = open_ * math.exp(drift + rng.gauss(0.0, 0.006))
        high = max(open_, close) * (1.0 + abs(rng.gauss(0.0, 0.002)))
        low = min(open_, close) * (1.0 - abs(rng.gauss(0.0, 0.002)))
        volume = rng.lognormvariate(5.5, 0.5)
        row = [START_MS + i * HOUR_MS, *(round(v, 2) for v in (open_, high, low, close))]
        rows.append([*row, round(volume, 4)])
        price = round(close, 2)
    return rows


def main() -> None:
    lines = ",\n".join("    " + json.dumps(row) for row in candles())
    OUT.write_text(
        "{\n"
        '  "synthetic": "a fixed-seed random walk from make_candles.py, not market data",\n'
        '  "symbol": "BTC/USDT",\n'
        '  "timeframe": "1h",\n'
        f'  "seed": {SEED},\n'
        '  "candles": [\n' + lines + "\n  ]\n}\n"
    )


if __name__ == "__main__":
    main()
