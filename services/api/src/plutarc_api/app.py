"""The FastAPI application: the core routes and every module's, problem details, body limits, and
the lifespan that starts the read models, the reply reader and the command producer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.ops import OpsServer, ops_app
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import problems
from .dashboard import Dashboard, default_dist
from .metrics import RequestMetrics
from .nostore import NoStore
from .problems import Problem, problem_response
from .routes import core
from .runtime import ApiRuntime, Pending
from .settings import ApiSettings

VERSION = "0.1.0"

log = logging.getLogger(__name__)


class BodyLimit:
    """413 for bodies over the limit, whether announced by Content-Length or streamed in chunks."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(scope, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException, not a Problem: FastAPI turns any other error raised while
                    # it reads the body into a 400, but lets HTTPException through (-> problems).
                    raise HTTPException(413, f"the body is larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        request = Request(scope)
        response = problem_response(
            request,
            Problem(413, "request.too_large", f"the body is larger than {self.max_bytes} bytes"),
        )
        await response(scope, request.receive, send)


def ops_server(rt: ApiRuntime) -> OpsServer:
    """The ops endpoint. With N workers each has its own, on the first free port of
    ops_port .. ops_port+N-1 (each worker's metrics are its own)."""
    s = rt.settings
    app = ops_app("api", rt.metrics, {"projections": rt.check_projections})
    ports = range(s.ops_port, s.ops_port + s.workers) if s.ops_port else [0]
    for port in ports:
        try:
            return OpsServer(app, s.ops_host, port)
        except OSError:
            if port == ports[-1]:
                raise
    raise AssertionError("unreachable")


def create_app(settings: ApiSettings | None = None, runtime: ApiRuntime | None = None) -> FastAPI:
    rt = runtime or ApiRuntime(settings or ApiSettings())
    assert rt.modules is not None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Metrics are for operators: on a port of their own, bound to the ops host, not the API's.
        rt.ops = ops_server(rt)
        tasks = [asyncio.create_task(rt.ops.run(rt.stop), name="ops")]
        log.info("ops endpoint listening", extra={"ops_port": rt.ops.port})
        producer = None
        try:
            await asyncio.to_thread(rt.open)
            # The API may start before the services: make sure the topics it reads exist.
            await ensure_topics(rt.settings.kafka_bootstrap, rt.topics)
            producer = make_producer(
                rt.settings.kafka_bootstrap, client_id="api-commands", linger_ms=0
            )
            await producer.start()
            rt.producer = producer
            tasks += [
                asyncio.create_task(rt.read_models.run(rt.stop), name="read-models"),
                asyncio.create_task(rt.replies.run(rt.stop), name="replies"),
                asyncio.create_task(rt.watch_log(), name="watch-log"),
                asyncio.create_task(rt.housekeeping(), name="housekeeping"),
            ]
            yield
        finally:
            rt.stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
            if producer is not None:
                await producer.stop()
            rt.lookups.close()
            rt.engine.dispose()
            rt.state_engine.dispose()
            rt.limits.dispose()

    app = FastAPI(
        title="plutarc API",
        version=VERSION,
        description="Gateway to plutarc: authenticate, act in a workspace, read its state. "
        "Errors are RFC 9457 problem details with a stable `code`.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.runtime = rt
    problems.install(app)

    @app.exception_handler(Pending)
    async def on_pending(request: Request, exc: Pending) -> JSONResponse:
        return exc.response()

    app.include_router(core.router)
    for module in rt.modules:
        for router in module.routers:
            app.include_router(router)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, Any]:
        # `worker` tells the processes behind one port apart (operators, and the workers test).
        return {"service": "api", "status": "alive", "worker": os.getpid()}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        body = {"service": "api", "ready": rt.ready(), **rt.read_models.status()}
        return JSONResponse(body, status_code=200 if rt.ready() else 503)

    # Last, as the router's default: only what no route matched reaches the dashboard.
    app.router.default = Dashboard(rt.settings.web_dir or default_dist(), app.router.not_found)
    app.add_middleware(BodyLimit, max_bytes=rt.settings.max_body_bytes)
    app.add_middleware(NoStore)  # outside BodyLimit, so its own 413 says no-store too
    app.add_middleware(RequestMetrics, metrics=rt.metrics)
    return app
