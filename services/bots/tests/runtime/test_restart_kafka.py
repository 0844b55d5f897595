"""A restarted runtime resumes without duplicating an order: real Kafka, the real topics."""

from __future__ import annotations

import asyncio

import pytest
from plutarc_bots.runtime import Outcome, intent_command_id
from plutarc_bots.strategy import compile
from plutarc_bots.strategy.model import Candle
from plutarc_contracts import default_topics
from plutarc_contracts import exchange as x
from plutarc_runtime.bus import ensure_topics

from .kafka_world import SERIES, SPEC, World, open_ms

pytestmark = pytest.mark.kafka


def expected_intents(bot: str) -> dict[int, list[str]]:
    """Per candle, the command ids of an uninterrupted run filled at each close (paper)."""
    strategy = compile(SPEC)
    out: dict[int, list[str]] = {}
    for i, close in enumerate(SERIES):
        intents = strategy.on_candle(Candle(open_ms(i), close, close, close, close, 1.0))
        out[i] = [intent_command_id(bot, 1, it.candle_time, n) for n, it in enumerate(intents)]
    return out


async def test_a_restarted_runtime_resumes_without_duplicating_an_order(
    kafka_bootstrap: str,
) -> None:
    await ensure_topics(kafka_bootstrap, default_topics().all())
    world = World(kafka_bootstrap)
    await world.start()
    try:
        expected = expected_intents(world.bot)
        total = sum(len(ids) for ids in expected.values())
        assert total == 6
        due = 0
        await world.bot_running()

        first, stop = world.runtime(), asyncio.Event()
        running = asyncio.create_task(first.run(stop))
        for i in range(14):  # the buy at 6 and the sell at 11
            await world.candle(i)
            due += len(expected[i])
            await world.answer(first, i, due)
        stop.set()
        assert await asyncio.wait_for(running, 30) is Outcome.interrupted
        assert first.sent == 2

        for i in (14, 15, 16):  # while it is down; 16 is a buy
            await world.candle(i)
            due += len(expected[i])
        second, stop = world.runtime(), asyncio.Event()
        running = asyncio.create_task(second.run(stop))
        await world.answer(second, 16, due)  # it re-read 0-16, sent only 16's
        for i in range(17, len(SERIES)):
            await world.candle(i)
            due += len(expected[i])
            await world.answer(second, i, due)
        await world.stopped()
        assert await asyncio.wait_for(running, 30) is Outcome.stopped
        assert second.sent == 4 + 1  # the buy at 16, 21, 26, 31 and the stop's cancel-all
        await world.read_commands()

        places = world.place_orders()
        assert [c.command_id for c in places] == [
            cid for i in range(len(SERIES)) for cid in expected[i]
        ]
        assert len({c.command_id for c in places}) == len(places) == total
        assert {c.actor for c in world.seen} == {f"bot:{world.bot}"}
        assert [type(c.payload) for c in world.seen[-1:]] == [x.CancelAllOrders]
        assert second.decider.position == 0
    finally:
        await world.close()
