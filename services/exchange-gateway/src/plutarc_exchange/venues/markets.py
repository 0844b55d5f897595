"""Market snapshots: a few markets per venue in ccxt's unified shape, kept in the repository for
when the venue cannot be reached (and for paper trading without a network).

Each ``snapshots/<venue>.json`` records where its markets came from (repository, path, commit)
and when they were taken. ccxt's own snapshots (ts/src/test/static/markets/) were written in
different precision modes over the years; ``precision_mode: decimal_places`` marks one whose
``precision`` counts decimal places, converted here to the tick sizes ccxt 4.5.83 uses for every
plutarc venue, so ``set_markets`` gets what ``load_markets`` would have produced.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

import msgspec
from plutarc_contracts.bots import MarketKind


class SnapshotSource(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    repo: str
    path: str
    commit: str
    taken: str
    precision_mode: Literal["tick_size", "decimal_places"]
    notes: str = ""


class Snapshot(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    venue: str
    source: SnapshotSource
    markets: dict[MarketKind, dict[str, dict[str, Any]]]


class MarketRules(msgspec.Struct, frozen=True):
    """What the paper engine and the risk gate need of a market; None where the venue sets no
    such rule."""

    symbol: str
    price_tick: str | None
    amount_step: str | None
    min_amount: str | None
    min_notional: str | None
    maker_fee: str | None
    taker_fee: str | None
    contract_size: str | None


@cache
def snapshot(venue: str) -> Snapshot:
    path = resources.files(__package__).joinpath("snapshots", f"{venue}.json")
    return msgspec.json.decode(path.read_bytes(), type=Snapshot)


def snapshot_markets(venue: str, kind: MarketKind) -> dict[str, dict[str, Any]]:
    """The snapshot's markets of ``kind``, ready for ``exchange.set_markets`` (a fresh copy)."""
    snap = snapshot(venue)
    markets = copy.deepcopy(snap.markets.get(kind, {}))
    if snap.source.precision_mode == "decimal_places":
        for market in markets.values():
            precision = market.get("precision", {})
            for key, places in list(precision.items()):
                if isinstance(places, int | float):
                    precision[key] = float(Decimal(1).scaleb(-int(places)))
    return markets


def rules_of(market: dict[str, Any]) -> MarketRules:
    """The rules of one unified market (as ``load_markets`` or ``set_markets`` left it)."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}

    def text(value: Any) -> str | None:
        return None if value is None else format(Decimal(str(value)).normalize(), "f")

    return MarketRules(
        symbol=market["symbol"],
        price_tick=text(precision.get("price")),
        amount_step=text(precision.get("amount")),
        min_amount=text((limits.get("amount") or {}).get("min")),
        min_notional=text((limits.get("cost") or {}).get("min")),
        maker_fee=text(market.get("maker")),
        taker_fee=text(market.get("taker")),
        contract_size=text(market.get("contractSize")),
    )
