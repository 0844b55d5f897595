"""The `telegram` adapter through python-telegram-bot against the fake Bot API: what an alert
says, and that an outage (refused connections, 5xx, 429) delays an alert but never loses or
repeats it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from plutarc_support.adapters.telegram import REF_PATTERN, NoTelegram, TelegramNotifier, make_bot
from plutarc_testkit.telegram import FakeTelegram
from plutarc_testkit.waiting import until

from .notify_helpers import CHAT, LINKS, intents_harness, opened, record


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(chats=[CHAT]) as server:
        yield server


def notifier(fake: FakeTelegram, chat: int = CHAT) -> TelegramNotifier:
    names = {"ws-1": "Alpha <Desk>"}.get
    return TelegramNotifier(make_bot(fake.token, fake.base_url, timeout=2), chat, LINKS, names)


async def test_one_alert_per_new_ticket_with_what_operators_need(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    h = intents_harness(tmp_path, {"telegram": notifier(fake)})
    alert = opened("t-1", subject="Orders <rejected> & stuck", priority="urgent")
    record(h, alert)
    record(h, alert)  # the same decision again: recorded once
    await h.drain_intents()
    await h.drain_intents()  # a second worker finds nothing left
    (sent,) = fake.sent(CHAT)
    text = sent["text"]
    assert "Orders <rejected> & stuck" in text  # escaped on the wire, shown as written
    assert "Category: bots" in text and "Priority: urgent" in text
    assert "Alpha <Desk> (ws-1)" in text
    assert f'href="{LINKS}/t-1"' in sent["raw_text"]
    assert "&lt;rejected&gt;" in sent["raw_text"]
    assert sent["parse_mode"] == "HTML"
    (done,) = h.intents("system.intent_completed")
    assert done.result == {"sent": True, "chat_id": CHAT, "message_id": sent["message_id"]}
    h.close()


async def test_a_user_reply_alert_quotes_the_reply(fake: FakeTelegram, tmp_path: Path) -> None:
    h = intents_harness(tmp_path, {"telegram": notifier(fake)})
    record(h, opened("t-2", kind="user_replied", priority="urgent", excerpt="Still down!"))
    await h.drain_intents()
    (text,) = fake.texts(CHAT)
    assert text.startswith("🔴 User replied") and "Still down!" in text
    h.close()


@pytest.mark.parametrize("outage", ["refused", "http_502", "rate_limited"])
async def test_telegram_down_for_a_while_each_alert_arrives_once(
    fake: FakeTelegram, tmp_path: Path, outage: str
) -> None:
    h = intents_harness(tmp_path, {"telegram": notifier(fake)})
    if outage == "refused":
        fake.go_down()
    elif outage == "http_502":
        fake.fail(502)
    else:
        fake.rate_limit(retry_after=1)
    tickets = [f"t-{i}" for i in range(3)]
    for tid in tickets:
        record(h, opened(tid))
    worker = h.worker(backoff_initial=0.05, backoff_max=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(
            lambda: len(h.intents("system.intent_attempt_failed")) >= 6,
            what="every alert failed at least twice while Telegram is down",
        )
        assert fake.sent(CHAT) == []
        if outage == "refused":
            await asyncio.to_thread(fake.come_back)
        else:
            fake.heal()
        await until(lambda: h.pending_intents() == 0, what="every alert delivered")
    finally:
        stop.set()
        await task
    texts = fake.texts(CHAT)
    found = sorted(REF_PATTERN.search(t).group(1) for t in texts)  # type: ignore[union-attr]
    assert found == tickets, "each exactly once"
    assert len(h.intents("system.intent_completed")) == 3
    assert h.intents("system.intent_failed") == []
    h.close()


async def test_a_chat_telegram_does_not_know_is_a_permanent_failure(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    h = intents_harness(tmp_path, {"telegram": notifier(fake, chat=-42)})
    record(h, opened("t-9"))
    await h.drain_intents()
    (failed,) = h.intents("system.intent_failed")
    assert "chat not found" in failed.error.lower()
    assert len(fake.requests("sendMessage")) == 1, "not retried"
    h.close()


async def test_without_a_bot_nothing_is_sent_and_the_record_says_why(tmp_path: Path) -> None:
    h = intents_harness(tmp_path, {"telegram": NoTelegram()})
    record(h, opened("t-3"))
    await h.drain_intents()
    (done,) = h.intents("system.intent_completed")
    assert done.result["sent"] is False and "TELEGRAM" in done.result["reason"]
    h.close()


def test_an_outage_of_hours_holds_alerts_back_and_days_make_them_stale(fake: FakeTelegram) -> None:
    policy = notifier(fake).retry
    assert policy.max_attempts is None, (
        "no limit by count: the worker's 30 attempts would last 15 minutes"
    )
    assert policy.give_up_after == timedelta(days=3)
    assert policy.backoff_max == 300
