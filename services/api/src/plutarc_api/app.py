"""The FastAPI application: routes, problem details, body limits, and the lifespan that starts the
replayed projections and the command producer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from plutarc_contracts.identity import identity_topics
from plutarc_runtime.bus import ensure_topics, make_producer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import problems
from .gateway import CommandGateway
from .metrics import RequestMetrics
from .problems import Problem, problem_response
from .routes import audit, auth, members, workspaces
from .runtime import ApiRuntime, Pending
from .settings import ApiSettings

VERSION = "0.1.0"


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
                    raise Problem(
                        413, "request.too_large", f"the body is larger than {self.max_bytes} bytes"
                    )
            return message

        await self.app(scope, limited, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        request = Request(scope)
        response = problem_response(
            request,
            Problem(413, "request.too_large", f"the body is larger than {self.max_bytes} bytes"),
        )
        await response(scope, request.receive, send)


def create_app(settings: ApiSettings | None = None, runtime: ApiRuntime | None = None) -> FastAPI:
    rt = runtime or ApiRuntime(settings or ApiSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The API may start before the identity service: make sure the topics it replays exist.
        await ensure_topics(rt.settings.kafka_bootstrap, list(identity_topics().all()))
        producer = make_producer(rt.settings.kafka_bootstrap, client_id="api-commands", linger_ms=0)
        await producer.start()
        assert rt.replay is not None
        rt.gateway = CommandGateway(rt.registry, producer, rt.replay, rt.settings.command_deadline)
        rt.replay.listeners.append(rt.gateway.on_event)
        task = asyncio.create_task(rt.replay.run(rt.stop))
        try:
            yield
        finally:
            rt.stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(task), 10)
            await producer.stop()
            if rt.limits is not None:
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

    for module in (auth, workspaces, members, audit):
        app.include_router(module.router)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, Any]:
        return {"service": "api", "status": "alive"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        replay = rt.replay
        rt.metrics.projection_applied.set(replay.applied if replay else 0)
        rt.metrics.projection_caught_up.set(1 if replay and replay.caught_up.is_set() else 0)
        return Response(rt.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        caught_up = rt.replay is not None and rt.replay.caught_up.is_set()
        body = {
            "service": "api",
            "ready": caught_up,
            "applied": rt.replay.applied if rt.replay else 0,
        }
        return JSONResponse(body, status_code=200 if caught_up else 503)

    app.add_middleware(BodyLimit, max_bytes=rt.settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=rt.metrics)
    return app
