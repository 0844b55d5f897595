"""The decision matrix and an independent oracle for it, shared by tests and the benchmark.

``expected_allowed`` restates the policy's rules in plain Python from the catalogue data. It is a
test oracle, not an engine: the policy stays the only thing that authorizes. Having two independent
statements of the rules is the point — the matrix test fails if either drifts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plutarc_contracts.permissions import (
    ESCALATION_GUARDED,
    OWNER_ONLY,
    PERMISSIONS,
    ROLES,
    grants,
    role_rank,
)

from plutarc_access.engine import AccessRequest

ACTOR = "user-actor"
OTHER = "user-other"
UNKNOWN_ROLES = ("root", "", "Owner")
UNKNOWN_PERMISSIONS = ("bots:fly", "", "bots", "BOTS:READ")


def expected_allowed(request: AccessRequest) -> bool:
    """What the policy must answer, derived from the catalogue without Rego."""
    role, permission, resource = request.role, request.permission, request.resource
    if role not in ROLES or permission not in PERMISSIONS:
        return False
    if permission not in grants(role):
        return False
    if permission in ESCALATION_GUARDED:
        target = resource.get("target_role")
        if not isinstance(target, str) or target not in ROLES:
            return False
        if role_rank(target) > role_rank(role):
            return False
        if target == "owner" and role != "owner":
            return False
    if permission == "roles:assign" and resource.get("target_user_id") == request.actor_id:
        return False
    return not (permission in OWNER_ONLY and role != "owner")


def _request(role: str, permission: str, **resource: Any) -> AccessRequest:
    return AccessRequest(actor_id=ACTOR, role=role, permission=permission, resource=resource)


def role_permission_matrix() -> Iterator[AccessRequest]:
    """Every role x every permission, with no resource attributes (5 x 34)."""
    for role in ROLES:
        for permission in PERMISSIONS:
            yield _request(role, permission)


def escalation_cases() -> Iterator[AccessRequest]:
    """Every actor role x every target role for the guarded permissions, to others and to self,
    plus a missing, unknown and null target role."""
    for permission in sorted(ESCALATION_GUARDED):
        for role in ROLES:
            for target in ROLES:
                yield _request(role, permission, target_role=target, target_user_id=OTHER)
                yield _request(role, permission, target_role=target, target_user_id=ACTOR)
            yield _request(role, permission, target_user_id=OTHER)
            yield _request(role, permission, target_role="superuser", target_user_id=OTHER)
            yield _request(role, permission, target_role=None, target_user_id=OTHER)


def unknown_cases() -> Iterator[AccessRequest]:
    """Unknown roles against every permission, and unknown permissions against every role."""
    for role in UNKNOWN_ROLES:
        for permission in PERMISSIONS:
            yield _request(role, permission)
    for permission in UNKNOWN_PERMISSIONS:
        for role in ROLES:
            yield _request(role, permission)


def all_cases() -> list[AccessRequest]:
    """The whole matrix the engines are checked against."""
    return [*role_permission_matrix(), *escalation_cases(), *unknown_cases()]
