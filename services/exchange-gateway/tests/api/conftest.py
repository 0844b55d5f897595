"""The exchange API module's tests run on the platform with a gateway beside it (e2e/exchange.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[4]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from e2e.exchange import Exchange, exchange  # noqa: E402, F401

__all__ = ["Exchange"]
