"""Email to a ticket's opener: the auto-close warning and the auto-close notice (`email` adapter).

Sent through the shared SMTP client (plutarc_runtime.mail), with a Message-ID derived from the
intent's key. The address is looked up when sending (`Recipients`, identity's users), so it is
never copied into support's events; a user not known yet (identity's events still replaying) is
retried like an outage. A mail says what the user can already see in the product: the ticket's
subject, its link, when it closes. Internal notes never reach this adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.intents import PermanentFailure
from plutarc_runtime.mail import Mailer, message_id, sender_domain

from .telegram import OUTAGE_POLICY

TEMPLATES = ("auto_close_warning", "auto_closed")


class RecipientUnknown(LookupError):
    """The opener's address is not known yet: retried (identity's events may still be arriving)."""


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


def support_message(intent: IntentRecorded, to: str, sender: str, link_base: str) -> EmailMessage:
    body: dict[str, Any] = intent.body
    template = body.get("template")
    link = f"{link_base.rstrip('/')}/{body['ticket_id']}"
    subject = body["subject"]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id(intent.key, sender_domain(sender))
    if template == "auto_close_warning":
        msg["Subject"] = f"Your support ticket closes soon: {subject}"
        msg.set_content(
            f'Your support ticket "{subject}" has had no new message since '
            f"{_when(body['last_activity_at'])}.\n\n"
            f"It will close automatically at {_when(body['closes_at'])} unless someone writes "
            "in it before then. If you still need help, reply in the ticket:\n"
            f"{link}\n"
        )
    elif template == "auto_closed":
        msg["Subject"] = f"Your support ticket was closed: {subject}"
        msg.set_content(
            f'Your support ticket "{subject}" was closed because nobody wrote in it since '
            f"{_when(body['last_activity_at'])}.\n\n"
            "If you still need help, reply in the ticket: a reply soon reopens it, a later one "
            f"opens a follow-up.\n{link}\n"
        )
    else:
        raise PermanentFailure(f"unknown support email template {template!r}")
    return msg


class SupportEmailAdapter:
    """Carries out support's `email` intents (retried through outages as alerts are)."""

    retry = OUTAGE_POLICY

    def __init__(
        self,
        mailer: Mailer,
        sender: str,
        link_base: str,
        email_of: Callable[[str], str | None],
    ) -> None:
        self.mailer, self.sender, self.link_base, self.email_of = (
            mailer,
            sender,
            link_base,
            email_of,
        )

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        if intent.body.get("template") not in TEMPLATES:
            raise PermanentFailure(
                f"unknown support email template {intent.body.get('template')!r}"
            )
        to = self.email_of(intent.body["user_id"])
        if to is None:
            raise RecipientUnknown(f"no address known yet for user {intent.body['user_id']}")
        message = support_message(intent, to, self.sender, self.link_base)
        await self.mailer.send(message)
        return {"sent": True, "message_id": str(message["Message-ID"])}


class NoSupportMail:
    """With no SMTP server configured: nothing is sent, and the record says so."""

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        return {"sent": False, "reason": "no SMTP server is configured (PLUTARC_SMTP_HOST)"}
