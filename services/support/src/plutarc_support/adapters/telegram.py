"""Telegram to operators: the `telegram` adapter, through python-telegram-bot.

An alert goes to the operators' chat for every new ticket and for every user reply on an urgent
ticket (the reactions in `notifications.py` decide; this only renders and sends). What an alert
carries is exactly the intent's body: subject, category, priority, workspace, who wrote, a
public reply's first lines, and a link to the ticket. Internal notes never become intents for
this adapter, so no note text can reach Telegram.

Errors: Telegram's 429 becomes `RetryLater` (the worker waits the `retry_after` it was told);
a 400 (chat not found, a message Telegram will not take) is permanent; anything else (network
errors, timeouts, 5xx, a token refused while someone fixes the settings) is retried with backoff
by the intent worker, so an alert held back by an outage arrives once when Telegram is back.
"""

from __future__ import annotations

import asyncio
import html
import re
import warnings
from datetime import timedelta
from typing import Any

from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.intents import PermanentFailure, RetryLater, RetryPolicy
from telegram import Bot, LinkPreviewOptions
from telegram.error import BadRequest, RetryAfter
from telegram.request import HTTPXRequest

from ..compute_alerts import COMPUTE_KINDS, compute_text

ALERT_KINDS = ("ticket_opened", "user_replied")
# Every alert ends with this line: a reply in Telegram finds its ticket by it (telegram_replies).
REF_PATTERN = re.compile(r"^ticket (\S+) · workspace (\S+)$", re.MULTILINE)

# An outage of any length short of days holds alerts back, never drops them; a wait between two
# attempts grows to 5 minutes. After 3 days an alert is stale: recorded as failed.
OUTAGE_POLICY = RetryPolicy(max_attempts=None, give_up_after=timedelta(days=3), backoff_max=300.0)

PRIORITY_MARK = {"urgent": "🔴", "high": "🟠", "normal": "🟢", "low": "⚪"}


def ticket_link(link_base: str, ticket_id: str) -> str:
    return f"{link_base.rstrip('/')}/{ticket_id}"


def alert_text(body: dict[str, Any], link_base: str, workspace_name: str | None = None) -> str:
    """The alert for one intent body (HTML, every value escaped)."""
    kind = body.get("kind")
    if kind in COMPUTE_KINDS:
        return compute_text(body, workspace_name)
    if kind not in ALERT_KINDS:
        raise PermanentFailure(f"unknown telegram alert {kind!r}")
    e = html.escape
    priority = str(body["priority"])
    mark = PRIORITY_MARK.get(priority, "")
    workspace = e(body["workspace_id"])
    if workspace_name:
        workspace = f"{e(workspace_name)} ({workspace})"
    if kind == "ticket_opened":
        head = "New ticket" if not body.get("follow_up_of") else "New follow-up ticket"
        lines = [f"{mark} <b>{head}</b> · {e(priority)}", f"<b>{e(body['subject'])}</b>"]
    else:
        lines = [f"{mark} <b>User replied</b> · {e(priority)}", f"<b>{e(body['subject'])}</b>"]
        excerpt = str(body.get("excerpt", ""))
        if excerpt:
            lines.append(f"<blockquote>{e(excerpt)}</blockquote>")
    lines += [
        f"Category: {e(str(body['category']))} · Priority: {e(priority)}",
        f"Workspace: {workspace}",
        f"From: {e(str(body.get('author', '')))}",
        f'<a href="{e(ticket_link(link_base, body["ticket_id"]), quote=True)}">Open the ticket</a>',
        f"ticket {e(body['ticket_id'])} · workspace {e(body['workspace_id'])}",
    ]
    return "\n".join(lines)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the attribute becomes a timedelta
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def make_bot(token: str, base_url: str | None = None, timeout: float = 10.0) -> Bot:
    request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout)
    if base_url:
        return Bot(token, base_url=base_url, request=request)
    return Bot(token, request=request)


class TelegramNotifier:
    """Carries out `telegram` intents: one message to the operators' chat per intent."""

    retry = OUTAGE_POLICY

    def __init__(
        self,
        bot: Bot,
        chat_id: int | str,
        link_base: str,
        workspace_names: Any = None,
    ) -> None:
        """`workspace_names(workspace_id) -> name | None` (the memberships projection), optional."""
        self.bot, self.chat_id, self.link_base = bot, chat_id, link_base
        self.workspace_names = workspace_names
        self._ready = False
        self._lock = asyncio.Lock()

    async def _initialize(self) -> None:
        async with self._lock:
            if not self._ready:
                await self.bot.initialize()  # getMe: a refused token fails here, and is retried
                self._ready = True

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        name = self.workspace_names(intent.body["workspace_id"]) if self.workspace_names else None
        text = alert_text(intent.body, self.link_base, name)
        try:
            if not self._ready:
                await self._initialize()
            message = await self.bot.send_message(
                self.chat_id,
                text,
                parse_mode="HTML",
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:
            raise RetryLater(f"telegram: {exc}", retry_after_seconds(exc)) from exc
        except BadRequest as exc:
            raise PermanentFailure(f"telegram refused the alert: {exc}") from exc
        return {"sent": True, "chat_id": message.chat.id, "message_id": message.message_id}

    async def close(self) -> None:
        if self._ready:
            await self.bot.shutdown()
            self._ready = False


class NoTelegram:
    """With no bot token configured: nothing is sent, and the record says so."""

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        return {
            "sent": False,
            "reason": "no Telegram bot is configured (PLUTARC_SUPPORT_TELEGRAM_BOT_TOKEN)",
        }
