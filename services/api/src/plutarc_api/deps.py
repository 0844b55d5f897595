"""What a route lets its caller do: the one route style.

Every route states its access with exactly one dependency, and that dependency is also what the
OpenAPI document says (`x-permission`), so the two cannot drift apart:

- `Require("members:read")`: a caller allowed that permission in the path's workspace (the shared
  authorizer decides; a workspace the caller is not in answers 404, like one that does not exist);
- `Operator`: a platform operator (`operator`), as the module that keeps the operators says;
  anyone else gets 403 `access.not_an_operator`, a personal access token included (tokens belong
  to a workspace, operators act as themselves);
- `Authenticated`: any logged-in caller, acting on themselves (`self`);
- nothing: a public route (`public`), limited per client address.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from plutarc_access import AccessError, Principal, RegoEngine
from plutarc_contracts import CommandAccepted
from plutarc_contracts.rejections import DomainError

from .caller import Caller, unauthorized
from .commands import command_id_for, derived_id, derived_secret
from .problems import Problem, status_for
from .runtime import ApiRuntime


# The dependencies below are `async def` although most never await: FastAPI runs a plain `def`
# dependency in a worker thread, and a thread hop per dependency costs more than its work. The
# ones on every authenticated request (`current_caller`, `Require`) read their headers and path
# parameter from the request rather than declare them: FastAPI resolves each declared parameter
# and sub-dependency anew on every request, which cost more than the rest of their work.
def ready_runtime(request: Request) -> ApiRuntime:
    rt: ApiRuntime = request.app.state.runtime
    if not rt.ready():
        raise Problem(
            503,
            "api.warming_up",
            "the API is still reading the event log; retry shortly",
            headers={"Retry-After": "1"},
        )
    return rt


async def runtime(request: Request) -> ApiRuntime:
    return ready_runtime(request)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limited(wait: float) -> None:
    if wait > 0:
        raise Problem(
            429,
            "api.rate_limited",
            "too many requests; slow down",
            headers={"Retry-After": str(max(1, round(wait + 0.5)))},
        )


async def public(request: Request, rt: Annotated[ApiRuntime, Depends(runtime)]) -> ApiRuntime:
    """A route anyone may call: limited per client address."""
    _limited(await rt.limits.take_ip(client_ip(request)))
    return rt


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def current_caller(request: Request) -> Caller:
    """The request's bearer (`Authorization: Bearer <token>`), authenticated once per request
    (FastAPI caches a dependency's answer for the request)."""
    rt = ready_runtime(request)
    authorization = request.headers.get("authorization")
    if not authorization:
        _limited(await rt.limits.take_ip(client_ip(request)))
        raise unauthorized(
            "send `Authorization: Bearer <token>` (log in, or use a personal access token)"
        )
    token = bearer(authorization)
    caller = await rt.authenticate(token) if token else None
    if caller is None:
        # Failed authentication counts against the address: guessing tokens is what it limits.
        _limited(await rt.limits.take_ip(client_ip(request)))
        if not token:
            raise unauthorized("the Authorization header must be `Bearer <token>`")
        raise unauthorized("the token is unknown, ended, revoked or expired; log in again")
    _limited(await rt.limits.take_token(caller.actor))
    return caller


Runtime = Annotated[ApiRuntime, Depends(runtime)]
Public = Annotated[ApiRuntime, Depends(public)]
Authenticated = Annotated[Caller, Depends(current_caller)]


@dataclass
class Access:
    """What `Require` hands its route: the caller, allowed `permission` in `workspace_id`."""

    rt: ApiRuntime
    caller: Caller
    workspace_id: str
    permission: str
    role: str
    replay: bool = False
    """The request repeats one this caller already sent (same Idempotency-Key, same request):
    it was authorized then, and the service answers a repeated command with its first outcome
    without deciding it again; deciding now would refuse a caller the first request demoted
    (a transfer of ownership, leaving)."""

    async def check(self, **resource: object) -> str:
        """The same permission again, now about a resource (a target role, a target user)."""
        if self.replay:
            return self.role
        return await authorize(self.rt, self.caller, self.workspace_id, self.permission, **resource)


class Require:
    """A dependency: the caller must hold `permission` in the path's `{workspace_id}`.

    A permission aimed at a resource the request body names (`about`: a target role, a target
    user) is checked in two steps: here, that the caller's role carries it at all; then the route
    calls `access.check(...)` with the resource, and the policy decides."""

    def __init__(self, permission: str, about: tuple[str, ...] = ()) -> None:
        self.permission, self.about = permission, about

    async def __call__(self, request: Request, caller: Authenticated) -> Access:
        # The route declares {workspace_id}; a write route's `Writes` declares (and validates)
        # Idempotency-Key.
        rt: ApiRuntime = request.app.state.runtime  # ready: current_caller checked
        workspace_id: str = request.path_params["workspace_id"]
        idempotency_key = request.headers.get("idempotency-key")
        if idempotency_key is not None and request.method != "GET":
            command_id = command_id_for(caller.actor, idempotency_key)
            fingerprint = await _fingerprint(request, idempotency_key)
            if await rt.issued(command_id) == (caller.actor, fingerprint):
                return Access(rt, caller, workspace_id, self.permission, "", replay=True)
        role = await decide(rt, caller, workspace_id, self.permission, {}, bool(self.about))
        return Access(rt, caller, workspace_id, self.permission, role)


@dataclass
class OperatorAccess:
    """What `Operator` hands its route: a caller who is a platform operator."""

    rt: ApiRuntime
    caller: Caller


NOT_AN_OPERATOR = "access.not_an_operator"


async def operator(
    request: Request,
    rt: Annotated[ApiRuntime, Depends(runtime)],
    caller: Authenticated,
    idempotency_key: IdempotencyKey = None,
) -> OperatorAccess:
    """The caller must be a platform operator, acting as themselves (a session, not a token).

    A repeated write (same Idempotency-Key, same request) is not decided again, as with
    `Require`: the service answers it with its first outcome."""
    if idempotency_key is not None and request.method != "GET":
        command_id = command_id_for(caller.actor, idempotency_key)
        fingerprint = await _fingerprint(request, idempotency_key)
        if await rt.issued(command_id) == (caller.actor, fingerprint):
            return OperatorAccess(rt, caller)
    if caller.token is not None or not await rt.is_operator(caller.user_id):
        raise Problem(
            403,
            NOT_AN_OPERATOR,
            "only the platform's operators may do this, signed in as themselves "
            "(not with a personal access token)",
        )
    return OperatorAccess(rt, caller)


Operator = Annotated[OperatorAccess, Depends(operator)]


def allowed(permission: str, *, about: tuple[str, ...] = ()) -> Any:
    """`access: Annotated[Access, allowed("members:read")]` in a route's signature."""
    return Depends(Require(permission, about))


async def authorize(
    rt: ApiRuntime, caller: Caller, workspace_id: str, permission: str, **resource: object
) -> str:
    """The caller's role in the workspace if the policy allows `permission`; a Problem otherwise.
    The one authorizer decides (the same one every service's `require` uses)."""
    return await decide(rt, caller, workspace_id, permission, resource, False)


async def decide(
    rt: ApiRuntime,
    caller: Caller,
    workspace_id: str,
    permission: str,
    resource: dict[str, object],
    deferred: bool,
) -> str:
    authorizer = rt.authorizer
    # The caller was authenticated once for this request (a token's grant read and checked
    # then): the principal is built from it, not looked up again.
    who = Principal(caller.actor, user_id=caller.user_id, token=caller.token)

    def run() -> str:
        if deferred:
            return authorizer.holds(who, workspace_id, permission)
        return authorizer.require(who, workspace_id, permission, **resource)

    try:
        if isinstance(authorizer.engine, RegoEngine) and rt.lookups.inline:
            return run()  # in-process policy over SQLite: microseconds, no I/O wait
        return await asyncio.to_thread(run)  # an OPA server or PostgreSQL: a round trip
    except DomainError as exc:
        # A refusal about a field of the request (a role above your own) names it, so that a
        # client can show it beside that field.
        errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        raise Problem(status_for(exc.kind), exc.code, exc.detail, errors=errors) from None
    except AccessError as exc:  # never a denial: the policy could not be evaluated
        raise Problem(
            503,
            "policy.unavailable",
            "authorization is unavailable (the policy could not be evaluated); try again",
            headers={"Retry-After": "1"},
        ) from exc


def _calls(dependant: Dependant) -> list[Callable[..., Any]]:
    found: list[Callable[..., Any]] = []
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.append(sub.call)
        found.extend(_calls(sub))
    return found


def permission_of(dependant: Dependant) -> str:
    calls = _calls(dependant)
    required = {c.permission for c in calls if isinstance(c, Require)}
    if len(required) > 1:
        raise ValueError(f"a route requires one permission, not {sorted(required)}")
    if required:
        return required.pop()
    if operator in calls:
        return "operator"
    return "self" if current_caller in calls else "public"


class PermissionRoute(APIRoute):
    """States in OpenAPI (`x-permission`) the access its dependencies enforce."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        permission = permission_of(self.dependant)
        if permission not in ("self", "public", "operator") and "{workspace_id}" not in self.path:
            raise ValueError(
                f"{self.path}: a route that requires {permission} needs {{workspace_id}}"
            )
        self.openapi_extra = {**(self.openapi_extra or {}), "x-permission": permission}


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Repeat a write safely: the same key returns the first outcome; the same "
        "key with a different request is refused (422 request.idempotency_key_reused). Keys "
        "are remembered for 24 hours.",
    ),
]


@dataclass
class Write:
    """A write route's command plumbing: the command id (from the Idempotency-Key when given)
    and the request's fingerprint, bound to the caller."""

    rt: ApiRuntime
    actor: str
    command_id: str
    fingerprint: str | None
    owner: str | None = None
    """Who may read the outcome, when not the actor (an anonymous caller's address)."""

    async def send(self, payload: Any, *, workspace_id: str | None, key: str) -> CommandAccepted:
        return await self.rt.send(
            payload,
            actor=self.actor,
            command_id=self.command_id,
            workspace_id=workspace_id,
            key=key,
            fingerprint=self.fingerprint,
            owner=self.owner or self.actor,
        )

    def derived_id(self, what: str) -> str:
        return derived_id(self.command_id, what)

    def secret(self, prefix: str) -> str:
        return derived_secret(self.rt.secret_key, self.command_id, prefix)


async def _fingerprint(request: Request, key: str | None) -> str | None:
    if key is None:
        return None
    body = await request.body()
    h = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), body):
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()


async def writer(
    request: Request,
    rt: Annotated[ApiRuntime, Depends(runtime)],
    caller: Authenticated,
    idempotency_key: IdempotencyKey = None,
) -> Write:
    return Write(
        rt,
        caller.actor,
        command_id_for(caller.actor, idempotency_key),
        await _fingerprint(request, idempotency_key),
    )


async def anonymous_writer(
    request: Request, rt: Public, idempotency_key: IdempotencyKey = None
) -> Write:
    owner = f"anonymous:{client_ip(request)}"
    return Write(
        rt,
        "anonymous",
        command_id_for(owner, idempotency_key),
        await _fingerprint(request, idempotency_key),
        owner=owner,
    )


Writes = Annotated[Write, Depends(writer)]
AnonymousWrites = Annotated[Write, Depends(anonymous_writer)]
