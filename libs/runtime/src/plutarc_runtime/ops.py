"""Health, readiness and metrics over HTTP for one service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]


class Renders(Protocol):
    """A registry of metrics (`plutarc_runtime.metrics.Metrics`, the gateway's `ApiMetrics`)."""

    def render(self) -> bytes: ...


def ops_app(
    service: str, metrics: Renders, checks: Mapping[str, Check], timeout: float = 2.0
) -> Starlette:
    async def health(_: Request) -> Response:
        return JSONResponse({"service": service, "status": "alive"})

    async def ready(_: Request) -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failing: {type(exc).__name__}: {exc}"[:300]
        ok = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"service": service, "ready": ok, "checks": results}, status_code=200 if ok else 503
        )

    async def prometheus(_: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/ready", ready),
            Route("/metrics", prometheus),
        ]
    )


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The service owns SIGINT/SIGTERM and stops the ops server with everything else.
        yield


class OpsServer:
    """uvicorn on a socket bound up front, so the port (0 picks a free one) is known at once."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.host = host
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self.server = _Server(config)

    async def run(self, stop: asyncio.Event) -> None:
        task = asyncio.create_task(self.server.serve(sockets=[self.socket]))
        await stop.wait()
        self.server.should_exit = True
        await task
