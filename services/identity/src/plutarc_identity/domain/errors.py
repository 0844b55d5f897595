"""Identity's domain errors. Each code is stable: it travels in rejection replies and HTTP problems;
each base class (NotFound, Forbidden, Conflict, Invalid) is the rejection's kind."""

from __future__ import annotations

# Shared with the one authorizer, so a refusal has one code whichever layer catches it.
from plutarc_access import RoleEscalation as RoleEscalation
from plutarc_access import SelfRoleChange as SelfRoleChange
from plutarc_access import WorkspaceNotFound as WorkspaceNotFound
from plutarc_runtime.domain import Conflict, Invalid, NotFound
from plutarc_runtime.domain import Forbidden as Refused

__all__ = ["Refused", "RoleEscalation", "SelfRoleChange", "WorkspaceNotFound"]  # re-exported


class InvalidInput(Invalid):
    code = "identity.invalid_input"


class AlreadyExists(Conflict):
    """An id the caller chose is taken (a retried create with another command id, or a clash)."""

    code = "identity.exists"


class EmailTaken(Conflict):
    code = "identity.email_taken"


class UnknownUser(NotFound):
    code = "identity.unknown_user"


class Forbidden(Refused):
    code = "identity.forbidden"


class LastOwner(Conflict):
    code = "identity.last_owner"


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


class TokenEscalation(Forbidden):
    code = "identity.token_escalation"
