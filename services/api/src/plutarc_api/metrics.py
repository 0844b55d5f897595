"""The gateway's Prometheus metrics: requests by route and status, latency, commands, projections.

Served on the ops port (`PLUTARC_OPS_HOST`/`PLUTARC_OPS_PORT`), never on the public one."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "plutarc_api_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "plutarc_api_request_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.commands = Counter(
            "plutarc_api_commands",
            "Commands sent, by type and outcome (accepted, rejected, pending)",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.live_streams = Gauge(
            "plutarc_api_live_streams",
            "Live event streams (server-sent events) open now",
            registry=self.registry,
        )
        self.projection_applied = Gauge(
            "plutarc_api_projection_events",
            "Events applied to the gateway's projections since start",
            registry=self.registry,
        )
        self.projection_caught_up = Gauge(
            "plutarc_api_projection_caught_up",
            "1 once the projections reached the end offsets seen at start",
            registry=self.registry,
        )

    def follow(self, runtime: Any) -> None:
        """The projection gauges read the runtime's read models whenever they are scraped."""
        self.projection_applied.set_function(runtime.applied)
        self.projection_caught_up.set_function(lambda: 1 if runtime.ready() else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware: counts and times every request by its route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics
        # Each label set's counter and histogram, found once: `labels()` takes a lock and builds
        # a key on every call. Routes are templates, so there are few label sets.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _record(self, method: str, template: str, status: int, seconds: float) -> None:
        children = self._children.get((method, template, status))
        if children is None:
            m = self.metrics
            children = (
                m.requests.labels(method, template, str(status)),
                m.latency.labels(method, template),
            )
            self._children[(method, template, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self._record(method, template, status, time.perf_counter() - started)
