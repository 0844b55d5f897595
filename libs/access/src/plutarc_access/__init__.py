"""plutarc authorization: one Rego policy, evaluated in-process (regopy) or by an OPA server.

``RegoEngine`` is the default (compiled bundle, decisions cached by the four facts the policy
reads); ``OpaServerEngine`` asks a running OPA server. Both return the same ``Decision`` for the
same ``AccessRequest``, which a parity test checks over the whole decision matrix.
"""

from plutarc_access.authorizer import (
    AccessDenied,
    Authorizer,
    Grant,
    MembershipSource,
    Principal,
    RoleEscalation,
    SelfRoleChange,
    TokenExpired,
    TokenRevoked,
    UnknownActor,
    WorkspaceNotFound,
)
from plutarc_access.engine import (
    AccessEngine,
    AccessError,
    AccessRequest,
    Decision,
    OpaServerEngine,
    RegoEngine,
    cache_key,
    engine_for,
)
from plutarc_access.memberships import Memberships, WorkspaceView
from plutarc_access.opa_server import (
    OPA_VERSION,
    OpaUnavailable,
    ensure_opa,
    start_opa_server,
)
from plutarc_access.policy import default_policy_dir, load_policy_dir

__all__ = [
    "OPA_VERSION",
    "AccessDenied",
    "AccessEngine",
    "AccessError",
    "AccessRequest",
    "Authorizer",
    "Decision",
    "Grant",
    "MembershipSource",
    "Memberships",
    "OpaServerEngine",
    "OpaUnavailable",
    "Principal",
    "RegoEngine",
    "RoleEscalation",
    "SelfRoleChange",
    "TokenExpired",
    "TokenRevoked",
    "UnknownActor",
    "WorkspaceNotFound",
    "WorkspaceView",
    "cache_key",
    "default_policy_dir",
    "engine_for",
    "ensure_opa",
    "load_policy_dir",
    "start_opa_server",
]
