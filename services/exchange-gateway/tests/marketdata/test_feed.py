from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from plutarc_contracts.market import BookUpdate, MarketBatch, Trade, encode_batch
from plutarc_exchange.marketdata.candles_main import run_candles
from plutarc_exchange.marketdata.feed import run_feed
from plutarc_exchange.marketdata.publisher import MarketPublisher
from plutarc_exchange.marketdata.recorded import BadRecording, play, read_recording, record
from plutarc_exchange.marketdata.settings import MarketDataSettings
from plutarc_exchange.marketdata.simulator import MICROS, Simulator
from plutarc_runtime.bus import make_producer
from plutarc_runtime.clock import FakeClock
from plutarc_testkit.waiting import until

from .helpers import read_all, unique_topics

START = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MARKETS = "binance:BTC/USDT,bybit:ETH/USDT"
PARAMS = '{"binance:BTC/USDT": {"price": 60000, "tick": "0.1", "step": "0.0001"}}'


def settings(bootstrap: str = "127.0.0.1:1", **env: str) -> MarketDataSettings:
    values = {"PLUTARC_KAFKA_BOOTSTRAP": bootstrap, "PLUTARC_MARKETS": MARKETS, **env}
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        return MarketDataSettings()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def entry(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plutarc_exchange.marketdata.main"],
        env={**os.environ, "PLUTARC_KAFKA_BOOTSTRAP": "127.0.0.1:1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_read_markets_and_their_rules() -> None:
    s = settings(PLUTARC_MARKET_PARAMS=PARAMS, PLUTARC_MARKET_SEED="7")
    specs = s.specs()
    assert [m.key for m in specs] == ["binance:BTC/USDT", "bybit:ETH/USDT"]
    assert specs[0].params.tick == "0.1" and specs[0].params.price == 60000
    assert specs[1].params.tick == "0.01"
    assert s.market_seed == 7


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PLUTARC_MARKETS": "nasdaq:BTC/USDT"}, "unknown venue `nasdaq`"),
        ({"PLUTARC_MARKETS": "binance"}, "is not `venue:symbol`"),
        ({"PLUTARC_MARKETS": "binance:btc-usdt"}, "not a unified symbol"),
        ({"PLUTARC_MARKETS": "binance:BTC/USDT,binance:BTC/USDT"}, "lists a market twice"),
        ({"PLUTARC_MARKET_PARAMS": '{"okx:SOL/USDT": {}}'}, "names markets not fed"),
        ({"PLUTARC_MARKET_PARAMS": '{"binance:BTC/USDT": {"tick": "-1"}}'}, "positive"),
        ({"PLUTARC_MARKET_SPEED": "0"}, "market_speed"),
        ({"PLUTARC_MARKET_SOURCE": "recorded"}, "needs PLUTARC_MARKET_FILE"),
    ],
)
def test_bad_settings_exit_non_zero_with_a_clear_error(env: dict[str, str], message: str) -> None:
    done = entry(**{"PLUTARC_MARKETS": MARKETS, **env})
    assert done.returncode == 2
    assert "plutarc-market-data: bad settings" in done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_console_entry_point_is_declared() -> None:
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    assert 'plutarc-market-data = "plutarc_exchange.marketdata.main:main"' in pyproject.read_text()


def split(batches: list[MarketBatch]) -> dict[str, tuple[list[BookUpdate], list[Trade]]]:
    out: dict[str, tuple[list[BookUpdate], list[Trade]]] = {}
    for b in batches:
        books, trades = out.setdefault(f"{b.venue}:{b.symbol}", ([], []))
        books.extend(b.books)
        trades.extend(b.trades)
    return out


