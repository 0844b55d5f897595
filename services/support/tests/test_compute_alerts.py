"""Operators hear through support's Telegram when a bot's host is kept up past its window, is
released at the deadline with the bot still exposed, could not be woken, or missed a window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from plutarc_access import RegoEngine
from plutarc_contracts import Envelope
from plutarc_contracts import compute as c
from plutarc_testkit.identity_events import identity_event
from plutarc_testkit.telegram import FakeTelegram

from .notify_helpers import CHAT
from .service_notify import notified_support

BOT = "6f1c0b7e-8d55-4c1a-9d6a-0b8f2f1e4a11"
END = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def event(payload: msgspec.Struct, position: int) -> Envelope:
    env = identity_event(payload, BOT, position)
    return msgspec.structs.replace(env, producer="compute")


async def test_a_deferred_sleep_and_the_deadline_reach_the_operators_once_each(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    held = [c.Exposure(symbol="BTC/USDT", quantity="0.5")]
    deferred = event(
        c.SleepDeferred(
            workspace_id=support.ws,
            bot_id=BOT,
            reason="open_position",
            window_ends_at=END,
            positions=held,
            deadline=datetime(2026, 12, 7, 20, 30, tzinfo=UTC),
        ),
        3,
    )
    support.deliver(deferred)
    support.deliver(deferred)  # delivered twice: one alert
    support.deliver(
        event(c.DrainDeadlineReached(workspace_id=support.ws, bot_id=BOT, positions=held), 4)
    )
    await support.drain_intents()
    texts = sorted(m["text"] for m in fake.sent(CHAT))  # the two are sent concurrently
    assert len(texts) == 2, texts
    deadline_text, deferred_text = texts  # 🔴 sorts before 🟠
    assert "Host kept up after its window" in deferred_text and "BTC/USDT 0.5" in deferred_text
    assert "2026-12-07T20:30:00+00:00" in deferred_text and f"bot {BOT}" in deferred_text
    assert "released at the deadline" in deadline_text
    assert f"Desk ({support.ws})" in deadline_text
    support.close()


async def test_a_retried_wake_is_quiet_and_one_that_gave_up_is_told(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    failed = {"workspace_id": support.ws, "bot_id": BOT, "attempt": 1, "size": "t4g.small"}
    support.deliver(
        event(c.ProvisioningFailed(**failed, error="capacity", next_size="t4g.medium"), 5)
    )
    support.deliver(event(c.ProvisioningFailed(**failed, error="<quota>", next_size=None), 6))
    missed = c.WindowMissed(
        workspace_id=support.ws, bot_id=BOT, window_starts_at=END, state="waking"
    )
    support.deliver(event(missed, 7))
    await support.drain_intents()
    by_head = {m["text"].split("\n")[0]: m for m in fake.sent(CHAT)}
    assert set(by_head) == {"🔴 A bot's host could not be woken", "🟠 A bot missed its window"}
    gave_up = by_head["🔴 A bot's host could not be woken"]
    assert "<quota>" in gave_up["text"] and "&lt;quota&gt;" in gave_up["raw_text"]
    assert "its host was waking" in by_head["🟠 A bot missed its window"]["text"]
    support.close()
