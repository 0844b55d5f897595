"""The price table: data with a source and a date, read exactly, refused when malformed."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from plutarc_compute import pricing
from plutarc_compute.pricing import PriceTableInvalid, UnknownPrice


def table(**aws: Any) -> dict[str, Any]:
    entry = {
        "source": "a page",
        "taken": "2026-12-03",
        "address_hourly": "0.005",
        "sizes": {"t4g.small": "0.0168"},
    }
    return {"currency": "USD", "providers": {"aws": {**entry, **aws}}}


def test_aws_sizes_and_the_public_ipv4_charge() -> None:
    assert pricing.hourly("aws", "t4g.small") == Decimal("0.0168")
    assert pricing.hourly("aws", "t4g.medium") == Decimal("0.0336")
    assert pricing.hourly("aws", "t3.small") == Decimal("0.0208")
    assert pricing.address_hourly("aws") == Decimal("0.005")
    month = pricing.address_hourly("aws") * 24 * 30
    assert month == Decimal("3.6"), "about $3.6 a month for an idle address"


def test_every_provider_names_its_source_and_date() -> None:
    shipped = pricing.default_table()
    assert shipped.currency == "USD"
    assert set(shipped.providers) >= {"aws", "local", "memory"}
    aws = shipped.prices("aws")
    assert "aws.amazon.com/ec2/pricing/on-demand" in aws.source
    assert "aws.amazon.com/vpc/pricing" in aws.source
    assert aws.region == "us-east-1"
    for prices in shipped.providers.values():
        assert isinstance(prices.taken, dt.date) and prices.note


def test_local_is_free_at_any_size() -> None:
    assert pricing.hourly("local", "default") == 0
    assert pricing.hourly("local", "whatever-the-local-provider-calls-it") == 0
    assert pricing.address_hourly("local") == 0


def test_memory_is_priced_as_its_aws_counterparts() -> None:
    assert pricing.hourly("memory", "small") == pricing.hourly("aws", "t4g.small")
    assert pricing.hourly("memory", "medium") == pricing.hourly("aws", "t4g.medium")
    assert pricing.address_hourly("memory") == pricing.address_hourly("aws")


def test_unknown_provider_or_size_is_a_clear_error() -> None:
    with pytest.raises(UnknownPrice, match=r"provider 'gcp' \(known: aws, local, memory\)"):
        pricing.hourly("gcp", "e2-small")
    with pytest.raises(UnknownPrice, match=r"size 'x1e\.32xlarge' of aws \(known: "):
        pricing.hourly("aws", "x1e.32xlarge")
    with pytest.raises(UnknownPrice):
        pricing.address_hourly("gcp")


def test_money_is_exact() -> None:
    parsed = pricing.parse(json.dumps(table(sizes={"a": "0.1", "b": 0.2})))
    assert parsed.hourly("aws", "a") + parsed.hourly("aws", "b") == Decimal("0.3")


def test_a_table_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(table(sizes={"t4g.small": "0.02"})))
    assert pricing.load(path).hourly("aws", "t4g.small") == Decimal("0.02")
    assert pricing.load() is pricing.default_table()
    with pytest.raises(PriceTableInvalid, match=r"missing\.json"):
        pricing.load(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "not JSON"),
        (json.dumps(table(sizes={"t4g.small": "-0.01"})), "t4g.small is not a price"),
        (json.dumps(table(address_hourly="NaN")), "address_hourly is not a price"),
        (json.dumps(table(address_hourly="cheap")), "address_hourly"),
        (json.dumps(table(sizes={})), "aws has no size"),
        (json.dumps(table(source=" ")), "aws has no source"),
        (json.dumps(table(taken="last week")), "taken"),
        (json.dumps(table(hourly="0.1")), "hourly"),
        (json.dumps({**table(), "currency": "EUR"}), "currency must be USD"),
        (json.dumps({"currency": "USD", "providers": {}}), "no provider"),
    ],
)
def test_a_malformed_table_is_refused(raw: str, message: str) -> None:
    with pytest.raises(PriceTableInvalid, match=message):
        pricing.parse(raw)
