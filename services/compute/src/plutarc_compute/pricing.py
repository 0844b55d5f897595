"""The per-provider price table (`prices.json` beside this module; docs/compute-aws.md says how
to update it): hourly prices of host sizes and of a kept address, with their source and date.

    hourly("aws", "t4g.small")   # Decimal("0.0168"), USD per hour
    address_hourly("aws")        # Decimal("0.005"), per public IPv4 address, idle or not

Money is `Decimal`, read from strings, never floats. A size named ``*`` prices every size of its
provider (the local provider's zero).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import msgspec

WILDCARD = "*"
PRICES_FILE = "prices.json"


class PriceTableInvalid(ValueError):
    """The price table cannot be read, or breaks a rule (named in the message)."""


class UnknownPrice(LookupError):
    """No price for this provider or size."""


class ProviderPrices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    source: str
    """Where the prices come from (a page, an announcement)."""
    taken: dt.date
    """When they were taken from it."""
    address_hourly: Decimal
    sizes: dict[str, Decimal]
    note: str = ""
    region: str | None = None


class PriceTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    currency: str
    providers: dict[str, ProviderPrices]

    def prices(self, provider: str) -> ProviderPrices:
        try:
            return self.providers[provider]
        except KeyError:
            known = ", ".join(sorted(self.providers))
            raise UnknownPrice(f"no prices for provider {provider!r} (known: {known})") from None

    def hourly(self, provider: str, size: str) -> Decimal:
        """The hourly price of one host of ``size``."""
        sizes = self.prices(provider).sizes
        if size in sizes:
            return sizes[size]
        if WILDCARD in sizes:
            return sizes[WILDCARD]
        known = ", ".join(sorted(sizes))
        raise UnknownPrice(f"no price for size {size!r} of {provider} (known: {known})")

    def address_hourly(self, provider: str) -> Decimal:
        """The hourly price of one kept address, whether a host uses it or not."""
        return self.prices(provider).address_hourly


def parse(raw: bytes | str) -> PriceTable:
    try:
        table = msgspec.json.decode(raw, type=PriceTable)
    except msgspec.ValidationError as exc:
        raise PriceTableInvalid(f"price table: {exc}") from None
    except msgspec.DecodeError as exc:
        raise PriceTableInvalid(f"price table is not JSON: {exc}") from None
    _check(table)
    return table


def _check(table: PriceTable) -> None:
    if table.currency != "USD":
        raise PriceTableInvalid(f"price table: currency must be USD, not {table.currency!r}")
    if not table.providers:
        raise PriceTableInvalid("price table: no provider")
    for name, prices in table.providers.items():
        if not prices.source.strip():
            raise PriceTableInvalid(f"price table: {name} has no source")
        if not prices.sizes:
            raise PriceTableInvalid(f"price table: {name} has no size")
        amounts = {"address_hourly": prices.address_hourly, **prices.sizes}
        for what, amount in amounts.items():
            if not amount.is_finite() or amount < 0:
                raise PriceTableInvalid(f"price table: {name} {what} is not a price: {amount}")


def load(path: Path | None = None) -> PriceTable:
    """The table at ``path``, or the one shipped beside this module."""
    if path is not None:
        try:
            return parse(path.read_bytes())
        except OSError as exc:
            raise PriceTableInvalid(f"price table {path}: {exc.strerror or exc}") from None
    return default_table()


@cache
def default_table() -> PriceTable:
    return parse(resources.files("plutarc_compute").joinpath(PRICES_FILE).read_bytes())


def hourly(provider: str, size: str) -> Decimal:
    return default_table().hourly(provider, size)


def address_hourly(provider: str) -> Decimal:
    return default_table().address_hourly(provider)
