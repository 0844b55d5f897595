"""Identity's domain errors. Each code is stable: it travels in rejection replies and HTTP problems."""

from __future__ import annotations

from plutarc_runtime.domain import Conflict, DomainError, NotFound


class InvalidInput(DomainError):
    code = "identity.invalid_input"


class EmailTaken(Conflict):
    code = "identity.email_taken"


class UnknownUser(NotFound):
    code = "identity.unknown_user"


class WorkspaceNotFound(NotFound):
    """Also what a non-member gets for a workspace that exists: existence must not leak."""

    code = "identity.workspace_not_found"


class Forbidden(DomainError):
    code = "identity.forbidden"


class RoleEscalation(Forbidden):
    code = "identity.role_escalation"


class LastOwner(Conflict):
    code = "identity.last_owner"


class SelfRoleChange(Forbidden):
    code = "identity.self_role_change"


class OwnerOnly(Forbidden):
    code = "identity.owner_only"


class WorkspaceArchived(Conflict):
    code = "identity.workspace_archived"


class PersonalWorkspace(Conflict):
    code = "identity.personal_workspace"


class NotAMember(NotFound):
    code = "identity.member_not_found"


class AlreadyMember(Conflict):
    code = "identity.already_member"


class AlreadyInvited(Conflict):
    code = "identity.already_invited"


class InvitationNotFound(NotFound):
    code = "identity.invitation_not_found"


class InvitationExpired(Conflict):
    code = "identity.invitation_expired"


class InvitationRevoked(Conflict):
    code = "identity.invitation_revoked"


class InvitationUsed(Conflict):
    code = "identity.invitation_used"


class InvitationMismatch(Forbidden):
    """Wrong token, or an invitation addressed to another email."""

    code = "identity.invitation_mismatch"


class SessionNotFound(NotFound):
    code = "identity.session_not_found"


class TokenNotFound(NotFound):
    code = "identity.token_not_found"


class TokenRevoked(Conflict):
    code = "identity.token_revoked"


class TokenExpired(Conflict):
    code = "identity.token_expired"


class TokenEscalation(Forbidden):
    code = "identity.token_escalation"
