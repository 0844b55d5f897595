"""The platform as it runs: the identity, support, bots and exchange gateway services and the
gateway API on real Kafka, over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import httpx
import pytest
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient
from playwright.sync_api import Browser, BrowserContext
from plutarc_access import engine_for
from plutarc_api.app import create_app
from plutarc_api.main import ApiServer, proxy_options
from plutarc_api.runtime import ApiRuntime
from plutarc_api.settings import ApiSettings
from plutarc_bots.bootstrap import build as build_bots
from plutarc_contracts import topics_of
from plutarc_exchange.api.models import sealing_key
from plutarc_identity.bootstrap import build
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.service import Service
from plutarc_runtime.settings import RuntimeSettings
from plutarc_support.bootstrap import build as build_support
from plutarc_testkit.waiting import until
from sqlalchemy import select

from .exchange_gateway import gateway_spec
from .live import listening_socket, send_grant_operator

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

    from .browser import Scene

FAST_GROUPS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500}


class _QuietServer(ApiServer):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@dataclass
class Platform:
    base_url: str
    api: ApiRuntime
    identity: Service
    identity_stop: asyncio.Event
    identity_task: asyncio.Task[None]
    support: Service | None = None
    support_stop: asyncio.Event | None = None
    support_task: asyncio.Task[None] | None = None
    others: list[tuple[Service, asyncio.Event, asyncio.Task[None]]] | None = None
    """Further services (bots), stopped with the platform."""

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)

    async def user(self, name: str) -> tuple[str, str, str]:
        """Register and log in; returns (token, user_id, email)."""
        email = f"{name}-{uuid4().hex[:8]}@example.com"
        async with self.client() as http:
            r = await http.post(
                "/v1/auth/register",
                json={
                    "email": email,
                    "password": "correct horse battery",
                    "display_name": name.title(),
                },
            )
            assert r.status_code == 201, r.text
            user_id = r.json()["user_id"]
            r = await http.post(
                "/v1/auth/login", json={"email": email, "password": "correct horse battery"}
            )
            assert r.status_code == 200, r.text
            return r.json()["token"], user_id, email

    async def stop_identity(self) -> None:
        self.identity_stop.set()
        await asyncio.wait_for(self.identity_task, 30)

    async def stop_support(self) -> None:
        if self.support_stop is not None and self.support_task is not None:
            self.support_stop.set()
            await asyncio.wait_for(self.support_task, 30)

    async def operator(self, name: str) -> tuple[str, str, str]:
        """A new user made a support operator, as `plutarc support operators grant` does
        (`system:cli` on support's commands topic), once the API's operators read model shows it."""
        user = await self.user(name)
        await self.grant_operator(user[1])
        return user

    async def grant_operator(self, user_id: str) -> None:
        await send_grant_operator(self.api, user_id)
        await until(lambda: self.api.is_operator(user_id), what=f"{user_id} an operator")


SERVICES = ("identity", "support", "bots", "exchange")


async def fresh_identity_topics(bootstrap: str, contexts: tuple[str, ...] = SERVICES) -> None:
    """Each platform starts as a new deployment would: its services' stores are empty, so their
    topics must be too. Otherwise a new service would start on every command earlier tests sent
    on the session's shared broker (and the API replay all their events)."""
    names = [t.name for c in contexts for t in topics_of(c).all()]
    names += [f"{c}.deadletter.v1" for c in contexts]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="e2e-reset")
    await admin.start()
    try:
        existing = [n for n in names if n in set(await admin.list_topics())]
        if existing:
            await admin.delete_topics(existing)
            await until(
                lambda: _gone(admin, existing), what="the services' topics deleted", timeout=60
            )
    finally:
        await admin.close()
    await ensure_topics(bootstrap, [t for c in contexts for t in topics_of(c).all()])


async def _gone(admin: AIOKafkaAdminClient, names: list[str]) -> bool:
    return not set(names) & set(await admin.list_topics())


async def _started(name: str, service: Service, task: asyncio.Task[None]) -> None:
    await until(lambda: service.started.is_set() or task.done(), what=f"{name} started")
    if task.done():
        task.result()
    await until(service.consumers[0].assigned.is_set, what=f"{name} command partitions")


@pytest.fixture
async def platform(
    kafka_bootstrap: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Platform]:
    overrides: dict[str, Any] = getattr(request, "param", {}) or {}
    async with running_platform(kafka_bootstrap, tmp_path, **overrides) as running:
        yield running


