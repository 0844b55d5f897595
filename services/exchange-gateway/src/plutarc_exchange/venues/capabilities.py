"""The capability table: what each venue is in ccxt's terms, as data (capabilities.json).

Every venue quirk the gateway knows lives in the table, never in an ``if venue == ...`` branch:
which ccxt id and options serve live and testnet for each market kind (``testnet`` is null where
the venue has none), the client-order-id parameter, its length, alphabet and how to look an order
up by it, the default-tier fees and the paper engine's latency guess. docs/venues.md renders it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import msgspec
from plutarc_contracts.bots import MarketKind, Venue

Environment = Literal["live", "testnet"]
IdFormat = Literal["hex", "uuid"]
LookupMethod = Literal["fetch_order", "fetch_orders", "fetch_open_orders", "fetch_closed_orders"]


class _Data(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class Endpoint(_Data, frozen=True):
    """One ccxt class serving one (market kind, environment); ``sandbox`` switches ccxt to the
    venue's test URLs (``urls['test']``)."""

    ccxt_id: str
    options: dict[str, Any] = {}
    sandbox: bool = False
    note: str = ""


class KindEndpoints(_Data, frozen=True):
    live: Endpoint | None
    """None only for a venue that closed (`VenueCapabilities.closed`)."""
    testnet: Endpoint | None
    note: str = ""


class Lookup(_Data, frozen=True):
    """One ccxt call that may find an order by its client id; ``{client_order_id}`` in a param
    value is replaced by the id."""

    method: LookupMethod
    params: dict[str, Any] = {}


class ClientOrderIdRule(_Data, frozen=True):
    param: str
    max_length: int
    pattern: str
    format: IdFormat
    prefix: str
    lookup: list[Lookup]
    client_id_path: list[str] = msgspec.field(default_factory=lambda: ["clientOrderId"])
    """Where the id is in ccxt's parsed order (Deribit's parser drops its ``label``: it stays
    in ``info``)."""
    note: str = ""


class Fee(_Data, frozen=True):
    maker: str
    taker: str


class Latency(_Data, frozen=True):
    median_ms: float
    spread_ms: float


class VenueCapabilities(_Data, frozen=True):
    name: str
    kinds: dict[MarketKind, KindEndpoints]
    client_order_id: ClientOrderIdRule
    fees: dict[MarketKind, Fee]
    latency: Latency
    fetch_order_params: dict[str, Any] = {}
    closed: str | None = None
    """The day the venue stopped trading: its markets remain on paper (snapshot and paper
    engine), nothing reaches it."""

    def endpoint(self, kind: MarketKind, environment: Environment) -> Endpoint | None:
        """The endpoint serving ``kind`` in ``environment``; None when the venue has no such
        testnet. A kind the venue does not trade raises KeyError."""
        endpoints = self.kinds[kind]
        return endpoints.live if environment == "live" else endpoints.testnet


class CapabilityTable(_Data, frozen=True):
    ccxt_version: str
    checked: str
    fee_source: str
    latency_source: str
    venues: dict[Venue, VenueCapabilities]

    def venue(self, venue: str) -> VenueCapabilities:
        try:
            return self.venues[venue]  # type: ignore[index]
        except KeyError:
            raise KeyError(f"unknown venue {venue!r}") from None


@cache
def capability_table() -> CapabilityTable:
    raw = resources.files(__package__).joinpath("capabilities.json").read_bytes()
    return msgspec.json.decode(raw, type=CapabilityTable)
