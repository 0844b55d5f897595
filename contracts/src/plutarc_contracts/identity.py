"""Identity contracts: users, sessions, workspaces, memberships, invitations and API tokens.

Secrets never travel in plaintext. Commands carry only hashes made at the edge (an argon2id PHC
string for a password, a SHA-256 hex digest for a session, invitation or API token), and events
that carry a hash go to ``identity.credentials.v1``, which only the gateway API reads; every other
identity event goes to ``identity.events.v1``. Events name what changed before and after, so an
audit entry can be derived from any one of them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from plutarc_contracts.envelope import Payload, UtcDateTime
from plutarc_contracts.registry import Registry
from plutarc_contracts.topics import FOREVER, ContextTopics, Topic, declare_context

IDENTITY = "identity"
CREDENTIALS_TOPIC = "identity.credentials.v1"

Role = Literal["owner", "admin", "manager", "trader", "viewer"]
WorkspaceKind = Literal["personal", "organisation"]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Sha256Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Money = Annotated[str, msgspec.Meta(pattern=r"^\d{1,15}(\.\d{1,8})?$")]
Url = Annotated[str, msgspec.Meta(pattern="^https?://", max_length=2000)]


# --- events ----------------------------------------------------------------------------------------
class UserRegistered(Payload, frozen=True, kw_only=True):
    user_id: Id
    email: Email
    display_name: Name
    personal_workspace_id: Id


class EmailClaimed(Payload, frozen=True, kw_only=True):
    """Makes an email unique: one claim stream per normalised address."""

    email: Email
    user_id: Id


class PasswordSet(Payload, frozen=True, kw_only=True):
    user_id: Id
    password_hash: str


class SessionStarted(Payload, frozen=True, kw_only=True):
    session_id: Id
    user_id: Id
    token_hash: Sha256Hex
    expires_at: UtcDateTime


class SessionEnded(Payload, frozen=True, kw_only=True):
    session_id: Id
    user_id: Id
    reason: Literal["logout", "expired", "revoked"]


class WorkspaceCreated(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    kind: WorkspaceKind
    name: Name
    created_by: Id


class WorkspaceRenamed(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    previous_name: Name
    name: Name


class RiskDefaultsV1(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    max_order_notional: Money | None = None
    max_position: Money | None = None
    daily_loss_limit: Money | None = None


class RiskDefaults(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A workspace's risk limits: its bots' defaults and caps (plutarc_contracts.bots)."""

    max_order_notional: Money | None = None
    max_position: Money | None = None
    max_open_orders: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    daily_loss_limit: Money | None = None


class WorkspaceSettingsChangedV1(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    previous_risk: RiskDefaultsV1
    risk: RiskDefaultsV1
    previous_billing_contact: Email | None = None
    billing_contact: Email | None = None


class WorkspaceSettingsChanged(Payload, frozen=True, kw_only=True):
    """v2: the risk limits may cap open orders (`max_open_orders`); v1 had no such cap."""

    workspace_id: Id
    previous_risk: RiskDefaults
    risk: RiskDefaults
    previous_billing_contact: Email | None = None
    billing_contact: Email | None = None


def _same_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2 where v2 only adds an optional field: a v1 payload is a v2 one as it is."""
    return payload


class WorkspaceArchived(Payload, frozen=True, kw_only=True):
    workspace_id: Id


class MemberJoined(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    user_id: Id
    role: Role
    via: Literal["creation", "invitation"]
    invitation_id: Id | None = None


class MemberRoleChanged(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    user_id: Id
    previous_role: Role
    role: Role


class MemberRemoved(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    user_id: Id
    previous_role: Role
    reason: Literal["removed", "left"]


class OwnershipTransferredV1(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    from_user_id: Id
    to_user_id: Id
    to_previous_role: Role


class OwnershipTransferred(Payload, frozen=True, kw_only=True):
    """The new owner becomes owner; the previous owner's new role is stated, not implied."""

    workspace_id: Id
    from_user_id: Id
    to_user_id: Id
    to_previous_role: Role
    from_new_role: Role


def _ownership_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "from_new_role": "admin"}  # what v1 always meant