@contextlib.asynccontextmanager
async def running_platform(
    kafka_bootstrap: str,
    data_dir: Path,
    *,
    identity_opa_url: str | None = None,
    support: bool = True,
    exchange: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[Platform]:
    """Identity, support, bots and the exchange gateway (unless `support=False`) and the API in
    this event loop;
    `overrides` are ApiSettings fields.

    `identity_opa_url` points the identity service's policy at an OPA server (as its
    PLUTARC_OPA_URL would); `opa_url` in `overrides` does the same for the API.
    """
    if not (data_dir / "identity").exists():  # a second platform on the same store keeps them
        await fresh_identity_topics(kafka_bootstrap, SERVICES if support else ("identity",))
    others: list[tuple[Service, asyncio.Event, asyncio.Task[None]]] = []
    identity = Service(
        build(policy=engine_for(identity_opa_url)),
        RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir / "identity"),
        consumer_overrides=FAST_GROUPS,
    )
    identity_stop = asyncio.Event()
    identity_task = asyncio.create_task(identity.run(identity_stop))
    support_service = support_stop = support_task = None
    if support:
        support_service = Service(
            build_support(policy=engine_for(identity_opa_url)),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir / "support"),
            consumer_overrides=FAST_GROUPS,
        )
        support_stop = asyncio.Event()
        support_task = asyncio.create_task(support_service.run(support_stop))
        bots = Service(
            build_bots(policy=engine_for(identity_opa_url)),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir / "bots"),
            consumer_overrides=FAST_GROUPS,
        )
        bots_stop = asyncio.Event()
        others.append((bots, bots_stop, asyncio.create_task(bots.run(bots_stop))))
        gateway = Service(
            gateway_spec(
                data_dir / "exchange",
                kafka_bootstrap,
                engine_for(identity_opa_url),
                **(exchange or {}),
            ),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir / "exchange"),
            consumer_overrides=FAST_GROUPS,
        )
        gateway_stop = asyncio.Event()
        others.append((gateway, gateway_stop, asyncio.create_task(gateway.run(gateway_stop))))
    await _started("identity", identity, identity_task)
    if support_service is not None and support_task is not None:
        await _started("support", support_service, support_task)
    for service, _stop, task in others:
        await _started(service.spec.name, service, task)

    settings = ApiSettings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=data_dir / "api",
        **{"argon2_time_cost": 1, "argon2_memory_kib": 8192, **overrides},
    )
    runtime = ApiRuntime(settings)
    app = create_app(settings, runtime)
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = _QuietServer(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            **proxy_options(settings),
        ),
        runtime,
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    await until(lambda: server.started or serving.done(), what="API listening")
    try:
        # Longer than SQLite's busy timeout (30 s), so a start that failed says why.
        await until(runtime.ready, timeout=45, what="API read models caught up")
    except Exception:
        print("replies ready", runtime.replies.ready.is_set(), runtime.read_models.status())
        faulthandler.dump_traceback(all_threads=True)  # where each thread waits (CI diagnosis)
        raise
    if support:
        await until(
            lambda: runtime.reader.one(select(sealing_key)),
            what="the exchange gateway's sealing key in the API's read model",
        )
    platform = Platform(
        f"http://127.0.0.1:{port}",
        runtime,
        identity,
        identity_stop,
        identity_task,
        support_service,
        support_stop,
        support_task,
        others,
    )
    try:
        yield platform
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)
        if not identity_task.done():
            await platform.stop_identity()
        if support_task is not None and not support_task.done():
            await platform.stop_support()
        for _service, stop, task in others:
            stop.set()
            await asyncio.wait_for(task, 30)


# -- the dashboard's browser journeys (e2e/test_dashboard*.py; each module runs its own `live`) --
# (browser.py imports this module: what it holds is imported when a journey asks for it)
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from .browser import chromium

    with chromium() as running:
        yield running


@pytest.fixture
def viewer_zone() -> str | None:
    """The browser's time zone (None: the machine's); a module may say another."""
    return None


@pytest.fixture
def context(browser: Browser, viewer_zone: str | None) -> Iterator[BrowserContext]:
    from .browser import open_context

    context = open_context(browser, viewer_zone)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def scene(live: Any) -> Scene:
    from .browser import Scene

    return Scene(live.base_url)
