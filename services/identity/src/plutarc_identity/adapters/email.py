"""Email: the invitation mail, sent through SMTP (aiosmtplib) as the `email` adapter.

The SMTP client is shared (plutarc_runtime.mail). The message's Message-ID derives from the
intent's key, so a mail sent again after a crash in the one window no store can close (sent,
outcome not yet recorded) carries the same id and mail clients show it once. A refusal of the recipient is permanent (recorded as failed); anything else
(server down, timeouts, 4xx) is retried with backoff by the intent worker.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.intents import PermanentFailure
from plutarc_runtime.mail import Mailer, SmtpMailer, message_id

__all__ = ["EmailAdapter", "Mailer", "NoMail", "SmtpMailer", "invitation_message"]


def invitation_message(intent: IntentRecorded, sender: str) -> EmailMessage:
    body: dict[str, Any] = intent.body
    url = intent.secret["accept_url"]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = body["to"]
    msg["Subject"] = f"You are invited to {body['workspace_name']} on plutarc"
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id(intent.key, sender.rpartition("@")[2] or "plutarc.local")
    msg.set_content(
        f"You have been invited to join {body['workspace_name']} on plutarc as {body['role']}.\n\n"
        f"Accept the invitation (sign in with this address first):\n{url}\n\n"
        f"The link works once and expires at {body['expires_at']} (UTC). If you did not expect "
        "this invitation, ignore this email.\n"
    )
    return msg


class EmailAdapter:
    """Carries out `email` intents."""

    def __init__(self, mailer: Mailer, sender: str) -> None:
        self.mailer, self.sender = mailer, sender

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        if intent.body.get("template") != "invitation":
            raise PermanentFailure(f"unknown email template {intent.body.get('template')!r}")
        message = invitation_message(intent, self.sender)
        await self.mailer.send(message)
        return {"sent": True, "message_id": str(message["Message-ID"])}


class NoMail:
    """With no SMTP server configured: nothing is sent, and the record says so."""

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        return {"sent": False, "reason": "no SMTP server is configured (PLUTARC_SMTP_HOST)"}
