"""Ticket opened over HTTP -> Telegram alert received by the fake Bot API: the path issue 9 sets
its goal on (p99 under 300 ms).

Identity, support and the API run as their own processes, as in production (`python -m
plutarc_<name>.main`, settings from the environment; support's `telegram` adapter pointed at the
fake Bot API in this process). A user registers, logs in and creates an organisation over HTTP;
then one ticket at a time, `POST /v1/workspaces/{id}/support/tickets` is timed from just before
the request leaves to the moment the fake received the alert's `sendMessage` (its own
`time.monotonic()` stamp, the same clock on one machine), and the HTTP answer alone beside it.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from uuid import uuid4

import httpx
from plutarc_testkit.telegram import FakeTelegram

from .api_bench import PASSWORD, _call
from .common import percentiles
from .processes import child, environment, free_port, wait_ready

CHAT = -100600


def _alert(fake: FakeTelegram, count: int, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while True:
        sent = fake.sent(CHAT)
        if len(sent) >= count:
            return fake.received_at[sent[count - 1]["message_id"]]
        if time.monotonic() > deadline:
            raise TimeoutError(f"alert {count} did not arrive within {timeout} s")
        time.sleep(0.0005)


def measure(work: Path, bootstrap: str, samples: int, warmup: int) -> list[str]:
    ports = {name: free_port() for name in ("identity", "support", "api")}
    common = {"kafka_bootstrap": bootstrap}
    with FakeTelegram(chats=[CHAT]) as fake, contextlib.ExitStack() as stack:
        identity = stack.enter_context(
            child(
                "identity",
                ["-m", "plutarc_identity.main"],
                environment(**common, data_dir=work / "identity", http_port=ports["identity"]),
                work,
            )
        )
        wait_ready(identity, f"http://127.0.0.1:{ports['identity']}/ready")  # topics exist now
        support_env = environment(
            **common,
            data_dir=work / "support",
            http_port=ports["support"],
            support_telegram_bot_token=fake.token,
            support_telegram_chat_id=CHAT,
            support_telegram_api_url=fake.base_url,
        )
        support = stack.enter_context(
            child("support", ["-m", "plutarc_support.main"], support_env, work)
        )
        wait_ready(support, f"http://127.0.0.1:{ports['support']}/ready")
        big = 1_000_000_000
        api_env = environment(
            **common,
            data_dir=work / "api",
            http_port=ports["api"],
            ops_port=free_port(),
            token_rate=big,
            token_burst=big,
            ip_rate=big,
            ip_burst=big,
            argon2_time_cost=1,
            argon2_memory_kib=8192,
            workers=1,
        )
        api = stack.enter_context(child("api", ["-m", "plutarc_api.main"], api_env, work))
        base_url = f"http://127.0.0.1:{ports['api']}"
        wait_ready(api, f"{base_url}/ready")
        with httpx.Client(base_url=base_url, timeout=60) as http:
            email = f"tg-{uuid4().hex[:8]}@example.com"
            body = {"email": email, "password": PASSWORD, "display_name": "Bench"}
            _call(http, "POST", "/v1/auth/register", 201, json=body)
            login = {"email": email, "password": PASSWORD}
            token = _call(http, "POST", "/v1/auth/login", 200, json=login).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            ws = _call(http, "POST", "/v1/organisations", 201, json={"name": "Desk"}).json()[
                "workspace_id"
            ]
            path = f"/v1/workspaces/{ws}/support/tickets"
            ticket = {
                "subject": "Bot stopped trading",
                "body": "It stopped at 03:00.",
                "category": "bots",
                "priority": "high",
            }
            before = len(fake.sent(CHAT))
            alert_ms: list[float] = []
            answer_ms: list[float] = []
            for i in range(warmup + samples):
                t0 = time.monotonic()
                _call(http, "POST", path, 201, json=ticket)
                answered = time.monotonic()
                received = _alert(fake, before + i + 1)
                if i >= warmup:
                    alert_ms.append((received - t0) * 1000)
                    answer_ms.append((answered - t0) * 1000)
            sent = len(fake.sent(CHAT)) - before
        if sent != warmup + samples:
            raise RuntimeError(f"{sent} alerts for {warmup + samples} tickets: not one each")
    return [
        "ticket opened over HTTP (201 answered): " + percentiles(answer_ms),
        "ticket opened over HTTP -> alert at the fake Bot API (goal p99 < 300 ms): "
        + percentiles(alert_ms),
    ]
