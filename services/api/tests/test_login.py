"""Login over HTTP (the ASGI app in this process, no Kafka): its cost and its throttling.

Timing is not measured (no timed assertions): what makes an unknown email cost as much as a wrong
password is that both run exactly one argon2 verify, which a counting hasher shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from plutarc_api.app import create_app
from plutarc_api.runtime import ApiRuntime
from plutarc_api.settings import ApiSettings
from plutarc_contracts import CommandAccepted
from plutarc_contracts import identity as c
from plutarc_identity.api.models import accounts_md, sessions, users
from plutarc_runtime.readmodels.database import writing

PASSWORD = "correct horse battery"
HOME, OFFICE = "10.0.0.1", "10.0.0.2"


class CountingHasher(PasswordHasher):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verified = 0
        self.before_verify: Callable[[], None] = lambda: None

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # type: ignore[override]
        self.verified += 1
        self.before_verify()
        return super().verify(hash, password)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[ApiRuntime]:
    settings = ApiSettings(data_dir=tmp_path, argon2_time_cost=1, argon2_memory_kib=8192)
    runtime = ApiRuntime(settings)
    runtime.hasher = CountingHasher(time_cost=1, memory_cost=8192)
    runtime.open()
    runtime.read_models.caught_up.set()  # nothing to project: users are put in the tables below
    runtime.replies.ready.set()
    accounts_md.create_all(runtime.engine)
    add_user(runtime, "alice")
    add_user(runtime, "bob")
    add_user(runtime, "invited", password=None)
    yield runtime
    runtime.limits.dispose()
    runtime.engine.dispose()
    runtime.state_engine.dispose()


def add_user(rt: ApiRuntime, name: str, password: str | None = PASSWORD) -> None:
    with writing(rt.engine) as conn:
        conn.execute(
            users.insert().values(
                user_id=name,
                email=f"{name}@example.com",
                display_name=name.title(),
                personal_workspace_id=f"{name}-personal",
                password_hash=rt.hasher.hash(password) if password else None,
            )
        )


@pytest.fixture
def started(rt: ApiRuntime) -> list[c.StartSession]:
    """What identity would do on StartSession, without Kafka: the session appears in the view."""
    sent: list[c.StartSession] = []

    async def send(payload: c.StartSession, **_: Any) -> CommandAccepted:
        sent.append(payload)
        expires = datetime.now(UTC) + timedelta(hours=1)
        with writing(rt.engine) as conn:
            conn.execute(
                sessions.insert().values(
                    token_hash=payload.token_hash,
                    session_id=payload.session_id,
                    user_id=payload.user_id,
                    expires_at=expires,
                )
            )
        return CommandAccepted(
            command_id="c", command_type="StartSession", result={"session_id": payload.session_id}
        )

    rt.send = send  # type: ignore[method-assign,assignment]
    return sent


async def login(rt: ApiRuntime, email: str, password: str, address: str = HOME) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(rt.settings, rt), client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        return await http.post("/v1/auth/login", json={"email": email, "password": password})


def hasher(rt: ApiRuntime) -> CountingHasher:
    assert isinstance(rt.hasher, CountingHasher)
    return rt.hasher


async def test_an_unknown_email_costs_one_verify_and_gets_the_same_answer(
    rt: ApiRuntime, started: list[c.StartSession]
) -> None:
    wrong = await login(rt, "alice@example.com", "not it")
    assert hasher(rt).verified == 1
    unknown = await login(rt, "nobody@example.com", "not it")
    assert hasher(rt).verified == 2
    no_password = await login(rt, "invited@example.com", "not it")
    assert hasher(rt).verified == 3
    assert wrong.status_code == unknown.status_code == no_password.status_code == 401
    assert wrong.json() == unknown.json() == no_password.json()
    assert wrong.json()["code"] == "auth.invalid_credentials"
    assert not started


def test_the_dummy_hash_has_the_parameters_of_real_ones(rt: ApiRuntime) -> None:
    assert rt.hasher is not None and rt.dummy_hash.startswith("$argon2id$")
    assert not rt.hasher.check_needs_rehash(rt.dummy_hash)


async def test_failures_for_one_account_leave_others_at_its_address_alone(
    rt: ApiRuntime, started: list[c.StartSession]
) -> None:
    for _ in range(rt.settings.login_failures):
        r = await login(rt, "alice@example.com", "not it", HOME)
        assert r.json()["code"] == "auth.invalid_credentials"
    throttled = await login(rt, "alice@example.com", PASSWORD, HOME)
    assert throttled.status_code == 429 and throttled.json()["code"] == "auth.login_throttled"
    assert 0 < int(throttled.headers["Retry-After"]) <= rt.settings.login_window_seconds
    bob = await login(rt, "bob@example.com", PASSWORD, HOME)
    assert bob.status_code == 200 and bob.json()["user_id"] == "bob"
    elsewhere = await login(rt, "alice@example.com", PASSWORD, OFFICE)
    assert elsewhere.status_code == 429 and elsewhere.json()["code"] == "auth.login_throttled"
    assert [s.user_id for s in started] == ["bob"]


async def test_failures_recorded_during_the_verify_make_a_right_password_wait(
    rt: ApiRuntime, started: list[c.StartSession]
) -> None:
    """Concurrent wrong guesses that reach the limit while this attempt verifies: the answer is
    the same 429 whether or not its password was right, so it tells a guesser nothing."""

    def concurrent_guesses() -> None:
        for _ in range(rt.settings.login_failures):
            rt.limits.logins.failed("alice@example.com", OFFICE)

    hasher(rt).before_verify = concurrent_guesses
    right = await login(rt, "alice@example.com", PASSWORD, HOME)
    assert right.status_code == 429 and right.json()["code"] == "auth.login_throttled"
    assert not started
