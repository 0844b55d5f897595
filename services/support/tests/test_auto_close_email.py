"""The ticket's opener gets an email when the ticket is about to close and when it closed, once
each, through a real SMTP server; a reply between them cancels the close (and its email)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from plutarc_access import RegoEngine
from plutarc_testkit.smtp import SmtpServer

from .conftest import ALICE, BOB, OP
from .notify_helpers import LINKS
from .service_notify import notified_support


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def body(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.get_payload(decode=True).decode())


async def test_warned_at_day_6_and_told_at_day_7_by_email(
    smtp: SmtpServer, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, None, smtp)
    ticket = support.open(subject="Host did not wake")
    support.post(OP, ticket, "Fixed on our side, can you check?", side="operator")
    support.advance(timedelta(days=5, hours=23))
    await support.drain_intents()
    assert smtp.inbox.to("alice@example.com") == []

    support.advance(timedelta(hours=1, minutes=1))
    await support.drain_intents()
    (warning,) = smtp.inbox.to("alice@example.com")
    assert warning["Subject"] == "Your support ticket closes soon: Host did not wake"
    closes_at = support.events("support.auto_close_warning_sent")[0].payload.closes_at
    assert closes_at.strftime("%Y-%m-%d %H:%M UTC") in body(warning)
    assert f"{LINKS}/{ticket}" in body(warning)

    support.advance(timedelta(days=1))
    await support.drain_intents()
    support.advance(timedelta(days=1))  # later passes change nothing
    await support.drain_intents()
    warning_again, closed = smtp.inbox.to("alice@example.com")
    assert warning_again["Message-ID"] == warning["Message-ID"]
    assert closed["Subject"] == "Your support ticket was closed: Host did not wake"
    assert f"{LINKS}/{ticket}" in body(closed)
    assert smtp.inbox.to("bob@example.com") == [], "the opener is told, not every member"
    support.close()


async def test_a_reply_after_the_warning_means_no_close_email(
    smtp: SmtpServer, tmp_path: Path, policy: RegoEngine
) -> None:
    support = notified_support(tmp_path, policy, None, smtp)
    ticket = support.open(BOB, subject="Fees look wrong")
    support.post(OP, ticket, "Which order?", side="operator")
    support.advance(timedelta(days=6, minutes=1))
    support.advance(timedelta(hours=12))
    support.post(ALICE, ticket, "Order 42")  # another member's reply counts
    support.advance(timedelta(days=1))
    await support.drain_intents()
    (warning,) = smtp.inbox.to("bob@example.com")
    assert "closes soon" in warning["Subject"]
    assert support.events("support.ticket_auto_closed") == []
    assert smtp.inbox.to("alice@example.com") == []
    support.close()
