"""The gateway's moving parts, wired once (cosmicpython's bootstrap), and the request dependencies."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Annotated

import msgspec
from argon2 import PasswordHasher
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from plutarc_access import Authorizer, Memberships, engine_for
from plutarc_contracts import (
    CommandAccepted,
    CommandRejected,
    Registry,
    default_registry,
    events_topic,
)
from plutarc_contracts import identity as c
from plutarc_runtime.checkpoint import CheckpointFile
from plutarc_runtime.projection import ReplayConsumer
from sqlalchemy.engine import Engine

from .auth import Principal, authenticate
from .gateway import CommandGateway, Outcome
from .limits import LoginThrottle, RateLimiter, limits_engine
from .metrics import ApiMetrics
from .problems import Problem, status_for
from .settings import ApiSettings
from .views import IdentityView


@dataclass
class ApiRuntime:
    settings: ApiSettings
    registry: Registry = field(default_factory=default_registry)
    view: IdentityView = field(init=False)
    memberships: Memberships = field(init=False)
    authorizer: Authorizer = field(init=False)
    replay: ReplayConsumer | None = None
    gateway: CommandGateway | None = None
    limits: Engine | None = None
    per_token: RateLimiter | None = None
    per_ip: RateLimiter | None = None
    logins: LoginThrottle | None = None
    hasher: PasswordHasher | None = None
    dummy_hash: str = ""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    secret_key: bytes = b""
    metrics: ApiMetrics = field(default_factory=ApiMetrics)

    def __post_init__(self) -> None:
        s = self.settings
        self.view = IdentityView(self.registry)
        self.memberships = Memberships(engine_for(s.opa_url))
        self.authorizer = self.memberships.authorizer()
        self.secret_key = s.secret_key.encode() if s.secret_key else os.urandom(32)
        self.limits = limits_engine(s)  # shared by every worker and replica on the same database
        self.per_token = RateLimiter(self.limits, s.token_rate, s.token_burst, name="token")
        self.per_ip = RateLimiter(self.limits, s.ip_rate, s.ip_burst, name="ip")
        self.logins = LoginThrottle(
            self.limits, s.login_failures, s.login_window_seconds, s.login_failures_per_address
        )
        self.hasher = PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib)
        # What a login for an unknown email is verified against: it costs as much as a known one.
        self.dummy_hash = self.hasher.hash(os.urandom(16).hex())
        self.replay = ReplayConsumer(
            name="api",
            bootstrap=s.kafka_bootstrap,
            topics=[events_topic(c.IDENTITY), c.CREDENTIALS_TOPIC],
            registry=self.registry,
            projections=[self.view, self.memberships],
            checkpoint=CheckpointFile(s.checkpoint_path) if s.checkpoint_interval > 0 else None,
            checkpoint_interval=s.checkpoint_interval,
        )

    def accept_url(self, token: str) -> str | None:
        """The link mailed to an invitee (identity sends it), or None with no public URL set."""
        base = self.settings.public_url
        return f"{base.rstrip('/')}/invitations/accept#token={token}" if base else None

    async def command(
        self,
        payload: msgspec.Struct,
        *,
        actor: str,
        command_id: str,
        workspace_id: str | None,
        key: str,
    ) -> CommandAccepted:
        """Send a command and wait for its outcome: accepted, or a Problem (rejected / still pending)."""
        assert self.gateway is not None
        outcome: Outcome = await self.gateway.send(
            c.IDENTITY,
            payload,
            actor=actor,
            command_id=command_id,
            workspace_id=workspace_id,
            key=key,
        )
        kind = type(payload).__name__
        if outcome.reply is None:
            self.metrics.commands.labels(kind, "pending").inc()
            raise Pending(outcome.command_id)
        self.metrics.commands.labels(
            kind, "rejected" if isinstance(outcome.reply, CommandRejected) else "accepted"
        ).inc()
        if isinstance(outcome.reply, CommandRejected):
            r = outcome.reply
            raise Problem(
                status_for(r.kind),
                r.code,
                r.detail,
                errors=[{"field": r.field, "message": r.detail}] if r.field else None,
            )
        return outcome.reply


class Pending(Exception):
    """The deadline passed before the reply: answer 202 with where to look later."""

    def __init__(self, command_id: str) -> None:
        super().__init__(command_id)
        self.command_id = command_id

    def response(self) -> JSONResponse:
        url = f"/v1/commands/{self.command_id}"
        return JSONResponse(
            {"command_id": self.command_id, "status": "pending", "status_url": url},
            status_code=202,
            headers={"Location": url, "Retry-After": "1"},
        )


# The dependencies below are `async def` although they never await: FastAPI runs a plain `def`
# dependency in a worker thread, and three thread hops per request cost more than the work itself.
async def runtime(request: Request) -> ApiRuntime:
    rt: ApiRuntime = request.app.state.runtime
    if rt.replay is None or not rt.replay.caught_up.is_set():
        raise Problem(
            503,
            "api.warming_up",
            "the API is still reading the event log; retry shortly",
            headers={"Retry-After": "1"},
        )
    return rt


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limited(rt: ApiRuntime, key: str, limiter: RateLimiter | None) -> None:
    assert limiter is not None
    wait = limiter.take(key)
    if wait > 0:
        raise Problem(
            429,
            "api.rate_limited",
            "too many requests; slow down",
            headers={"Retry-After": str(max(1, round(wait + 0.5)))},
        )


async def ip_limit(request: Request, rt: Annotated[ApiRuntime, Depends(runtime)]) -> ApiRuntime:
    limited(rt, client_ip(request), rt.per_ip)
    return rt


async def current_principal(
    rt: Annotated[ApiRuntime, Depends(ip_limit)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    principal = authenticate(rt.view, rt.memberships.tokens, authorization)
    limited(rt, principal.actor, rt.per_token)
    return principal


Runtime = Annotated[ApiRuntime, Depends(ip_limit)]
Caller = Annotated[Principal, Depends(current_principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat a write safely: the same key returns the first outcome",
    ),
]
