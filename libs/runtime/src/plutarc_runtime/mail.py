"""Sending email through SMTP (aiosmtplib), shared by every service's `email` adapter.

A refusal of the recipient, or any 5xx answer, is permanent (`PermanentFailure`: recorded as
failed, not retried); anything else (server down, timeouts, 4xx) propagates, and the intent
worker retries it with backoff. `message_id(key, domain)` derives a stable Message-ID from an
intent's key, so a mail sent again after a crash in the one window no store can close carries
the same id and mail clients show it once.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from .intents import PermanentFailure


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_tls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.use_tls, self.timeout = starttls, use_tls, timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                use_tls=self.use_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"SMTP {exc.code}: {exc.message}") from exc
            raise


def message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def sender_domain(sender: str) -> str:
    """The domain of a From address (`plutarc <no-reply@plutarc.local>` -> `plutarc.local`)."""
    return sender.rpartition("@")[2].rstrip(">") or "plutarc.local"
