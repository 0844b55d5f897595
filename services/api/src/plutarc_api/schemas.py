"""Request and response bodies. Requests reject unknown fields; every field is typed and bounded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from plutarc_runtime.text import codepoint, first_unsafe
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _printable(value: str) -> str:
    """Names are shown to others: no control or format characters (plutarc_runtime.text)."""
    found = first_unsafe(value)
    if found is not None:
        raise ValueError(
            f"must not contain control or format characters (it holds {codepoint(found)})"
        )
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuditEntryOut(BaseModel):
    position: int
    event_id: str
    occurred_at: datetime
    actor: str
    action: str
    workspace_id: str | None
    target: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    correlation_id: str
    causation_id: str | None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: str | None


class CommandStatusOut(BaseModel):
    command_id: str
    status: Literal["pending", "accepted", "rejected"]
    code: str | None = None
    detail: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)


class AcceptedOut(BaseModel):
    command_id: str
    status: Literal["pending"] = "pending"
    status_url: str


class FieldError(BaseModel):
    field: str | None
    message: str
    type: str | None = None


class ProblemOut(BaseModel):
    """RFC 9457 problem details; `code` is stable and meant for programs."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: (
            "The body is not JSON, or not the declared media type",
            ProblemOut,
            "application/problem+json",
        ),
        202: (
            "The reply missed the deadline: the command is pending",
            AcceptedOut,
            "application/json",
        ),
        401: ("Not authenticated", ProblemOut, "application/problem+json"),
        403: ("Not allowed", ProblemOut, "application/problem+json"),
        404: ("Not found, or not yours to see", ProblemOut, "application/problem+json"),
        409: ("Conflicts with the current state", ProblemOut, "application/problem+json"),
        413: ("Body too large", ProblemOut, "application/problem+json"),
        422: ("Invalid input, or refused by a rule", ProblemOut, "application/problem+json"),
        429: ("Rate limited; see Retry-After", ProblemOut, "application/problem+json"),
        503: (
            "Warming up, or the policy engine is unavailable; see Retry-After",
            ProblemOut,
            "application/problem+json",
        ),
    }
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        text, model, media = described[status]
        out[status] = {"description": text, "model": model, "content": {media: {}}}
    return out


READ_ERRORS = problem_responses(400, 401, 403, 404, 422, 429, 503)
WRITE_ERRORS = problem_responses(202, 400, 401, 403, 404, 409, 413, 422, 429, 503)
