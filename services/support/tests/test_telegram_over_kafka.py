"""The support service as it runs, configured only by settings: alerts reach the fake Bot API and
an operator's reply in Telegram comes back as a message in the ticket (the inbound poller)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_contracts import CommandAccepted, topics_of
from plutarc_contracts import support as s
from plutarc_contracts.identity import IDENTITY
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.service import Service
from plutarc_support.bootstrap import build
from plutarc_support.settings import SupportSettings
from plutarc_testkit.identity_events import workspace_events
from plutarc_testkit.telegram import FakeTelegram
from plutarc_testkit.waiting import until

from .notify_helpers import CHAT

pytestmark = pytest.mark.kafka


async def test_alert_and_reply_through_the_running_service(
    kafka_bootstrap: str, tmp_path: Path, policy: RegoEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user id of its own: the broker is the session's, and commands another test left on
    # support.commands.v1 (a grant of "op") may reach this service first.
    op = f"op-{uuid4().hex[:8]}"
    monkeypatch.setenv("PLUTARC_SUPPORT_TELEGRAM_OPERATORS", f'{{"4242": "{op}"}}')
    memberships, ws = Memberships(policy), str(uuid4())
    for env in workspace_events(ws, {"alice": "owner"}):
        memberships.apply(env)
    with FakeTelegram(chats=[CHAT]) as fake:
        settings = SupportSettings(
            kafka_bootstrap=kafka_bootstrap,
            data_dir=tmp_path,
            support_telegram_bot_token=fake.token,
            support_telegram_chat_id=str(CHAT),
            support_telegram_api_url=fake.base_url,
            support_link_base_url="https://plutarc.example/support/tickets",
        )
        assert settings.support_telegram_operators == {4242: op}
        # Support replays identity's topic: it exists wherever identity has run.
        await ensure_topics(kafka_bootstrap, list(topics_of(IDENTITY).all()))
        service = Service(
            build(settings, memberships=memberships),
            settings,
            clock=FakeClock(),
            consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        try:
            await until(service.started.is_set, what="support started")
            execute = service.processor.execute
            granted = await asyncio.to_thread(execute, "system:cli", s.GrantOperator(user_id=op))
            assert isinstance(granted, CommandAccepted)
            ticket = str(uuid4())
            opened = s.OpenTicket(
                workspace_id=ws,
                ticket_id=ticket,
                subject="Wake failed",
                body="b",
                category="compute",
            )
            assert isinstance(
                await asyncio.to_thread(execute, "user:alice", opened), CommandAccepted
            )
            (alert,) = await until(
                lambda: [a for a in fake.sent(CHAT) if ticket in a["raw_text"]], what="the alert"
            )
            assert "Wake failed" in alert["text"]
            assert "https://plutarc.example/support/tickets/" + ticket in alert["raw_text"]

            fake.operator_says(CHAT, "Rebooted", user_id=4242, reply_to=alert["message_id"])

            def operator_message() -> list[s.MessagePosted]:
                # This ticket's only: the command topic and its group are the session's, so a
                # command another Kafka test left there may be handled by this service too.
                decode = service.spec.registry.decode_event
                posted = [
                    decode(n.state).payload
                    for n in service.store.notifications(1, 1000)
                    if n.topic == "support.message_posted"
                ]
                return [p for p in posted if p.ticket_id == ticket]

            (posted,) = await until(operator_message, what="the reply in the ticket")
            assert (posted.side, posted.author, posted.body) == ("operator", op, "Rebooted")
        finally:
            stop.set()
            await task
