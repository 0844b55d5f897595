"""Operators answer alerts from Telegram: a reply becomes an operator message, `/note` an internal
note; only from the operators' chat and from configured operators; an update seen twice counts once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plutarc_access import RegoEngine
from plutarc_contracts import support as s
from plutarc_support.adapters.telegram import make_bot
from plutarc_support.telegram_replies import TelegramReplies
from plutarc_testkit.telegram import FakeTelegram
from plutarc_testkit.waiting import until

from .conftest import Support
from .notify_helpers import CHAT
from .service_notify import notified_support

OPERATOR_TG, STRANGER_TG = 4242, 999


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def replies_for(fake: FakeTelegram) -> TelegramReplies:
    bot = make_bot(fake.token, fake.base_url, timeout=5)
    return TelegramReplies(bot, CHAT, {OPERATOR_TG: "op"}, poll_timeout=1, backoff_initial=0.05)


async def alerted_ticket(support: Support, fake: FakeTelegram) -> tuple[str, int]:
    ticket = support.open(priority="urgent")
    await support.drain_intents()
    (alert,) = fake.sent(CHAT)
    return ticket, alert["message_id"]


def thread(support: Support, ticket: str) -> list[Any]:
    return [
        e.payload
        for e in support.events("support.")
        if isinstance(e.payload, s.MessagePosted | s.InternalNoteAdded)
        and e.payload.ticket_id == ticket
    ]


async def test_replies_post_messages_and_notes_only_from_operators(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine, caplog: pytest.LogCaptureFixture
) -> None:
    support = notified_support(tmp_path, policy, fake)
    ticket, alert = await alerted_ticket(support, fake)
    replies = replies_for(fake)
    stop = asyncio.Event()
    task = asyncio.create_task(replies.run(support.send, stop))
    try:
        say = fake.operator_says
        say(CHAT, "We restarted your host, check now", user_id=OPERATOR_TG, reply_to=alert)
        say(CHAT, "/note customer runs 40x leverage", user_id=OPERATOR_TG, reply_to=alert)
        say(CHAT, "I am not an operator", user_id=STRANGER_TG, reply_to=alert)
        say(-555, "wrong chat", user_id=OPERATOR_TG)
        say(CHAT, "chatter that answers no alert", user_id=OPERATOR_TG)
        await until(
            lambda: (
                replies.handled == 2
                and len(replies.refused) == 2
                and fake.unconfirmed_updates() == 0
            ),
            what="two replies handled, two refused, all confirmed",
        )
    finally:
        stop.set()
        await task
    message, internal = thread(support, ticket)
    assert isinstance(message, s.MessagePosted)
    assert (message.side, message.author, message.body) == (
        "operator",
        "op",
        "We restarted your host, check now",
    )
    assert isinstance(internal, s.InternalNoteAdded)
    assert (internal.author, internal.body) == ("op", "customer runs 40x leverage")
    reasons = sorted(r.reason for r in replies.refused)
    assert "not a configured operator" in reasons[1] and "not the operators' chat" in reasons[0]
    assert "telegram reply refused" in caplog.text
    assert [t for t in fake.texts(CHAT) if "User replied" in t] == [], "operators are not alerted"
    support.close()


async def test_an_update_delivered_twice_is_handled_once(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    ticket, alert = await alerted_ticket(support, fake)
    fake.operator_says(CHAT, "On it", user_id=OPERATOR_TG, reply_to=alert)
    replies = replies_for(fake)
    async with replies.bot as bot:
        (update,) = await bot.get_updates(timeout=0)
        await replies.handle(update, support.send)
        (again,) = await bot.get_updates(timeout=0)  # not confirmed: Telegram sends it again
        await replies.handle(again, support.send)
    assert [p.body for p in thread(support, ticket)] == ["On it"]
    support.close()


async def test_a_revoked_operator_is_refused_by_the_service(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    ticket, alert = await alerted_ticket(support, fake)
    support.ok("system:cli", s.RevokeOperator(user_id="op"))
    fake.operator_says(CHAT, "/note still here?", user_id=OPERATOR_TG, reply_to=alert)
    replies = replies_for(fake)
    async with replies.bot as bot:
        (update,) = await bot.get_updates(timeout=0)
        await replies.handle(update, support.send)
    assert thread(support, ticket) == []
    (refused,) = replies.refused
    assert refused.reason.startswith("rejected: ")
    support.close()


async def test_polling_keeps_going_through_a_telegram_outage(
    fake: FakeTelegram, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, fake)
    ticket, alert = await alerted_ticket(support, fake)
    replies = replies_for(fake)
    fake.fail(502)
    stop = asyncio.Event()
    task = asyncio.create_task(replies.run(support.send, stop))
    try:
        await until(lambda: len(fake.calls) >= 3, what="polls failing")
        fake.operator_says(CHAT, "back online", user_id=OPERATOR_TG, reply_to=alert)
        fake.heal()
        await until(lambda: replies.handled == 1, what="the reply handled after the outage")
    finally:
        stop.set()
        await task
    assert [p.body for p in thread(support, ticket)] == ["back online"]
    support.close()
