"""The API's moving parts, wired once from its settings and the modules installed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

import msgspec
from aiokafka import AIOKafkaProducer
from argon2 import PasswordHasher
from fastapi.responses import JSONResponse
from plutarc_access import Authorizer, engine_for
from plutarc_contracts import CommandAccepted, CommandRejected, Registry, Topic, default_registry
from plutarc_runtime.ops import OpsServer
from plutarc_runtime.readmodels import Reader, ReadModels, SqlProjection, open_engine
from sqlalchemy import Engine, func, select

from . import state
from .caller import Caller
from .commands import Replies, produce
from .core_models import OutcomesProjection, WorkspaceLogProjection, workspace_log
from .limits import Limits
from .metrics import ApiMetrics
from .module import ApiModule, Lookups, load_modules
from .problems import Problem, status_for
from .settings import ApiSettings


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


def api_projections(modules: Sequence[ApiModule], registry: Registry) -> list[SqlProjection]:
    """The read models the API keeps: command outcomes, the workspace log, and each module's."""
    events = sorted({c.events.name for m in modules for c in m.contexts})
    # The workspace log (audit log, live stream) also reads the contexts' public streams
    # besides their events topics (the exchange context's orders, keyed by bot).
    logged = sorted({*events, *(t.name for m in modules for c in m.contexts for t in c.streams)})
    return [
        OutcomesProjection(events),
        WorkspaceLogProjection(logged, registry),
        *(p for m in modules for p in m.projections),
    ]


def catch_up_orders(s: ApiSettings) -> bytes:
    """What `plutarc_api.catchup` needs to build the same read models, sent on its stdin (the
    database URL may hold a password: not in its arguments or environment)."""
    return json.dumps(
        {
            "kafka_bootstrap": s.kafka_bootstrap,
            "database_url": s.database_url,
            "data_dir": str(s.data_dir),
            "api_modules": s.api_modules,
        }
    ).encode()


