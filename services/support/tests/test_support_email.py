"""Support's emails to a ticket's opener (auto-close warning, auto-closed) through a real SMTP
server: one mail per decision, to the address identity knows, and retried until it is known."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from plutarc_runtime.handling import Intent
from plutarc_runtime.mail import SmtpMailer
from plutarc_support.adapters.mail import NoSupportMail, SupportEmailAdapter
from plutarc_testkit.smtp import SmtpServer
from plutarc_testkit.waiting import until

from .notify_helpers import LINKS, intents_harness, record

SENDER = "plutarc support <support@plutarc.test>"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def warning(ticket_id: str = "t-1", last: str = "2026-01-01T10:00:00+00:00") -> Intent:
    body = {
        "template": "auto_close_warning",
        "user_id": "u-1",
        "ticket_id": ticket_id,
        "workspace_id": "ws-1",
        "subject": "Bot stopped trading",
        "last_activity_at": last,
        "closes_at": "2026-01-08T10:00:00+00:00",
    }
    return Intent("email", key=f"auto_close_warning:{ticket_id}:{last}", body=body)


def closed(ticket_id: str = "t-1") -> Intent:
    body = {
        "template": "auto_closed",
        "user_id": "u-1",
        "ticket_id": ticket_id,
        "workspace_id": "ws-1",
        "subject": "Bot stopped trading",
        "last_activity_at": "2026-01-01T10:00:00+00:00",
    }
    return Intent("email", key=f"auto_closed:{ticket_id}", body=body)


def text(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.get_payload(decode=True).decode())


async def test_the_warning_and_the_close_each_mail_the_opener_once(
    smtp: SmtpServer, tmp_path: Path
) -> None:
    adapter = SupportEmailAdapter(
        SmtpMailer("127.0.0.1", smtp.port, timeout=2), SENDER, LINKS, {"u-1": "ann@example.com"}.get
    )
    h = intents_harness(tmp_path, {"email": adapter})
    record(h, warning(), warning())
    await h.drain_intents()
    record(h, closed())
    await h.drain_intents()
    first, second = smtp.inbox.to("ann@example.com")
    assert first["Subject"] == "Your support ticket closes soon: Bot stopped trading"
    assert "2026-01-08 10:00 UTC" in text(first) and f"{LINKS}/t-1" in text(first)
    assert second["Subject"] == "Your support ticket was closed: Bot stopped trading"
    assert f"{LINKS}/t-1" in text(second)
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Message-ID"].endswith("@plutarc.test>")
    h.close()


async def test_an_unknown_address_is_retried_until_identity_tells_it(
    smtp: SmtpServer, tmp_path: Path
) -> None:
    known: dict[str, str] = {}
    adapter = SupportEmailAdapter(
        SmtpMailer("127.0.0.1", smtp.port, timeout=2), SENDER, LINKS, known.get
    )
    h = intents_harness(tmp_path, {"email": adapter})
    record(h, warning())
    worker = h.worker(backoff_initial=0.05, backoff_max=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(
            lambda: len(h.intents("system.intent_attempt_failed")) >= 2,
            what="attempts while the address is unknown",
        )
        known["u-1"] = "ann@example.com"
        await until(lambda: h.pending_intents() == 0, what="the mail sent")
    finally:
        stop.set()
        await task
    assert len(smtp.inbox.to("ann@example.com")) == 1
    assert "no address known yet" in h.intents("system.intent_attempt_failed")[0].error
    h.close()


async def test_with_the_mail_server_down_the_warning_arrives_once_it_is_back(
    tmp_path: Path,
) -> None:
    server = SmtpServer()  # not listening yet
    adapter = SupportEmailAdapter(
        SmtpMailer("127.0.0.1", server.port, timeout=2), SENDER, LINKS, {"u-1": "a@x.test"}.get
    )
    h = intents_harness(tmp_path, {"email": adapter})
    record(h, warning())
    worker = h.worker(backoff_initial=0.05, backoff_max=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: len(h.intents("system.intent_attempt_failed")) >= 2, what="failures")
        server.start()
        await until(lambda: h.pending_intents() == 0, what="the mail sent")
    finally:
        stop.set()
        await task
        server.stop()
    assert len(server.inbox.to("a@x.test")) == 1
    h.close()


async def test_an_unknown_template_fails_for_good_and_no_mail_records_why(tmp_path: Path) -> None:
    adapter = SupportEmailAdapter(SmtpMailer("127.0.0.1", 1), SENDER, LINKS, {}.get)
    h = intents_harness(tmp_path, {"email": adapter})
    record(h, Intent("email", key="x", body={"template": "note", "user_id": "u-1"}))
    await h.drain_intents()
    assert "unknown support email template" in h.intents("system.intent_failed")[0].error
    h.close()

    h = intents_harness(tmp_path, {"email": NoSupportMail()})
    record(h, warning())
    await h.drain_intents()
    (done,) = h.intents("system.intent_completed")
    assert done.result["sent"] is False
    h.close()
