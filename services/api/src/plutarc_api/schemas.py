"""Request and response bodies. Requests reject unknown fields; every field is typed and bounded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from plutarc_runtime.text import codepoint, first_unsafe
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Role = Literal["owner", "admin", "manager", "trader", "viewer"]


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
Money = Annotated[str, StringConstraints(pattern=r"^\d{1,15}(\.\d{1,8})?$")]
Permission = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z_]*:[a-z][a-z_]*$", max_length=64)
]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(In):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)]
    display_name: Name


class LoginIn(In):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class OrganisationIn(In):
    name: Name


class RenameIn(In):
    name: Name


class RiskIn(In):
    max_order_notional: Money | None = None
    max_position: Money | None = None
    daily_loss_limit: Money | None = None


class SettingsIn(In):
    risk: RiskIn = Field(default_factory=RiskIn)
    billing_contact: EmailStr | None = None


class TransferIn(In):
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RoleIn(In):
    role: Role


class InviteIn(In):
    email: EmailStr
    role: Role
    expires_in_days: Annotated[int, Field(ge=1, le=30)] = 7


class ResendIn(In):
    expires_in_days: Annotated[int, Field(ge=1, le=30)] = 7


class InvitationTokenIn(In):
    token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class TokenIn(In):
    name: Name
    permissions: Annotated[list[Permission], Field(min_length=1, max_length=34)]
    expires_in_days: Annotated[int, Field(ge=1, le=365)] = 90


class UserOut(BaseModel):
    user_id: str
    email: str
    display_name: str
    personal_workspace_id: str


class SessionOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    session_id: str
    user_id: str
    expires_at: datetime


class MembershipOut(BaseModel):
    workspace_id: str
    name: str
    kind: Literal["personal", "organisation"]
    role: Role
    archived: bool


class WorkspaceOut(BaseModel):
    workspace_id: str
    name: str
    kind: Literal["personal", "organisation"]
    archived: bool
    created_at: datetime
    your_role: Role
    risk: dict[str, str]
    billing_contact: str | None


class MemberOut(BaseModel):
    user_id: str
    email: str | None
    display_name: str | None
    role: Role


class InvitationOut(BaseModel):
    invitation_id: str
    email: str
    role: Role
    expires_at: datetime
    status: Literal["pending", "accepted", "declined", "revoked", "expired"]


class InvitationCreatedOut(InvitationOut):
    token: str = Field(description="Give this to the invitee; it is shown only once")


class TokenOut(BaseModel):
    token_id: str
    name: str
    permissions: list[str]
    expires_at: datetime
    revoked: bool


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret; shown only once")


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


class MemberAsOfOut(BaseModel):
    user_id: str
    email: str | None
    role: str


class InvitationAsOfOut(BaseModel):
    invitation_id: str
    email: str
    role: str
    expires_at: datetime


class TokenAsOfOut(BaseModel):
    token_id: str
    user_id: str
    name: str
    permissions: list[str]
    expires_at: datetime


class WorkspaceAsOfOut(BaseModel):
    """A workspace replayed to an instant (`plutarc_contracts.audit_state.WorkspaceAsOf`)."""

    workspace_id: str
    as_of: datetime
    exists: bool
    name: str | None
    archived: bool
    members: list[MemberAsOfOut]
    pending_invitations: list[InvitationAsOfOut]
    active_tokens: list[TokenAsOfOut]


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
