"""The platform in a thread of its own, for synchronous clients (schemathesis, load tools).

Async fixtures run on the test's event loop, which is idle while a synchronous test runs; this
runs the identity, support and bots services and the API server on a private loop in a background thread instead.
With `compute=ComputeOption(...)` (`e2e/live_compute.py`) it runs the compute service too, on the
option's accelerated clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import uvicorn
from plutarc_api.app import create_app
from plutarc_api.commands import produce
from plutarc_api.main import ApiServer, proxy_options
from plutarc_api.runtime import ApiRuntime
from plutarc_api.settings import ApiSettings
from plutarc_bots.bootstrap import build as build_bots
from plutarc_contracts import support as s
from plutarc_contracts.market import Candle
from plutarc_exchange.api.models import sealing_key
from plutarc_identity.bootstrap import build
from plutarc_runtime.service import Service
from plutarc_runtime.settings import RuntimeSettings
from plutarc_support.bootstrap import build as build_support
from plutarc_testkit.waiting import wait_until
from sqlalchemy import select

from .exchange_gateway import gateway_spec
from .live_compute import ComputeOption
from .market_feed import MarketFeed

FAST = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500}


async def send_grant_operator(api: ApiRuntime, user_id: str) -> None:
    """What `plutarc support operators grant` sends: `support.grant_operator` as `system:cli`."""
    assert api.producer is not None
    command_id = str(uuid4())
    await produce(
        api.producer,
        api.registry,
        s.GrantOperator(user_id=user_id),
        actor="system:cli",
        command_id=command_id,
        workspace_id=None,
        key=user_id,
        correlation_id=command_id,
    )


class _QuietServer(ApiServer):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


def listening_socket() -> socket.socket:
    """A socket bound to a free loopback port, handed to the server as it is: picking a free port
    and binding it later lets another test session take it in between (CI saw `address already in
    use`). IPPROTO_TCP, so asyncio sets TCP_NODELAY on the connections it accepts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


class LivePlatform:
    def __init__(
        self,
        kafka_bootstrap: str,
        data_dir: Path,
        *,
        compute: ComputeOption | None = None,
        **api: Any,
    ) -> None:
        self._socket = listening_socket()
        port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._identity = Service(
            build(),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir),
            consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
        )
        self._support = Service(
            build_support(),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir / "support"),
            consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
        )
        self._bots = Service(
            build_bots(),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir / "bots"),
            consumer_overrides=FAST,
        )
        self._compute_option = compute
        self._compute = (
            compute.service(kafka_bootstrap, data_dir / "compute", **FAST) if compute else None
        )
        self._exchange = Service(
            gateway_spec(data_dir / "exchange", kafka_bootstrap),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=data_dir / "exchange"),
            consumer_overrides={"session_timeout_ms": 6000, "heartbeat_interval_ms": 500},
        )
        settings = ApiSettings(
            kafka_bootstrap=kafka_bootstrap,
            data_dir=data_dir / "api",
            **{"argon2_time_cost": 1, "argon2_memory_kib": 8192, **api},
        )
        self.api = ApiRuntime(settings)
        self._server = _QuietServer(
            uvicorn.Config(
                create_app(settings, self.api),
                host="127.0.0.1",
                port=port,
                log_config=None,
                access_log=False,
                **proxy_options(settings),
            ),
            self.api,
        )
        self._thread = threading.Thread(target=self._run, name="live-platform", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the test thread by start()
            self._error = exc

    async def _main(self) -> None:
        identity = asyncio.create_task(self._identity.run(self._stop))
        support = asyncio.create_task(self._support.run(self._stop))
        bots = asyncio.create_task(self._bots.run(self._stop))
        exchange = asyncio.create_task(self._exchange.run(self._stop))
        compute = [asyncio.create_task(self._compute.run(self._stop))] if self._compute else []
        serving = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        await self._stop.wait()
        self._server.should_exit = True
        await asyncio.gather(
            identity, support, bots, exchange, *compute, serving, return_exceptions=True
        )
        if self._compute_option is not None and self._compute_option.provider is not None:
            await self._compute_option.provider.close()  # the hosts' bot runtimes

    def start(self) -> LivePlatform:
        self._thread.start()

        def ready() -> bool:
            if self._error is not None:
                return True
            return bool(
                self._server.started
                and self.api.ready()
                and all(
                    s.consumers and s.consumers[0].assigned.is_set()
                    for s in (self._identity, self._support, self._bots, self._exchange)
                )
                and (self._compute is None or self._compute.started.is_set())
                and self._sealing_key_published()
            )

        wait_until(ready, timeout=90, what="live platform ready")
        if self._error is not None:
            raise self._error
        return self

    def _sealing_key_published(self) -> bool:
        with self.api.engine.connect() as conn:
            return conn.execute(select(sealing_key)).first() is not None

    def grant_operator(self, user_id: str) -> None:
        """Make the user a support operator, as `plutarc support operators grant` does
        (`system:cli` on support's commands topic), once the API's operators read model shows it."""

        asyncio.run_coroutine_threadsafe(send_grant_operator(self.api, user_id), self._loop).result(
            30
        )
        wait_until(
            lambda: asyncio.run_coroutine_threadsafe(
                self.api.is_operator(user_id), self._loop
            ).result(10),
            what=f"{user_id} an operator",
        )

    def publish(
        self, venue: str, symbol: str, send: Callable[[MarketFeed], Awaitable[None]]
    ) -> None:
        """Market data of one market on the real `market.*` topics: `send` is given the market's
        feed (this platform runs no market-data source or candle processor: the test is the
        source)."""

        async def publish() -> None:
            async with MarketFeed(self.api.settings.kafka_bootstrap, venue, symbol) as feed:
                await send(feed)

        asyncio.run_coroutine_threadsafe(publish(), self._loop).result(30)

    def publish_candles(self, venue: str, symbol: str, candles: list[Candle]) -> None:
        """Closed candles on `market.candles.v1`, as the candle processor publishes them."""
        self.publish(venue, symbol, lambda feed: feed.candles(candles))

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
