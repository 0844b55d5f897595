"""The dashboard (web/, built into web/dist) served at `/`: its files, and index.html for any other
page path so that the app's own routes (/login, /w/<id>/members) load on a refresh or a link.

It answers only what no route matched (the router's default), so it never shadows /v1, the docs,
the probes, or a route added later; an unmatched /v1 or /docs path, a file that does not exist
(a path with an extension) and any method but GET and HEAD keep the API's 404 problem.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import Problem, problem_response

RESERVED = ("/v1", "/docs", "/openapi.json", "/health", "/ready", "/metrics")
ASSETS = "/assets/"
"""Vite names each file there by a hash of its content: it may be cached for good."""

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGE_HEADERS = {
    **HEADERS,
    "Cache-Control": "no-cache",
    # The app talks to its own origin only, and runs no inline script.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'",
}


def default_dist() -> Path:
    """The checkout's web/dist (services/api/src/plutarc_api -> the repository's top)."""
    return Path(__file__).resolve().parents[4] / "web" / "dist"


class Dashboard:
    """The router's default handler: the dashboard's files, else `fallback` (the 404)."""

    def __init__(self, dist: Path, fallback: ASGIApp) -> None:
        self.dist, self.fallback = dist.resolve(), fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "/")
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or any(path == r or path.startswith(r + "/") for r in RESERVED)
        ):
            await self.fallback(scope, receive, send)
            return
        response = self.respond(path, Request(scope))
        if response is None:
            await self.fallback(scope, receive, send)
        else:
            await response(scope, receive, send)

    def respond(self, path: str, request: Request) -> Response | None:
        index = self.dist / "index.html"
        if not index.is_file():
            return problem_response(
                request,
                Problem(
                    404,
                    "dashboard.not_built",
                    "the dashboard is not built here: run `make web` (the API is at /v1, "
                    "its documentation at /docs)",
                ),
            )
        wanted = (self.dist / path.lstrip("/")).resolve()
        if wanted != self.dist and wanted.is_relative_to(self.dist) and wanted.is_file():
            cache = "public, max-age=31536000, immutable" if path.startswith(ASSETS) else "no-cache"
            return FileResponse(wanted, headers={**HEADERS, "Cache-Control": cache})
        if "." in path.rsplit("/", 1)[-1]:
            return None  # a file that is not there: 404, not the app
        return FileResponse(index, headers=PAGE_HEADERS, media_type="text/html")
