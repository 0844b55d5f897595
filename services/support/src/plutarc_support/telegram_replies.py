"""Operators answer from their phones: replies to an alert in the operators' chat become commands.

`TelegramReplies` long-polls `getUpdates` (an `Inbound` of the service). A message in the
operators' chat that replies to one of the bot's alerts becomes, for the ticket the alert names,
an operator message (`PostMessage`, side operator) or, when it starts with `/note`, an internal
note (`AddInternalNote`). It is accepted only from the configured chat and from Telegram users
mapped to plutarc users (`PLUTARC_SUPPORT_TELEGRAM_OPERATORS`); anything else is refused and
logged. The command then goes through the service's own command path as that user, so a user
whose operator role was revoked is refused there too.

Each command's id derives from the chat and the Telegram message, so an update delivered again
(Telegram redelivers until a later offset confirms it; a restart asks again) is handled once.
While Telegram is down the poller waits with backoff and keeps trying; it never stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from plutarc_contracts import CommandRejected
from plutarc_contracts import support as s
from plutarc_runtime.service import Execute
from telegram import Bot, Message, Update
from telegram.error import RetryAfter, TelegramError

from .adapters.telegram import REF_PATTERN, retry_after_seconds

log = logging.getLogger(__name__)

REPLY_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/support/telegram-reply")
NOTE_COMMAND = re.compile(r"^/note(@\w+)?(\s+|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Refused:
    update_id: int
    reason: str


@dataclass(frozen=True)
class Decided:
    actor: str
    payload: s.PostMessage | s.AddInternalNote
    workspace_id: str
    command_id: str


class TelegramReplies:
    name = "telegram-replies"

    def __init__(
        self,
        bot: Bot,
        chat_id: int | str,
        operators: Mapping[int, str],
        *,
        poll_timeout: int = 20,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        """`operators`: Telegram user id -> plutarc user id of the operators allowed to answer."""
        self.bot, self.chat_id = bot, str(chat_id)
        self.operators = {int(k): v for k, v in operators.items()}
        self.poll_timeout = poll_timeout
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.refused: list[Refused] = []
        self.handled = 0
        self._ready = False

    # -- deciding -----------------------------------------------------------------------------------
    def decide(self, update: Update) -> Decided | Refused | None:
        """The command an update asks for, a refusal, or None for chatter that is not an answer."""
        msg: Message | None = update.message
        if msg is None or not msg.text:
            return None
        if str(msg.chat.id) != self.chat_id:
            return Refused(update.update_id, f"chat {msg.chat.id} is not the operators' chat")
        user = msg.from_user
        operator = self.operators.get(user.id) if user is not None else None
        if operator is None:
            who = user.id if user is not None else "unknown"
            return Refused(update.update_id, f"telegram user {who} is not a configured operator")
        original = msg.reply_to_message
        if original is None or original.from_user is None or original.from_user.id != self.bot.id:
            return None  # not an answer to one of this bot's alerts
        found = REF_PATTERN.search(original.text or "")
        if found is None:
            return None
        ticket_id, workspace_id = found.group(1), found.group(2)
        ref = f"{msg.chat.id}:{msg.message_id}"
        command_id = str(uuid5(REPLY_NS, ref))
        entity_id = str(uuid5(REPLY_NS, f"entity:{ref}"))
        note = NOTE_COMMAND.match(msg.text)
        payload: s.PostMessage | s.AddInternalNote
        if note is not None:
            body = msg.text[note.end() :].strip()
            if not body:
                return Refused(update.update_id, "an empty /note")
            payload = s.AddInternalNote(
                workspace_id=workspace_id, ticket_id=ticket_id, note_id=entity_id, body=body
            )
        else:
            payload = s.PostMessage(
                workspace_id=workspace_id,
                ticket_id=ticket_id,
                message_id=entity_id,
                body=msg.text,
                side="operator",
            )
        return Decided(f"user:{operator}", payload, workspace_id, command_id)

    async def handle(self, update: Update, execute: Execute) -> None:
        decided = self.decide(update)
        if decided is None:
            return
        if isinstance(decided, Refused):
            self.refused.append(decided)
            log.warning(
                "telegram reply refused",
                extra={"update_id": decided.update_id, "reason": decided.reason},
            )
            return
        reply = await asyncio.to_thread(
            execute,
            decided.actor,
            decided.payload,
            workspace_id=decided.workspace_id,
            command_id=decided.command_id,
        )
        self.handled += 1
        if isinstance(reply, CommandRejected):
            log.warning(
                "telegram reply rejected by the service",
                extra={"update_id": update.update_id, "code": reply.code},
            )
            self.refused.append(Refused(update.update_id, f"rejected: {reply.code}"))

    # -- polling ------------------------------------------------------------------------------------
    async def _wait(self, seconds: float, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def run(self, execute: Execute, stop: asyncio.Event) -> None:
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            poll = asyncio.ensure_future(self._poll(offset))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([poll, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not poll.done():
                poll.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await poll
                break
            try:
                updates: Any = poll.result()
            except RetryAfter as exc:
                await self._wait(retry_after_seconds(exc), stop)
                continue
            except (TelegramError, OSError) as exc:
                failures += 1
                delay = min(self.backoff_max, self.backoff_initial * 2 ** min(failures - 1, 16))
                log.warning("telegram polling failed", extra={"error": repr(exc), "retry": delay})
                await self._wait(delay, stop)
                continue
            failures = 0
            for update in updates:
                try:
                    await self.handle(update, execute)
                except Exception as exc:  # the store is down: ask again from this update
                    log.warning("telegram reply not handled", extra={"error": repr(exc)})
                    await self._wait(self.backoff_initial, stop)
                    break
                offset = update.update_id + 1  # confirms it with the next poll

    async def _poll(self, offset: int | None) -> Any:
        if not self._ready:
            await self.bot.initialize()
            self._ready = True
        return await self.bot.get_updates(
            offset=offset,
            timeout=int(self.poll_timeout),
            allowed_updates=["message"],
        )
