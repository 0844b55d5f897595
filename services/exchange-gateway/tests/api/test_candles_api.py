"""A bot's candles: the read model on its own (SQLite, no broker: upserted once per window, the
newest `keep` per series, anything not a market batch refused by its decoder), and the route over
HTTP on real Kafka (the bot's market at one interval, oldest first; who may read; bad interval or
limit refused with `request.invalid`, an unknown bot with `exchange.bot_not_found`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from plutarc_contracts import ContractError, default_registry
from plutarc_contracts.market import Candle, MarketBatch, encode_batch
from plutarc_exchange.api.candles import CandlesProjection, candles
from plutarc_runtime.readmodels import Projector
from plutarc_testkit.waiting import until
from sqlalchemy import Engine, create_engine, select

from e2e.exchange import Exchange
from e2e.market_feed import MarketFeed
from e2e.test_support_over_http import org_with

from .helpers import paper_bot, problem

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def candle(minute: int, close: str = "100", width: str = "1m") -> Candle:
    return Candle(
        width=width,  # type: ignore[arg-type]
        opens_at=T0 + timedelta(minutes=minute),
        open="100",
        high="101",
        low="99",
        close=close,
        volume="2",
        trades=3,
    )


def batch(*items: Candle, symbol: str = "BTC/USDT") -> MarketBatch:
    return MarketBatch(venue="binance", symbol=symbol, source="simulator", candles=list(items))


@pytest.fixture
def engine() -> Iterator[Engine]:
    e = create_engine("sqlite://")
    CandlesProjection().metadata.create_all(e)
    yield e
    e.dispose()


def stored(engine: Engine) -> list[tuple[str, str, int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(candles).order_by(candles.c.symbol, candles.c.opens_at))
        return [(r.symbol, r.width, r.opens_at.minute, r.close) for r in rows]


def test_candles_are_kept_once_per_window_and_the_newest_few_per_series(engine: Engine) -> None:
    projection = CandlesProjection(keep=3)
    with engine.begin() as conn:
        projection.apply(conn, [batch(candle(0), candle(1)), batch(candle(0, "105"))])
        projection.apply(conn, [batch(candle(0, width="5m"), symbol="ETH/USDT")])
    assert stored(engine) == [
        ("BTC/USDT", "1m", 0, "105"),
        ("BTC/USDT", "1m", 1, "100"),
        ("ETH/USDT", "5m", 0, "100"),
    ]
    with engine.begin() as conn:  # a replay after a crash, then newer windows push old ones out
        projection.apply(conn, [batch(candle(1)), batch(*(candle(m) for m in range(2, 9)))])
        projection.apply(conn, [batch(candle(9, "110"))])
    assert stored(engine) == [
        ("BTC/USDT", "1m", 7, "100"),
        ("BTC/USDT", "1m", 8, "100"),
        ("BTC/USDT", "1m", 9, "110"),
        ("ETH/USDT", "5m", 0, "100"),
    ]


def test_the_projection_decodes_market_batches_and_refuses_anything_else() -> None:
    projection = CandlesProjection()
    assert projection.decode(encode_batch(batch(candle(0)))) == batch(candle(0))
    for junk in (b"", b"{}", b'{"type": "exchange.order_filled"}'):
        with pytest.raises(ContractError) as raised:
            projection.decode(junk)
        assert raised.value.code == "market.undecodable"


def test_a_projector_reads_a_topic_with_one_decoder_only(engine: Engine) -> None:
    class Envelopes(CandlesProjection):
        name = "other"
        decode = None  # type: ignore[assignment]

    with pytest.raises(ValueError, match="decode it differently"):
        Projector(
            [CandlesProjection(), Envelopes()],
            engine,
            bootstrap="unused:9092",
            registry=default_registry(),
        )


@pytest.mark.kafka
async def test_a_bots_candles_over_http(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    viewer, _, _ = await platform.user("viewer")
    stranger, _, _ = await platform.user("stranger")
    ws = await org_with(platform, owner, **{viewer: "viewer"})
    symbol = f"C{uuid4().hex[:6].upper()}/USDT"  # a market no other test publishes
    async with (
        platform.client(owner) as http,
        platform.client(viewer) as reader,
        platform.client(stranger) as outsider,
    ):
        bot = await paper_bot(http, ws, market={"venue": "binance", "symbol": symbol})
        url = f"/v1/workspaces/{ws}/bots/{bot}/candles"
        async with MarketFeed(platform.api.settings.kafka_bootstrap, "binance", symbol) as feed:
            for minute in range(3):
                price = Decimal(100 + minute)
                at = T0 + timedelta(minutes=minute)
                await feed.candle(at, "1m", price, price + 1, price - 1, price)
            await feed.candle(T0, "1h", Decimal(100), Decimal(103), Decimal(99), Decimal(102))

        async def three() -> bool:
            r = await reader.get(url)
            assert r.status_code == 200, r.text
            return len(r.json()["items"]) == 3

        await until(three, timeout=30, what="the three candles read")
        body = (await reader.get(url, params={"limit": 2})).json()
        assert (body["venue"], body["symbol"], body["interval"]) == ("binance", symbol, "1m")
        assert [c["close"] for c in body["items"]] == ["101", "102"], "the newest, oldest first"
        first = body["items"][0]
        assert datetime.fromisoformat(first["opens_at"]) == T0 + timedelta(minutes=1)
        assert (first["high"], first["low"], first["volume"], first["trades"]) == (
            "102",
            "100",
            "10",
            10,
        )
        before = (T0 + timedelta(minutes=1)).isoformat()
        older = (await reader.get(url, params={"before": before})).json()
        assert [c["close"] for c in older["items"]] == ["100"]
        for edge, closes in (
            ("0001-01-01T00:30:00+01:00", []),
            ("9999-12-31T23:30:00-01:00", ["100", "101", "102"]),
        ):
            r = await reader.get(url, params={"before": edge})
            assert r.status_code == 200, r.text
            assert [c["close"] for c in r.json()["items"]] == closes, edge
        hourly = (await reader.get(url, params={"interval": "1h"})).json()
        assert [c["close"] for c in hourly["items"]] == ["102"]
        assert (await reader.get(url, params={"interval": "4h"})).json()["items"] == []

        for params in (
            {"interval": "2m"},
            {"interval": ""},
            {"limit": 0},
            {"limit": 1001},
            {"limit": "many"},
            {"before": "yesterday"},
        ):
            assert problem(await reader.get(url, params=params)) == (422, "request.invalid"), params
        other = f"/v1/workspaces/{ws}/bots/no-such-bot/candles"
        assert problem(await reader.get(other)) == (404, "exchange.bot_not_found")
        assert problem(await outsider.get(url)) == (404, "workspace.not_found")
