"""The one authorizer: who the actor is, and whether they may do something in a workspace.

The API edge and every service's ``require`` call it; nobody else writes role logic. It asks a
``MembershipSource`` for facts (a member's role, an API token's grant): the gateway and most
services answer from the ``Memberships`` projection of identity events they keep themselves, the
identity service from its own aggregates. Rules come from the one Rego policy (``AccessEngine``).

Refusals are domain errors with a kind: a workspace the actor is not in is ``NotFound``, exactly
like one that does not exist (existence must not leak); a refused permission is ``Forbidden``. An
``AccessError`` (the policy server is down) is never a refusal: it propagates, to be retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from plutarc_contracts.permissions import grants
from plutarc_contracts.rejections import Forbidden, NotFound

from plutarc_access.engine import AccessEngine, AccessRequest


class WorkspaceNotFound(NotFound):
    code = "workspace.not_found"


class AccessDenied(Forbidden):
    code = "access.forbidden"


class RoleEscalation(Forbidden):
    """The role holds the permission, but not over this target (a role above one's own)."""

    code = "access.role_escalation"


class SelfRoleChange(Forbidden):
    code = "access.self_role_change"


class UnknownActor(Forbidden):
    code = "access.unknown_actor"


class TokenRevoked(Forbidden):
    code = "access.token_revoked"


class TokenExpired(Forbidden):
    code = "access.token_expired"


@dataclass(frozen=True, slots=True)
class Grant:
    """What an API token carries: one workspace and a subset of its holder's permissions."""

    token_id: str
    user_id: str
    workspace_id: str
    permissions: frozenset[str]
    expires_at: datetime
    revoked: bool = False


class MembershipSource(Protocol):
    def role_of(self, user_id: str, workspace_id: str) -> str | None: ...

    def grant(self, token_id: str) -> Grant | None: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """A resolved actor: a user (maybe through a token), a service (``system:<name>``) or nobody."""

    actor: str
    user_id: str | None = None
    token: Grant | None = None
    system: str | None = None

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


class Authorizer:
    def __init__(
        self, engine: AccessEngine, source: MembershipSource, now: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.source = source
        self.now = now

    def principal(self, actor: str) -> Principal:
        """Resolve ``user:<id>``, ``token:<id>`` or ``system:<service>``; anything else is nobody.

        A token that is unknown, revoked or expired is refused here, before any permission check.
        """
        kind, _, ident = actor.partition(":")
        if kind == "user" and ident:
            return Principal(actor, user_id=ident)
        if kind == "system" and ident:
            return Principal(actor, system=ident)
        if kind == "token" and ident:
            grant = self.source.grant(ident)
            if grant is None:
                raise UnknownActor("unknown API token")
            if grant.revoked:
                raise TokenRevoked("this API token is revoked")
            if grant.expires_at <= self.now():
                raise TokenExpired("this API token has expired")
            return Principal(actor, user_id=grant.user_id, token=grant)
        return Principal(actor)

    def role(self, principal: Principal, workspace_id: str) -> str:
        """The principal's role in the workspace; NotFound when they are not in it."""
        role = (
            self.source.role_of(principal.user_id, workspace_id)
            if principal.user_id is not None
            else None
        )
        if role is None or (
            principal.token is not None and principal.token.workspace_id != workspace_id
        ):
            raise WorkspaceNotFound(f"workspace {workspace_id} not found")
        return role

    def holds(self, principal: Principal, workspace_id: str, permission: str) -> str:
        """The principal's role if it (and the token, if any) carries `permission` at all, before
        the resource it is aimed at is known; `require` with the resource decides afterwards."""
        role = self.role(principal, workspace_id)
        if principal.token is not None and permission not in principal.token.permissions:
            raise AccessDenied(f"this API token does not carry {permission}")
        if permission not in grants(role):
            raise AccessDenied(f"a {role} may not {permission}")
        return role

    def require(
        self, principal: Principal, workspace_id: str, permission: str, **resource: Any
    ) -> str:
        """The principal's role if the policy allows `permission` here; raises otherwise."""
        role = self.role(principal, workspace_id)
        assert principal.user_id is not None  # role() found a membership
        if principal.token is not None and permission not in principal.token.permissions:
            raise AccessDenied(f"this API token does not carry {permission}")
        decision = self.engine.decide(
            AccessRequest(
                actor_id=principal.user_id, role=role, permission=permission, resource=resource
            )
        )
        if decision.allowed:
            return role
        detail = "; ".join(decision.reasons) or f"a {role} may not {permission}"
        if permission in grants(role):
            # The role holds the permission, so the policy refused what it was aimed at.
            if permission == "roles:assign" and resource.get("target_user_id") == principal.user_id:
                raise SelfRoleChange(detail, field="user_id")
            raise RoleEscalation(detail, field="role" if "target_role" in resource else None)
        raise AccessDenied(detail)