class InvitationCreated(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    email: Email
    role: Role
    expires_at: UtcDateTime


class InvitationResent(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    expires_at: UtcDateTime


class InvitationTokenSet(Payload, frozen=True, kw_only=True):
    """The hash of an invitation's current single-use token (credentials topic only)."""

    workspace_id: Id
    invitation_id: Id
    token_hash: Sha256Hex
    expires_at: UtcDateTime


class InvitationExpired(Payload, frozen=True, kw_only=True):
    """Recorded by the identity service's timer once an invitation passed its expiry unanswered."""

    workspace_id: Id
    invitation_id: Id
    expired_at: UtcDateTime


class InvitationAccepted(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    user_id: Id


class InvitationDeclined(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    user_id: Id


class InvitationRevoked(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id


class ApiTokenIssued(Payload, frozen=True, kw_only=True):
    token_id: Id
    user_id: Id
    workspace_id: Id
    name: Name
    permissions: list[str]
    expires_at: UtcDateTime


class ApiTokenCredentialSet(Payload, frozen=True, kw_only=True):
    token_id: Id
    user_id: Id
    workspace_id: Id
    token_hash: Sha256Hex
    expires_at: UtcDateTime


class ApiTokenRevoked(Payload, frozen=True, kw_only=True):
    token_id: Id
    user_id: Id
    workspace_id: Id


# --- commands --------------------------------------------------------------------------------------
class RegisterUser(Payload, frozen=True, kw_only=True):
    user_id: Id
    personal_workspace_id: Id
    email: Email
    display_name: Name
    password_hash: str


class StartSession(Payload, frozen=True, kw_only=True):
    session_id: Id
    user_id: Id
    token_hash: Sha256Hex
    ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=30 * 24 * 3600)] = 12 * 3600


class EndSession(Payload, frozen=True, kw_only=True):
    session_id: Id


class CreateOrganisation(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    name: Name


class RenameWorkspace(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    name: Name


class ChangeWorkspaceSettingsV1(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    risk: RiskDefaultsV1
    billing_contact: Email | None = None


class ChangeWorkspaceSettings(Payload, frozen=True, kw_only=True):
    """v2: `risk` may hold `max_open_orders`."""

    workspace_id: Id
    risk: RiskDefaults
    billing_contact: Email | None = None


class ArchiveWorkspace(Payload, frozen=True, kw_only=True):
    workspace_id: Id


class TransferOwnership(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    to_user_id: Id


class InviteMemberV1(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    email: Email
    role: Role
    token_hash: Sha256Hex
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 7


class InviteMember(Payload, frozen=True, kw_only=True):
    """``accept_url`` (with the one-time token in it) is mailed to the invitee and never stored
    outside the identity service's private intent record; without it no email is sent."""

    workspace_id: Id
    invitation_id: Id
    email: Email
    role: Role
    token_hash: Sha256Hex
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 7
    accept_url: Url | None = None

    @classmethod
    def example(cls) -> InviteMember:
        return cls(
            workspace_id="0194a0c0-5e00-7000-8000-0000000000a1",
            invitation_id="0194a0c0-5e00-7000-8000-0000000000b1",
            email="invitee@example.com",
            role="trader",
            token_hash="0" * 64,
            accept_url="https://plutarc.example/invitations/accept#token=pli_example",
        )


class ResendInvitationV1(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    token_hash: Sha256Hex
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 7


class ResendInvitation(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    token_hash: Sha256Hex
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 7
    accept_url: Url | None = None

    @classmethod
    def example(cls) -> ResendInvitation:
        return cls(
            workspace_id="0194a0c0-5e00-7000-8000-0000000000a1",
            invitation_id="0194a0c0-5e00-7000-8000-0000000000b1",
            token_hash="1" * 64,
            accept_url="https://plutarc.example/invitations/accept#token=pli_example2",
        )


def _add_accept_url(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "accept_url": None}


class ExpiringInvitationV1(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    workspace_id: Id
    invitation_id: Id


class ExpireInvitationsV1(Payload, frozen=True, kw_only=True):
    invitations: Annotated[list[ExpiringInvitationV1], msgspec.Meta(min_length=1, max_length=1000)]


class ExpiringInvitation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    workspace_id: Id
    invitation_id: Id
    expires_at: UtcDateTime | None = None
    """The expiry the timer saw. The timer's command id derives from the payload, so an invitation
    resent after it expired, expiring again, is a new command (v1 made it a repeat of the first,
    answered with the first outcome and never recorded). None for commands written as v1."""


class ExpireInvitations(Payload, frozen=True, kw_only=True):
    """Issued by the identity service's own timer (actor ``system:identity``), never by users."""

    invitations: Annotated[list[ExpiringInvitation], msgspec.Meta(min_length=1, max_length=1000)]


def _expiring_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "invitations": [{**i, "expires_at": None} for i in data["invitations"]]}


class ExpireSessions(Payload, frozen=True, kw_only=True):
    """Issued by the identity service's own timer (actor ``system:identity``), never by users."""

    session_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=1000)]


class AcceptInvitation(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    token_hash: Sha256Hex


class DeclineInvitation(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id
    token_hash: Sha256Hex


class RevokeInvitation(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    invitation_id: Id


class ChangeMemberRole(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    user_id: Id
    role: Role


class RemoveMember(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    user_id: Id


class LeaveWorkspace(Payload, frozen=True, kw_only=True):
    workspace_id: Id


class IssueApiToken(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    token_id: Id
    name: Name
    permissions: Annotated[list[str], msgspec.Meta(min_length=1, max_length=34)]
    token_hash: Sha256Hex
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 90


class RevokeApiToken(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    token_id: Id


EVENTS: dict[str, type[msgspec.Struct]] = {
    "identity.user_registered": UserRegistered,
    "identity.email_claimed": EmailClaimed,
    "identity.password_set": PasswordSet,
    "identity.session_started": SessionStarted,
    "identity.session_ended": SessionEnded,
    "identity.workspace_created": WorkspaceCreated,
    "identity.workspace_renamed": WorkspaceRenamed,
    "identity.workspace_settings_changed": WorkspaceSettingsChanged,
    "identity.workspace_archived": WorkspaceArchived,
    "identity.member_joined": MemberJoined,
    "identity.member_role_changed": MemberRoleChanged,
    "identity.member_removed": MemberRemoved,
    "identity.ownership_transferred": OwnershipTransferred,
    "identity.invitation_created": InvitationCreated,
    "identity.invitation_resent": InvitationResent,
    "identity.invitation_token_set": InvitationTokenSet,
    "identity.invitation_expired": InvitationExpired,
    "identity.invitation_accepted": InvitationAccepted,
    "identity.invitation_declined": InvitationDeclined,
    "identity.invitation_revoked": InvitationRevoked,
    "identity.api_token_issued": ApiTokenIssued,
    "identity.api_token_credential_set": ApiTokenCredentialSet,
    "identity.api_token_revoked": ApiTokenRevoked,
}

# Events carrying credential material: routed to the credentials topic, redacted in audit exports.
CREDENTIAL_EVENTS = frozenset(
    {
        "identity.password_set",
        "identity.session_started",
        "identity.session_ended",
        "identity.api_token_credential_set",
        "identity.invitation_token_set",
    }
)
# Credential hashes, by event type: redacted in audit entries (`Registry.secret_fields`).
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "identity.password_set": frozenset({"password_hash"}),
    "identity.session_started": frozenset({"token_hash"}),
    "identity.invitation_token_set": frozenset({"token_hash"}),
    "identity.api_token_credential_set": frozenset({"token_hash"}),
}

COMMANDS: dict[str, type[msgspec.Struct]] = {
    "identity.register_user": RegisterUser,
    "identity.start_session": StartSession,
    "identity.end_session": EndSession,
    "identity.create_organisation": CreateOrganisation,
    "identity.rename_workspace": RenameWorkspace,
    "identity.change_workspace_settings": ChangeWorkspaceSettings,
    "identity.archive_workspace": ArchiveWorkspace,
    "identity.transfer_ownership": TransferOwnership,
    "identity.invite_member": InviteMember,
    "identity.resend_invitation": ResendInvitation,
    "identity.accept_invitation": AcceptInvitation,
    "identity.decline_invitation": DeclineInvitation,
    "identity.revoke_invitation": RevokeInvitation,
    "identity.change_member_role": ChangeMemberRole,
    "identity.remove_member": RemoveMember,
    "identity.leave_workspace": LeaveWorkspace,
    "identity.issue_api_token": IssueApiToken,
    "identity.revoke_api_token": RevokeApiToken,
    "identity.expire_invitations": ExpireInvitations,
    "identity.expire_sessions": ExpireSessions,
}

# Earlier versions of a type, and the upcasters that lift each to the next (version: class).
PREVIOUS_VERSIONS: dict[str, tuple[dict[int, type[msgspec.Struct]], dict[int, Any]]] = {
    "identity.ownership_transferred": ({1: OwnershipTransferredV1}, {1: _ownership_v1_to_v2}),
    "identity.invite_member": ({1: InviteMemberV1}, {1: _add_accept_url}),
    "identity.resend_invitation": ({1: ResendInvitationV1}, {1: _add_accept_url}),
    "identity.expire_invitations": ({1: ExpireInvitationsV1}, {1: _expiring_v1_to_v2}),
    "identity.workspace_settings_changed": ({1: WorkspaceSettingsChangedV1}, {1: _same_fields}),
    "identity.change_workspace_settings": ({1: ChangeWorkspaceSettingsV1}, {1: _same_fields}),
}


def _versions(name: str, cls: type[msgspec.Struct]) -> tuple[dict[int, Any], dict[int, Any]]:
    previous, upcasters = PREVIOUS_VERSIONS.get(name, ({}, {}))
    return {**previous, len(previous) + 1: cls}, upcasters


def register_identity_types(registry: Registry) -> Registry:
    for name, cls in EVENTS.items():
        registry.register_event(
            name, *_versions(name, cls), secret_fields=SECRET_FIELDS.get(name, ())
        )
    for name, cls in COMMANDS.items():
        registry.register_command(name, *_versions(name, cls))
    return registry


def identity_topics() -> ContextTopics:
    """The identity context's topics: the one place they are declared."""
    return declare_context(
        IDENTITY,
        description="users, workspaces, memberships, invitations, tokens",
        private=[
            Topic(
                name=CREDENTIALS_TOPIC,
                retention_ms=FOREVER,
                description="credential hashes and sessions; read only by the gateway API",
                private=True,
                readers=("api",),
            ),
        ],
        routes={CREDENTIALS_TOPIC: sorted(CREDENTIAL_EVENTS)},
    )


def role_changes(payload: object) -> list[tuple[str, str, Role | None]]:
    """What a membership event states: (workspace id, user id, role, or None once removed).

    The one reading of membership events: the aggregate, the memberships projection every service
    authorizes with, the API's views and the auditors' as-of fold all use it. Each event states its
    outcome, so this is a plain read with nothing to derive.
    """
    match payload:
        case MemberJoined() | MemberRoleChanged():
            return [(payload.workspace_id, payload.user_id, payload.role)]
        case MemberRemoved():
            return [(payload.workspace_id, payload.user_id, None)]
        case OwnershipTransferred():
            return [
                (payload.workspace_id, payload.to_user_id, "owner"),
                (payload.workspace_id, payload.from_user_id, payload.from_new_role),
            ]
    return []
