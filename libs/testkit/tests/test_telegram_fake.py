"""The fake Bot API speaks the protocol python-telegram-bot uses, unchanged (only `base_url`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from plutarc_testkit.telegram import BOT_USERNAME, FakeTelegram
from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter

CHAT = -100123


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def bot_for(fake: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(token or fake.token, base_url=fake.base_url)


async def test_get_me_and_send_message_are_recorded_per_chat(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        assert bot.username == BOT_USERNAME
        first = await bot.send_message(CHAT, "first alert")
        second = await bot.send_message(CHAT, "<b>second</b>", parse_mode="HTML")
        await bot.send_message(555, "elsewhere")
    assert first.message_id < second.message_id and first.chat.id == CHAT
    assert fake.texts(CHAT) == ["first alert", "second"]
    assert fake.sent(CHAT)[1]["parse_mode"] == "HTML"
    assert fake.sent(CHAT)[1]["raw_text"] == "<b>second</b>"
    assert fake.texts(555) == ["elsewhere"]
    assert fake.texts(999) == []
    assert fake.requests("sendMessage")[0]["chat_id"] == str(CHAT)


async def test_a_wrong_token_an_empty_text_and_an_unknown_chat_are_refused() -> None:
    with FakeTelegram(chats=[CHAT]) as fake:
        with pytest.raises(InvalidToken):
            await bot_for(fake, "999:wrong").initialize()
        async with bot_for(fake) as bot:
            with pytest.raises(BadRequest, match="empty"):
                await bot.send_message(CHAT, " ")
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(1, "nobody here")
        assert fake.sent() == []


async def test_get_updates_long_polls_and_offsets_confirm(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        alert = await bot.send_message(CHAT, "ticket opened")
        assert await bot.get_updates(timeout=0) == ()

        # A long poll returns as soon as an operator writes, not at its timeout.
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        await asyncio.sleep(0)  # let the poll reach the server before the operator writes
        await asyncio.to_thread(
            fake.operator_says, CHAT, "on it", user_id=42, reply_to=alert.message_id
        )
        (update,) = await asyncio.wait_for(poll, 10)
        assert update.message.text == "on it"
        assert update.message.from_user.id == 42
        assert update.message.reply_to_message.message_id == alert.message_id
        assert update.message.reply_to_message.text == "ticket opened"

        # Not confirmed yet: delivered again; confirmed by a higher offset: gone.
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [update.update_id]
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
        assert fake.unconfirmed_updates() == 0


async def test_outages_http_errors_rate_limits_and_refused_connections(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        fake.fail(502)
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "lost?")
        fake.fail(500, times=1)
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "lost?")
        await bot.send_message(CHAT, "after one failure")  # `times` ran out

        fake.rate_limit(retry_after=3)
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(CHAT, "too fast")
        assert "3 seconds" in str(limited.value)
        fake.heal()

        with fake.down(), pytest.raises(NetworkError):
            await bot.send_message(CHAT, "nobody listening")
        await bot.send_message(CHAT, "back")
    assert fake.texts(CHAT) == ["after one failure", "back"]
