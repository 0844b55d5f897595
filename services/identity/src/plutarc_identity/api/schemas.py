"""Identity's request and response bodies. Requests reject unknown fields; every field is typed
and bounded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from plutarc_api.schemas import In, Name
from pydantic import BaseModel, EmailStr, Field, StringConstraints

Role = Literal["owner", "admin", "manager", "trader", "viewer"]
Money = Annotated[str, StringConstraints(pattern=r"^\d{1,15}(\.\d{1,8})?$")]
Permission = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z_]*:[a-z][a-z_]*$", max_length=64)
]


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
    max_open_orders: Annotated[int, Field(ge=1, le=10_000)] | None = None
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


class AccessOut(BaseModel):
    workspace_id: str
    actor: str = Field(description="user:<id>, or token:<id> for a personal access token")
    role: Role
    permissions: list[str] = Field(description="Every permission you hold here, sorted")
    grantable_roles: list[Role] = Field(
        description="The roles you may invite someone with or assign (none without "
        "invitations:create), highest first"
    )


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