@dataclass
class ApiRuntime:
    settings: ApiSettings
    modules: Sequence[ApiModule] | None = None
    registry: Registry = field(default_factory=default_registry)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: ApiMetrics = field(default_factory=ApiMetrics)

    def __post_init__(self) -> None:
        s = self.settings
        if self.modules is None:
            self.modules = load_modules(s.api_modules or None)
        self.engine: Engine = open_engine(s.database_url, s.data_dir / "api-readmodels.sqlite")
        self.state_engine: Engine = open_engine(
            s.database_url, s.data_dir / "api-state.sqlite", synchronous="OFF"
        )
        self.reader = Reader(self.engine)
        events = sorted({c.events.name for m in self.modules for c in m.contexts})
        self.topics: list[Topic] = sorted(
            {
                **{t.name: t for m in self.modules for c in m.contexts for t in c.all()},
                **{t.name: t for m in self.modules for t in m.topics},
            }.values(),
            key=lambda t: t.name,
        )
        self.read_models = ReadModels(
            self.engine,
            api_projections(self.modules, self.registry),
            bootstrap=s.kafka_bootstrap,
            registry=self.registry,
            name="api",
            lock_path=s.data_dir / "api-readmodels.writer.lock",
            catch_up_command=[sys.executable, "-m", "plutarc_api.catchup"],
            catch_up_input=catch_up_orders(s),
            catch_up_threshold=s.catch_up_in_child,
        )
        self.replies = Replies(s.kafka_bootstrap, self.registry, events)
        providers = [m.lookups for m in self.modules if m.lookups]
        if len(providers) != 1:
            raise ValueError(
                "exactly one API module must provide the lookups (authentication and "
                f"memberships), found {[m.name for m in self.modules if m.lookups]}"
            )
        self.lookups: Lookups = providers[0](self.engine)
        self.authorizer = Authorizer(engine_for(s.opa_url), self.lookups, self.now)
        operators = [m.operators for m in self.modules if m.operators is not None]
        if len(operators) > 1:
            raise ValueError("at most one API module may say who the platform's operators are")
        self._operators = operators[0] if operators else None
        self.limits = Limits(s)
        self.hasher = PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib)
        # What a login for an unknown email is verified against: it costs as much as a known one.
        self.dummy_hash = self.hasher.hash(os.urandom(16).hex())
        self.secret_key = b""  # set by open()
        self.producer: AIOKafkaProducer | None = None
        self.ops: OpsServer | None = None
        self.metrics.follow(self)
        self.visibility: dict[str, str | None] = {}
        self.draining = asyncio.Event()
        """Set when the server starts to shut down: live streams end, so that it can finish."""
        self.log_version = 0
        """Goes up whenever the workspace log grows (any workspace)."""
        self._log_grew = asyncio.Condition()
        for m in self.modules:
            for hook in m.on_start:
                hook(self)

    def open(self) -> None:
        """Create what the API keeps on disk (or in PostgreSQL); run once, at start."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The first connection switches a new SQLite file to WAL, which needs a lock SQLite does
        # not wait for: done here, before the read models and the log watcher open it at once.
        with self.engine.connect():
            pass
        state.metadata.create_all(self.state_engine)
        self.secret_key = state.server_key(self.state_engine, self.settings.secret_key)

    async def check_projections(self) -> None:
        """Readiness on the ops port: the read models reached the end offsets seen at start."""
        if not self.ready():
            raise RuntimeError("still reading the event log")

    def applied(self) -> int:
        return sum(p.applied for p in self.read_models.projectors)

    # -- reading --------------------------------------------------------------------------------
    def ready(self) -> bool:
        return self.read_models.caught_up.is_set() and self.replies.ready.is_set()

    async def authenticate(self, token: str) -> Caller | None:
        if self.lookups.inline:
            return self.lookups.authenticate(token)
        return await asyncio.to_thread(self.lookups.authenticate, token)

    async def is_operator(self, user_id: str) -> bool:
        """Whether the user is a platform operator (no module says so: nobody is)."""
        check = self._operators
        if check is None:
            return False
        return await self.reader.run(lambda _conn: check(self.engine, user_id))

    def visible_with(self, event_type: str) -> str | None:
        """The permission that lets a member see this event type live (None: never streamed)."""
        if event_type not in self.visibility:
            assert self.modules is not None
            found = None
            for m in self.modules:
                found = found or m.visibility(event_type)
            self.visibility[event_type] = found
        return self.visibility[event_type]

    def accept_url(self, token: str) -> str | None:
        """The link mailed to an invitee (identity sends it), or None with no public URL set."""
        base = self.settings.public_url
        return f"{base.rstrip('/')}/invitations/accept#token={token}" if base else None

    async def log_changed(self, seen: int, timeout: float) -> None:
        """Return once the workspace log grew (any workspace) past `log_version` `seen`, which
        may be at once, or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            async with self._log_grew:
                await asyncio.wait_for(
                    self._log_grew.wait_for(lambda: self.log_version != seen), timeout
                )

    async def watch_log(self, interval: float = 0.1) -> None:
        """One query per interval for the whole process, however many streams are open; from
        when the read models have caught up (their tables exist, and no stream is served
        before), so that it never races their creation on a new SQLite file."""
        ready = asyncio.ensure_future(self.read_models.caught_up.wait())
        stopping = asyncio.ensure_future(self.stop.wait())
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (ready, stopping):
            waiter.cancel()
        newest = -1
        while not self.stop.is_set():
            with contextlib.suppress(Exception):
                seq = await self.reader.run(
                    lambda c: c.execute(select(func.max(workspace_log.c.seq))).scalar() or 0
                )
                if seq != newest:
                    newest = seq
                    self.log_version += 1
                    async with self._log_grew:
                        self._log_grew.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), interval)

    # -- writing --------------------------------------------------------------------------------
    async def send(
        self,
        payload: msgspec.Struct,
        *,
        actor: str,
        command_id: str,
        workspace_id: str | None,
        key: str,
        fingerprint: str | None = None,
        owner: str | None = None,
    ) -> CommandAccepted:
        """Send a command and wait for its outcome and for the read models to show it.

        Raises a Problem when it is rejected, Pending when the deadline passes first."""
        assert self.producer is not None, "the API is not started"
        now = self.now()
        await self._record(command_id, owner or actor, fingerprint, now)
        correlation_id = str(uuid4())
        future = self.replies.expect(correlation_id)
        loop = asyncio.get_running_loop()
        budget = self.settings.command_deadline
        started = loop.time()
        kind = type(payload).__name__
        try:
            await produce(
                self.producer,
                self.registry,
                payload,
                actor=actor,
                command_id=command_id,
                workspace_id=workspace_id,
                key=key,
                correlation_id=correlation_id,
            )
            reply = await asyncio.wait_for(future, budget)
        except TimeoutError:
            self.metrics.commands.labels(kind, "pending").inc()
            raise Pending(command_id) from None
        finally:
            self.replies.forget(correlation_id)
        if isinstance(reply, CommandRejected):
            self.metrics.commands.labels(kind, "rejected").inc()
            raise Problem(
                status_for(reply.kind),
                reply.code,
                reply.detail,
                errors=[{"field": reply.field, "message": reply.detail}] if reply.field else None,
            )
        self.metrics.commands.labels(kind, "accepted").inc()
        targets = await self.read_models.end_offsets()
        remaining = max(0.0, budget - (loop.time() - started))
        if not await self.read_models.wait_for(targets, remaining):
            raise Pending(command_id)
        return reply

    async def _record(
        self, command_id: str, actor: str, fingerprint: str | None, now: datetime
    ) -> None:
        await asyncio.to_thread(self._record_sync, command_id, actor, fingerprint, now)

    def _record_sync(
        self, command_id: str, actor: str, fingerprint: str | None, now: datetime
    ) -> None:
        with self.state_engine.begin() as conn:
            state.record_issued(conn, command_id, actor, fingerprint, now)

    async def issued(self, command_id: str) -> tuple[str, str | None] | None:
        """(actor, request fingerprint) of a command some caller issued, or None."""

        def look() -> tuple[str, str | None] | None:
            with self.state_engine.connect() as conn:
                return state.issued_row(conn, command_id)

        return await asyncio.to_thread(look)

    async def housekeeping(self) -> None:
        """Forget idempotency keys past their retention, once an hour."""
        while not self.stop.is_set():
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._purge)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 3600)

    def _purge(self) -> None:
        with self.state_engine.begin() as conn:
            state.purge_issued(conn, state.RETENTION)
