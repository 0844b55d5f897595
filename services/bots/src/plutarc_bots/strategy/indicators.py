"""talipp's incremental indicators, kept bounded on endless streams.

talipp keeps every input and output of an indicator; `trim` purges the oldest ones (talipp's own
``purge_oldest``) once ``PURGE_EVERY`` more than an indicator needs have piled up, so a strategy's
memory stays flat however long it runs, and the purge's cost spreads over many candles.
"""

from __future__ import annotations

from typing import Any

PURGE_EVERY = 512


def keep_for(period: int) -> int:
    """Inputs an indicator of ``period`` needs to keep: its window, the value that leaves it
    (talipp's SMA subtracts it), and one more so that talipp never mistakes a trimmed history
    for a first full window (its ``exact`` checks look one value before the window)."""
    return period + 2


def trim(indicator: Any, keep: int) -> None:
    extra = len(indicator.input_values) - keep
    if extra >= PURGE_EVERY:
        indicator.purge_oldest(extra)
