"""Health, readiness and metrics over HTTP for one service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .metrics import Metrics

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]


def ops_app(service: str, metrics: Metrics, checks: dict[str, Check], timeout: float = 2.0) -> Starlette:
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


class OpsServer:
    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]

    @property
    def port(self) -> int | None:
        servers = getattr(self.server, "servers", None)
        if not servers:
            return None
        for sock in servers[0].sockets:
            return int(sock.getsockname()[1])
        return None

    async def run(self, stop: asyncio.Event) -> None:
        task = asyncio.create_task(self.server.serve())
        await stop.wait()
        self.server.should_exit = True
        await task