@pytest.mark.kafka
async def test_feed_publishes_the_seeded_simulation_paced_to_its_clock(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = await unique_topics(kafka_bootstrap)
    config = settings(kafka_bootstrap, PLUTARC_MARKET_PARAMS=PARAMS, PLUTARC_MARKET_INTERVAL="0.05")
    clock = FakeClock(START)
    stop = asyncio.Event()
    feed = asyncio.create_task(run_feed(config, stop, clock=clock, topics=topics))
    books_seen: list[MarketBatch] = []

    async def snapshots() -> bool:
        return len(await read_all(kafka_bootstrap, topics.books)) == 2

    await until(snapshots, 30, what="each market's first snapshot, at the start")
    clock.advance(timedelta(seconds=3))

    async def caught_up() -> bool:
        books_seen[:] = [b for _, b in await read_all(kafka_bootstrap, topics.books)]
        return any(u.at >= START + timedelta(seconds=2.9) for b in books_seen for u in b.books)

    await until(caught_up, 30, what="three seconds of books")
    stop.set()
    stats = await feed
    published = await read_all(kafka_bootstrap, topics.books) + await read_all(
        kafka_bootstrap, topics.trades
    )
    assert stats.messages == len(published)
    assert all(k == f"{b.venue}:{b.symbol}".encode() for k, b in published)
    assert {b.source for _, b in published} == {"simulator"}
    expected = Simulator(config.specs(), seed=1, start=START).advance_to(
        int(START.timestamp()) * MICROS + 3 * MICROS
    )
    assert split([b for _, b in published]) == split(expected)
    assert stats.updates == sum(len(b.books) for b in expected) > 200

    recording = tmp_path / "md.jsonl"
    lines: list[int] = [0]
    stop_rec = asyncio.Event()
    recorder = asyncio.create_task(
        record(
            kafka_bootstrap,
            recording,
            stop_rec,
            topics=topics,
            from_beginning=True,
            on_line=lambda n: lines.__setitem__(0, n),
        )
    )
    await until(lambda: lines[0] == len(published), 30, what="the recording")
    stop_rec.set()
    assert await recorder == len(published)
    assert sorted(encode_batch(b) for b in read_recording(recording)) == sorted(
        encode_batch(b) for _, b in published
    )

    replay = await unique_topics(kafka_bootstrap)
    producer = make_producer(kafka_bootstrap, client_id="replay-test")
    await producer.start()
    try:
        assert await play(recording, MarketPublisher(producer, replay), asyncio.Event()) == len(
            published
        )
    finally:
        await producer.stop()
    replayed = await read_all(kafka_bootstrap, replay.books) + await read_all(
        kafka_bootstrap, replay.trades
    )
    assert {b.source for _, b in replayed} == {"recorded"}
    assert split([b for _, b in replayed]) == split(expected)


async def test_player_paces_to_the_time_in_the_data(tmp_path: Path) -> None:
    sim = Simulator(settings().specs(), seed=3, start=START)
    path = tmp_path / "paced.jsonl"
    with path.open("wb") as out:
        for _ in range(10):
            for batch in sim.advance(1.0):
                out.write(encode_batch(batch) + b"\n")
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    class Sink:
        sent: list[MarketBatch] = []

        async def publish(self, batches: list[MarketBatch]) -> int:
            self.sent.extend(batches)
            return len(batches)

    sink = Sink()
    count = await play(
        path, sink, asyncio.Event(), speed=4.0, sleep=sleep, monotonic=lambda: now[0]
    )  # type: ignore[arg-type]
    assert count == len(sink.sent) > 20
    assert sum(slept) == pytest.approx(9.0 / 4.0, abs=0.3)
    assert {b.source for b in sink.sent} == {"recorded"}


def test_a_broken_recording_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"venue": "binance"}\n')
    with pytest.raises(BadRecording, match=r"bad\.jsonl:1"):
        list(read_recording(path))


@pytest.mark.kafka
async def test_the_candle_process_derives_candles_from_the_feed(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = await unique_topics(kafka_bootstrap)
    config = settings(kafka_bootstrap, PLUTARC_DATA_DIR=str(tmp_path / "data"))
    producer = make_producer(kafka_bootstrap, client_id="candles-main-test")
    await producer.start()
    sim = Simulator(config.specs(), seed=4, start=START)
    try:
        await MarketPublisher(producer, topics).publish(sim.advance(120))
    finally:
        await producer.stop()
    stop = asyncio.Event()
    task = asyncio.create_task(run_candles(config, stop, topics=topics))

    async def minute_closed() -> bool:
        batches = [b for _, b in await read_all(kafka_bootstrap, topics.candles)]
        return {c.width for b in batches for c in b.candles} == {"1s", "1m"}

    await until(minute_closed, 30, what="1s and 1m candles")
    stop.set()
    processor = await task
    assert processor.stats.markets == {"binance:BTC/USDT", "bybit:ETH/USDT"}
    assert (tmp_path / "data" / "market-candles.sqlite").exists()
