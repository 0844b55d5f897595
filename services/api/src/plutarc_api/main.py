"""`plutarc-api`: serve the gateway API with settings from PLUTARC_* environment variables."""

from __future__ import annotations

import contextlib
import socket
import sys
from typing import Any

import uvicorn
from fastapi import FastAPI
from plutarc_runtime.logs import configure_logging
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from .app import create_app
from .runtime import ApiRuntime
from .settings import ApiSettings


def proxy_options(settings: ApiSettings) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For/-Proto: believed only from PLUTARC_TRUSTED_PROXIES.

    Wherever the API is served. uvicorn's own default trusts 127.0.0.1 (or $FORWARDED_ALLOW_IPS),
    which let any local client choose the address its rate limit is counted under."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def tcp_listener(config: uvicorn.Config) -> socket.socket:
    """The socket uvicorn's supervisor listens on for its workers, marked as TCP.

    uvicorn binds it with protocol 0, and asyncio sets TCP_NODELAY only on connections accepted
    from a socket that says IPPROTO_TCP: without it every keep-alive response waited about 40 ms
    for the client's delayed ACK (Kludex/uvicorn#3149)."""
    sock = config.bind_socket()
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def worker_app() -> FastAPI:
    """One worker's app (uvicorn's factory when PLUTARC_WORKERS > 1: each worker process builds
    its own, and they share the read models, the state and the limits through the database)."""
    settings = ApiSettings()
    configure_logging("api", settings.log_level, settings.log_json)
    return create_app(settings)


class ApiServer(uvicorn.Server):
    """uvicorn, telling live event streams to end when it starts to shut down.

    uvicorn waits for every open response to finish before it runs the app's own shutdown, and a
    live stream never finishes by itself: left alone, the server would wait for its clients."""

    def __init__(self, config: uvicorn.Config, runtime: ApiRuntime) -> None:
        super().__init__(config)
        self.runtime = runtime

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.runtime.draining.set()
        await super().shutdown(sockets)


def main() -> None:
    settings = ApiSettings()
    configure_logging("api", settings.log_level, settings.log_json)
    if settings.workers > 1:
        # uvicorn's supervisor runs each worker's own server: live streams there are cut after
        # a grace period at shutdown rather than told to end (ApiServer does that for one).
        workers = uvicorn.Config(
            "plutarc_api.main:worker_app",
            factory=True,
            workers=settings.workers,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
            **proxy_options(settings),
        )
        with contextlib.suppress(KeyboardInterrupt):
            Multiprocess(workers, sockets=[tcp_listener(workers)]).run()
        return
    runtime = ApiRuntime(settings)
    config = uvicorn.Config(
        create_app(settings, runtime),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        **proxy_options(settings),
    )
    server = ApiServer(config, runtime)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main()
