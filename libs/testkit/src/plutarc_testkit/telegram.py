"""A fake Telegram Bot API server for the tests: a real local HTTP server speaking the Bot API.

python-telegram-bot runs against it unchanged with `Bot(token, base_url=fake.base_url)`. It
answers `getMe`, `sendMessage` (every message kept per chat), `getUpdates` (long polling with
offsets: what a test injects with `operator_says` is delivered once confirmed the way Telegram
confirms it, by a later offset) and `deleteWebhook`/`close`/`logOut` as no-ops. Requests come
form-encoded (as python-telegram-bot sends them, non-string values JSON-encoded) or as JSON.

To test "Telegram down" it can answer every request with an HTTP error (`fail(502)`), rate-limit
(`rate_limit(retry_after=2)`: 429 with `parameters.retry_after`, as Telegram does), or stop
listening altogether (`go_down()`: connection refused) and come back on the same port
(`come_back()`). It runs on its own thread and event loop, so sync and async tests and the
benchmarks use it alike.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 777_000_111
BOT_USERNAME = "plutarc_test_bot"
LONG_POLL_CAP = 50.0  # Telegram holds a getUpdates at most this long


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Failure:
    status: int
    description: str
    retry_after: int | None = None


@dataclass
class Chat:
    chat_id: int
    type: str = "group"
    title: str = "plutarc operators"
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)


def _bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "plutarc", "username": BOT_USERNAME}


class FakeTelegram:
    """One bot (`token`) and its chats. Unknown chats are created on first use unless `chats`
    names the only ones that exist (then a message to another answers `chat not found`)."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        port: int | None = None,
        chats: list[int] | None = None,
    ) -> None:
        self.token = token
        self.port = port or free_port()
        self._strict_chats = chats is not None
        self._chats: dict[int, Chat] = {c: Chat(c) for c in chats or []}
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._confirmed = 0  # updates with ids below this were confirmed by a getUpdates offset
        self._failure: Failure | None = None
        self._failures_left: int | None = None
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every request: (method, parameters)
        self.received_at: dict[int, float] = {}  # message id -> time.monotonic() when sent to us
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._update_arrived: asyncio.Event | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What `Bot(token, base_url=...)` takes: the token and method are appended to it."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeTelegram:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._update_arrived = asyncio.Event()
            loop.run_until_complete(self._listen())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._unlisten())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Telegram server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _listen(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _unlisten(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _on_loop(self, coro: Any) -> None:
        assert self._loop is not None, "the fake Telegram server is not running"
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # -- outages ----------------------------------------------------------------------------------
    def fail(self, status: int = 502, *, times: int | None = None, description: str = "") -> None:
        """Answer every request (or the next `times`) with HTTP `status`."""
        with self._lock:
            self._failure = Failure(status, description or f"Fake outage ({status})")
            self._failures_left = times

    def rate_limit(self, retry_after: int = 1, *, times: int | None = None) -> None:
        """Answer 429 Too Many Requests with `parameters.retry_after`, as Telegram does."""
        with self._lock:
            self._failure = Failure(
                429, f"Too Many Requests: retry after {retry_after}", retry_after
            )
            self._failures_left = times

    def heal(self) -> None:
        with self._lock:
            self._failure, self._failures_left = None, None

    def go_down(self) -> None:
        """Stop listening: connections are refused until `come_back()`."""
        self._on_loop(self._unlisten())

    def come_back(self) -> None:
        self.heal()
        self._on_loop(self._listen())

    @contextmanager
    def down(self) -> Iterator[None]:
        self.go_down()
        try:
            yield
        finally:
            self.come_back()

    # -- what was sent ----------------------------------------------------------------------------
    def sent(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (to one chat, or to all), in order."""
        with self._lock:
            chats = [self._chats.get(int(chat_id))] if chat_id is not None else self._chats.values()
            found = [
                m
                for chat in chats
                if chat is not None
                for m in chat.messages.values()
                if m["from"]["id"] == BOT_ID
            ]
        return sorted(found, key=lambda m: m["message_id"])

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        return [m.get("text", "") for m in self.sent(chat_id)]

    def requests(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    # -- what operators say -----------------------------------------------------------------------
    def operator_says(
        self,
        chat_id: int | str,
        text: str,
        *,
        user_id: int = 4242,
        username: str = "operator",
        reply_to: int | None = None,
    ) -> int:
        """A message from a person in a chat, optionally replying to one of the chat's messages;
        it becomes an update `getUpdates` delivers. Returns the update id."""
        with self._lock:
            chat = self._chat(int(chat_id))
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat.chat_id, "type": chat.type, "title": chat.title},
                "from": {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": username.title(),
                    "username": username,
                },
                "text": text,
            }
            if reply_to is not None:
                message["reply_to_message"] = chat.messages[reply_to]
            chat.messages[message["message_id"]] = message
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, "message": message})
        if self._loop is not None and self._update_arrived is not None:
            self._loop.call_soon_threadsafe(self._update_arrived.set)
        return update_id

    def unconfirmed_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates with a higher offset."""
        with self._lock:
            return sum(1 for u in self._updates if u["update_id"] >= self._confirmed)

    # -- the protocol -----------------------------------------------------------------------------
    def _chat(self, chat_id: int) -> Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = Chat(chat_id)
        return self._chats[chat_id]

    @staticmethod
    async def _parameters(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                for name, value in form.items():
                    params[name] = (
                        value if isinstance(value, str) else repr(value)
                    )  # files: not used
        for name, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                with suppress(ValueError):
                    params[name] = json.loads(value)
        return params

    def _take_failure(self) -> Failure | None:
        with self._lock:
            failure = self._failure
            if failure is not None and self._failures_left is not None:
                self._failures_left -= 1
                if self._failures_left <= 0:
                    self._failure, self._failures_left = None, None
            return failure

    @staticmethod
    def _error(status: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._parameters(request)
        with self._lock:
            self.calls.append((method, params))
        failure = self._take_failure()
        if failure is not None:
            if failure.retry_after is not None:
                return self._error(429, failure.description, retry_after=failure.retry_after)
            return self._error(failure.status, failure.description)
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        handler = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._nothing,
            "close": self._nothing,
            "logOut": self._nothing,
        }.get(method)
        if handler is None:
            return self._error(404, "Not Found")
        return await handler(params)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _nothing(self, params: dict[str, Any]) -> web.Response:
        return self._ok(True)

    async def _get_me(self, params: dict[str, Any]) -> web.Response:
        return self._ok(
            {**_bot_user(), "can_join_groups": True, "can_read_all_group_messages": False}
        )

    async def _send_message(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text", ""))
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            return self._error(400, "Bad Request: chat not found")
        with self._lock:
            if self._strict_chats and chat_id not in self._chats:
                return self._error(400, "Bad Request: chat not found")
            chat = self._chat(chat_id)
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat.chat_id, "type": chat.type, "title": chat.title},
                "from": _bot_user(),
                "text": text,
            }
            if params.get("parse_mode"):
                # As Telegram shows it: markup applied (dropped here), entities unescaped. The
                # text as sent stays in `raw_text` for the tests to look at.
                message["parse_mode"], message["raw_text"] = params["parse_mode"], text
                if str(params["parse_mode"]).upper() == "HTML":
                    message["text"] = html.unescape(re.sub(r"<[^>]+>", "", text))
            reply = params.get("reply_parameters") or {}
            reply_to = reply.get("message_id") if isinstance(reply, dict) else None
            if reply_to is not None and int(reply_to) in chat.messages:
                message["reply_to_message"] = chat.messages[int(reply_to)]
            chat.messages[message["message_id"]] = message
            self.received_at[message["message_id"]] = time.monotonic()
        return self._ok({k: v for k, v in message.items() if k not in ("parse_mode", "raw_text")})

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        wait = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        deadline = time.monotonic() + wait
        assert self._update_arrived is not None
        while True:
            self._update_arrived.clear()
            with self._lock:
                if offset:
                    # Telegram forgets every update below a given offset: they are confirmed.
                    self._confirmed = max(self._confirmed, offset)
                ready = [u for u in self._updates if u["update_id"] >= self._confirmed][:limit]
            left = deadline - time.monotonic()
            if ready or left <= 0:
                return self._ok(ready)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._update_arrived.wait(), left)
