"""`plutarc-api`: serve the gateway API with settings from PLUTARC_* environment variables.

One process serves it (PLUTARC_WORKERS=1), or a supervisor runs N worker processes on the one port
(`workers.py`). This module imports neither the app nor its runtime at the top: the supervisor
imports it too, and needs neither.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import uvicorn
from plutarc_runtime.logs import configure_logging
from uvicorn.config import STARTUP_FAILURE

from .settings import ApiSettings

if TYPE_CHECKING:
    from .runtime import ApiRuntime


def proxy_options(settings: ApiSettings) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For/-Proto: believed only from PLUTARC_TRUSTED_PROXIES.

    Wherever the API is served. uvicorn's own default trusts 127.0.0.1 (or $FORWARDED_ALLOW_IPS),
    which let any local client choose the address its rate limit is counted under."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def server_config(settings: ApiSettings, app: Any, *, supervised: bool = False) -> uvicorn.Config:
    """How uvicorn serves the app. Its "auto" loop and HTTP parser are uvloop and httptools, both
    dependencies of the API (uvloop except on Windows): several times cheaper per request than
    asyncio's loop and h11."""
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        loop="auto",
        http="auto",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5 if supervised else None,
        **proxy_options(settings),
    )


class ApiServer(uvicorn.Server):
    """uvicorn, telling live event streams to end when it starts to shut down.

    uvicorn waits for every open response to finish before it runs the app's own shutdown, and a
    live stream never finishes by itself: left alone, the server would wait for its clients.

    Under the supervisor (`supervised`), a worker leaves SIGINT to it (a Ctrl-C reaches the whole
    process group, and the supervisor then sends each worker one SIGTERM), and `on_started` tells
    the supervisor that this worker serves."""

    def __init__(
        self,
        config: uvicorn.Config,
        runtime: ApiRuntime,
        *,
        supervised: bool = False,
        on_started: Callable[[ApiServer], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.runtime, self.supervised, self.on_started = runtime, supervised, on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started(self)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.runtime.draining.set()
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.supervised and sig == signal.SIGINT:
            return
        super().handle_exit(sig, frame)


def serve(
    settings: ApiSettings,
    sockets: list[socket.socket] | None = None,
    *,
    supervised: bool = False,
    on_started: Callable[[ApiServer], None] | None = None,
) -> bool:
    """Serve the API in this process until told to stop; False if it never started."""
    from .app import create_app
    from .runtime import ApiRuntime

    runtime = ApiRuntime(settings)
    config = server_config(settings, create_app(settings, runtime), supervised=supervised)
    server = ApiServer(config, runtime, supervised=supervised, on_started=on_started)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets)
    return server.started


def main() -> None:
    settings = ApiSettings()
    configure_logging("api", settings.log_level, settings.log_json)
    if settings.workers > 1:
        from .workers import Supervisor

        sys.exit(Supervisor(settings).run())
    if not serve(settings):
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main()
