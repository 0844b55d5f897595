"""RFC 9457 problem details with a stable `code`, and the mapping from rejection kinds to HTTP status.

Every error the gateway returns goes through here, so clients see one shape: `type`, `title`,
`status`, `detail`, `code`, `instance`, and for invalid input `errors` naming each field.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM = "application/problem+json"
TYPE_BASE = "https://plutarc.dev/problems/"
NOT_JSON = "the body is not valid JSON"

STATUS_BY_KIND: dict[str, int] = {
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "invalid": 422,
    "unavailable": 503,
    "failed": 500,  # a service's handler crashed (a bug, logged there): not the caller's fault
}


def status_for(kind: str) -> int:
    """HTTP status for a rejection's kind (the domain error's base class); 422 for an unknown kind."""
    return STATUS_BY_KIND.get(kind, 422)


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.title = title or code.replace(".", " ").replace("_", " ")
        self.headers = headers or {}
        self.errors = errors
        self.extensions = extensions or {}
        """RFC 9457 extension members (such as the `order_id` of a rejected order)."""


def problem_response(request: Request, p: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        **p.extensions,
        "type": TYPE_BASE + p.code.replace(".", "/"),
        "title": p.title,
        "status": p.status,
        "detail": p.detail,
        "code": p.code,
        "instance": request.url.path,
    }
    if p.errors is not None:
        body["errors"] = p.errors
    return JSONResponse(body, status_code=p.status, headers=p.headers, media_type=PROBLEM)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(x) for x in loc if x not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem_response(request, Problem(400, "request.malformed", NOT_JSON))
        errors = [
            {
                "field": _field(tuple(e.get("loc", ()))),
                "message": e.get("msg", "invalid"),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        names = ", ".join(sorted({e["field"] for e in errors}))
        return problem_response(
            request,
            Problem(
                422,
                "request.invalid",
                f"invalid request: {names}",
                title="Invalid request",
                errors=errors,
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "request.malformed",  # the body could not be decoded: not UTF-8, nested too deep
            404: "request.not_found",
            405: "request.method_not_allowed",
            413: "request.too_large",
        }
        code = codes.get(exc.status_code, f"request.http_{exc.status_code}")
        return problem_response(
            request,
            Problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {})),
        )

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers this one outside every middleware, NoStore included.
        return problem_response(
            request,
            Problem(
                500,
                "server.error",
                "unexpected error; it has been logged",
                headers={"Cache-Control": "no-store"},
            ),
        )
