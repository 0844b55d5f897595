"""The capability table against installed ccxt, the snapshots through set_markets, client ids,
testnet refusals and the backoff schedule."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

import ccxt
import ccxt.async_support as ccxt_async
import pytest
from plutarc_contracts.bots import VENUES
from plutarc_exchange.venue_table import VenueTable
from plutarc_exchange.venues import errors
from plutarc_exchange.venues.capabilities import capability_table
from plutarc_exchange.venues.client import VenueClient, client_id_of, rewrite_urls
from plutarc_exchange.venues.client_ids import (
    ClientOrderIdError,
    command_id_from,
    derive_client_order_id,
)
from plutarc_exchange.venues.markets import rules_of, snapshot, snapshot_markets
from plutarc_exchange.venues.retry import Backoff, RetryPolicy

from .conftest import Sleeps

TABLE = capability_table()
ENDPOINTS = [
    (venue, kind, environment)
    for venue, caps in TABLE.venues.items()
    for kind in caps.kinds
    for environment in ("live", "testnet")
]


def test_the_table_covers_every_plutarc_venue_and_says_which_ccxt() -> None:
    assert set(TABLE.venues) == set(VENUES)
    assert TABLE.ccxt_version == ccxt.__version__


def test_a_closed_venue_serves_paper_only() -> None:
    bitmex = TABLE.venue("bitmex")
    assert bitmex.closed == "2026-09-23"
    assert all(k.live is None and k.testnet is None for k in bitmex.kinds.values())
    assert "bitmex" not in ccxt.exchanges, "ccxt removed it after the closure"
    for environment in ("live", "testnet"):
        with pytest.raises(errors.VenueClosed, match="paper only"):
            VenueClient("bitmex", environment, "perpetual", {})  # type: ignore[arg-type]
    assert snapshot_markets("bitmex", "perpetual"), "its markets remain for paper"
    open_venues = [v for v, caps in TABLE.venues.items() if caps.closed is None]
    for venue in open_venues:
        assert all(k.live is not None for k in TABLE.venue(venue).kinds.values()), venue


@pytest.mark.parametrize(("venue", "kind", "environment"), ENDPOINTS)
def test_every_ccxt_id_and_test_url_exists_in_installed_ccxt(
    venue: str, kind: str, environment: str
) -> None:
    endpoint = TABLE.venues[venue].endpoint(kind, environment)  # type: ignore[index, arg-type]
    if endpoint is None:
        return
    assert endpoint.ccxt_id in ccxt.exchanges
    exchange = getattr(ccxt, endpoint.ccxt_id)()
    assert exchange.urls.get("api")
    if environment == "testnet":
        assert endpoint.sandbox
        assert exchange.urls.get("test"), f"{endpoint.ccxt_id} has no urls['test']"
        exchange.set_sandbox_mode(True)
        assert exchange.urls["api"] == exchange.urls["test"] or exchange.options.get("sandboxMode")


@pytest.mark.parametrize(
    ("venue", "kind", "ccxt_id"),
    [
        ("kucoin", "spot", "kucoin"),
        ("kucoin", "perpetual", "kucoinfutures"),
        ("kraken", "spot", "kraken"),
        ("coinbase", "spot", "coinbase"),
    ],
)
def test_venues_without_a_testnet_have_none_in_ccxt_either(
    venue: str, kind: str, ccxt_id: str
) -> None:
    assert TABLE.venues[venue].endpoint(kind, "testnet") is None  # type: ignore[index, arg-type]
    assert not getattr(ccxt, ccxt_id)().urls.get("test")


@pytest.mark.parametrize(
    ("venue", "kind"),
    [("kucoin", "spot"), ("kucoin", "perpetual"), ("kraken", "spot"), ("coinbase", "spot")],
)
def test_testnet_is_refused_pointing_to_paper(venue: str, kind: str) -> None:
    with pytest.raises(errors.NoTestnet) as caught:
        VenueClient(venue, "testnet", kind, {})  # type: ignore[arg-type]
    assert caught.value.code == "venue.no_testnet"
    assert "paper" in caught.value.message


def test_unknown_venue_and_kind_are_unsupported() -> None:
    with pytest.raises(errors.Unsupported):
        VenueClient("mtgox", "live", "spot", {})
    with pytest.raises(errors.Unsupported):
        VenueClient("binance", "live", "options", {})  # type: ignore[arg-type]


async def test_testnet_clients_use_the_test_urls() -> None:
    client = VenueClient("bybit", "testnet", "perpetual", {})
    try:
        assert "testnet" in client.exchange.urls["api"]["public"]
    finally:
        await client.close()
    okx = VenueClient("okx", "testnet", "spot", {})
    try:
        assert okx.exchange.options["sandboxMode"] is True
    finally:
        await okx.close()


async def test_proxy_settings_reach_ccxt() -> None:
    client = VenueClient("binance", "live", "spot", {}, proxy_url="http://10.1.2.3:3128")
    try:
        assert client.exchange.httpsProxy == "http://10.1.2.3:3128"
        assert client.exchange.wssProxy == "http://10.1.2.3:3128"
    finally:
        await client.close()
    socks = VenueClient("binance", "live", "spot", {}, proxy_url="socks5://10.1.2.3:1080")
    try:
        assert socks.exchange.socksProxy == "socks5://10.1.2.3:1080"
        assert socks.exchange.httpsProxy is None
    finally:
        await socks.close()


def test_url_override_keeps_paths() -> None:
    api = ccxt_async.bybit().urls["api"]
    rewritten = rewrite_urls(api, "http://127.0.0.1:9999")
    assert set(rewritten.values()) == {"http://127.0.0.1:9999"}
    binance = rewrite_urls(ccxt_async.binance().urls["api"], "https://127.0.0.1:1")
    assert binance["public"] == "https://127.0.0.1:1/api/v3"
    assert binance["fapiPrivate"] == "https://127.0.0.1:1/fapi/v1"


@pytest.mark.parametrize("venue", sorted(TABLE.venues))
def test_client_ids_fit_the_venue_and_round_trip(venue: str) -> None:
    rule = TABLE.venues[venue].client_order_id  # type: ignore[index]
    command_id = str(uuid.uuid4())
    client_id = derive_client_order_id(command_id, rule)
    assert client_id == derive_client_order_id(command_id, rule)
    assert len(client_id) <= rule.max_length
    assert command_id_from(client_id, rule) == command_id
    assert command_id_from("placed-by-hand", rule) is None


def test_client_ids_differ_per_command_and_need_a_uuid() -> None:
    rule = TABLE.venues["okx"].client_order_id
    ids = {derive_client_order_id(str(uuid.uuid4()), rule) for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.isalnum() and len(i) == 32 for i in ids)
    with pytest.raises(ClientOrderIdError):
        derive_client_order_id("not-a-uuid", rule)


@pytest.mark.parametrize("venue", sorted(TABLE.venues))
def test_every_snapshot_loads_through_set_markets_and_yields_rules(venue: str) -> None:
    snap = snapshot(venue)
    assert snap.source.repo == "ccxt/ccxt" and len(snap.source.commit) == 40
    assert snap.source.taken
    assert "spot" in snap.markets
    for kind in snap.markets:
        endpoint = TABLE.venues[venue].endpoint(kind, "live")  # type: ignore[index]
        if endpoint is None:  # a closed venue: its snapshot serves the paper engine alone
            assert TABLE.venue(venue).closed is not None
            for symbol in snap.markets[kind]:
                paper = VenueTable().rules(venue, symbol)
                assert paper.price_tick > 0 and paper.amount_step > 0
            continue
        exchange = getattr(ccxt, endpoint.ccxt_id)()
        exchange.set_markets(snapshot_markets(venue, kind))
        for symbol in snap.markets[kind]:
            rules = rules_of(exchange.market(symbol))
            assert rules.price_tick is not None and Decimal(rules.price_tick) > 0
            assert rules.amount_step is not None and Decimal(rules.amount_step) > 0
            assert rules.maker_fee is not None and rules.taker_fee is not None
            assert Decimal(exchange.price_to_precision(symbol, 12345.678912)) > 0


def test_decimal_place_snapshots_become_tick_sizes() -> None:
    exchange = ccxt.binance()
    exchange.set_markets(snapshot_markets("binance", "spot"))
    rules = rules_of(exchange.market("BTC/USDT"))
    assert (rules.price_tick, rules.amount_step, rules.min_notional) == ("0.01", "0.00001", "5")
    assert exchange.amount_to_precision("BTC/USDT", 0.123456789) == "0.12345"


async def test_unreachable_venue_falls_back_to_the_snapshot() -> None:
    client = VenueClient(
        "okx",
        "live",
        "spot",
        {},
        url_override="http://127.0.0.1:9",
        timeout_ms=500,
        retry=RetryPolicy(max_attempts=1),
    )
    try:
        assert await client.load_markets() == "snapshot"
        assert client.markets_error is not None and client.markets_error.retry_safe
        assert client.rules("BTC/USDT").price_tick == "0.1"
    finally:
        await client.close()


async def test_backoff_is_full_jitter_within_the_budget() -> None:
    sleeps = Sleeps()
    now = [0.0]

    async def sleep(seconds: float) -> None:
        await sleeps(seconds)
        now[0] += seconds

    policy = RetryPolicy(budget_s=3.0, base_s=0.5, cap_s=2.0, max_attempts=100)
    backoff = Backoff(policy, sleep, lambda: now[0], random.Random(1))
    backoff.start()
    while await backoff.wait():
        pass
    assert sum(sleeps.waits) <= 3.0
    assert all(0 <= w <= min(2.0, 0.5 * 2**i) for i, w in enumerate(sleeps.waits))
    assert len(sleeps.waits) >= 2
    again = Backoff(policy, sleep, lambda: now[0], random.Random(1))
    again.start()
    while await again.wait():
        pass
    assert again.waits[: len(backoff.waits)] == backoff.waits[: len(again.waits)]


@pytest.mark.parametrize(
    ("venue", "ccxt_id", "raw"),
    [
        (
            "deribit",
            "deribit",
            {
                "order_id": "1",
                "label": "{cid}",
                "instrument_name": "BTC-PERPETUAL",
                "order_state": "open",
            },
        ),
        (
            "coinbase",
            "coinbase",
            {
                "order_id": "1",
                "client_order_id": "{cid}",
                "product_id": "BTC-USDT",
                "status": "OPEN",
            },
        ),
        ("okx", "okx", {"ordId": "1", "clOrdId": "{cid}", "instId": "BTC-USDT", "state": "live"}),
    ],
)
def test_the_client_id_path_finds_the_id_in_ccxts_parsed_order(
    venue: str, ccxt_id: str, raw: dict[str, str]
) -> None:
    rule = TABLE.venues[venue].client_order_id  # type: ignore[index]
    client_id = derive_client_order_id(str(uuid.uuid4()), rule)
    parsed = getattr(ccxt, ccxt_id)().parse_order(
        {k: v.replace("{cid}", client_id) for k, v in raw.items()}
    )
    assert client_id_of(parsed, rule.client_id_path) == client_id
