"""Telegram to operators, on the support service: one alert per new ticket and per user reply on
an urgent ticket, delivered once after an outage, and never an internal note."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from plutarc_access import RegoEngine
from plutarc_support.adapters.telegram import REF_PATTERN
from plutarc_testkit.smtp import SmtpServer
from plutarc_testkit.telegram import FakeTelegram
from plutarc_testkit.waiting import until

from .conftest import ALICE, BOB, OP
from .notify_helpers import CHAT, LINKS
from .service_notify import note, notified_support


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(chats=[CHAT]) as server:
        yield server


async def test_exactly_one_alert_per_new_ticket(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    first = support.open(subject="Orders rejected on Bybit", category="exchange_connections")
    second = support.open(BOB, subject="Invoice twice", category="billing", priority="low")
    await support.drain_intents()
    await support.drain_intents()
    alerts = fake.sent(CHAT)
    assert len(alerts) == 2
    by_ticket = {REF_PATTERN.search(a["text"]).group(1): a for a in alerts}  # type: ignore[union-attr]
    assert set(by_ticket) == {first, second}
    text = by_ticket[first]["text"]
    assert "New ticket" in text and "Orders rejected on Bybit" in text
    assert "Category: exchange_connections · Priority: high" in text
    assert f"Workspace: Desk ({support.ws})" in text and "From: alice" in text
    assert f'href="{LINKS}/{first}"' in by_ticket[first]["raw_text"]
    assert "It stopped at 03:00." not in text, "the ticket's body stays in the product"
    support.close()


async def test_a_users_reply_alerts_only_on_an_urgent_ticket(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    urgent = support.open(priority="urgent")
    high = support.open(priority="high")
    support.post(OP, urgent, "Looking", side="operator")
    support.post(ALICE, urgent, "Positions are open, please hurry")
    support.post(ALICE, high, "Any news?")
    await support.drain_intents()
    texts = fake.texts(CHAT)
    assert len(texts) == 3, texts  # two new tickets, one urgent reply
    (reply,) = [t for t in texts if "User replied" in t]
    assert "Positions are open, please hurry" in reply and urgent in reply
    support.close()


async def test_with_telegram_down_each_alert_arrives_once_it_is_back(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    fake.go_down()
    worker = support.worker(backoff_initial=0.05, backoff_max=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        tickets = [support.open(subject=f"Ticket {i}") for i in range(3)]
        await until(
            lambda: len(support.intents("system.intent_attempt_failed")) >= 6,
            what="alerts failing while Telegram is down",
        )
        await asyncio.to_thread(fake.come_back)
        await until(lambda: support.pending_intents() == 0, what="every alert delivered")
    finally:
        stop.set()
        await task
    found = sorted(REF_PATTERN.search(t).group(1) for t in fake.texts(CHAT))  # type: ignore[union-attr]
    assert found == sorted(tickets)
    support.close()


async def test_no_internal_note_ever_reaches_telegram_or_an_email(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    smtp = SmtpServer().start()
    try:
        support = notified_support(tmp_path, policy, fake, smtp)
        marker = "NOTE-7f3a-operator-only"
        urgent = support.open(priority="urgent")
        note(support, urgent, f"{marker} customer is a known abuser")
        support.post(OP, urgent, "Which bot?", side="operator")
        note(support, urgent, f"{marker} second note")
        support.post(ALICE, urgent, "The BTC one")
        support.post(OP, urgent, "Fixed, please confirm", side="operator")
        note(support, urgent, f"{marker} third note, while waiting on the user")
        support.advance(timedelta(days=6, minutes=1))  # warned
        note(support, urgent, f"{marker} after the warning")
        support.advance(timedelta(days=1, minutes=1))  # closed
        await support.drain_intents()
        assert support.events("support.auto_close_warning_sent")
        assert support.events("support.ticket_auto_closed")
        assert len(fake.sent(CHAT)) == 2  # the new urgent ticket, the user's reply
        assert len(smtp.inbox.to("alice@example.com")) == 2  # warning, closed
        for method, params in fake.calls:
            assert marker not in repr(params), method
        for message in smtp.inbox.messages:
            assert marker not in message.as_string()
        for intent in support.intents():
            assert marker not in repr(intent)
        support.close()
    finally:
        smtp.stop()
