"""Bearer authentication (session tokens and personal access tokens) and authorization at the edge.

Tokens are random secrets shown once; only their SHA-256 travels and rests. A workspace the caller
does not belong to answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from plutarc_access import AccessError, Authorizer, RegoEngine
from plutarc_contracts.identity_folds import Tokens, TokenState
from plutarc_contracts.rejections import DomainError

from .problems import Problem, status_for
from .views import IdentityView

SESSION_PREFIX = "pls_"
PAT_PREFIX = "plt_"
INVITATION_PREFIX = "pli_"


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def derived_secret(key: bytes, command_id: str, prefix: str) -> str:
    """The secret a command creates, derived from its id with the server's key.

    A write retried with the same Idempotency-Key is the same command, so it must hand back the
    same working token; only the key holder can compute it from the (guessable) command id.
    """
    mac = hmac.new(key, f"{prefix}\x1f{command_id}".encode(), hashlib.sha256).digest()
    return prefix + base64.urlsafe_b64encode(mac).decode().rstrip("=")


@dataclass(frozen=True)
class Principal:
    user_id: str
    actor: str  # user:<id> or token:<id>
    session_id: str | None = None
    token: TokenState | None = None


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, "auth.unauthenticated", detail, headers={"WWW-Authenticate": 'Bearer realm="plutarc"'}
    )


def authenticate(view: IdentityView, tokens: Tokens, authorization: str | None) -> Principal:
    if not authorization:
        raise unauthorized(
            "send `Authorization: Bearer <token>` (log in, or use a personal access token)"
        )
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("the Authorization header must be `Bearer <token>`")
    digest = sha256_hex(token)
    now = datetime.now(UTC)
    if token.startswith(SESSION_PREFIX):
        session = view.sessions.get(digest)
        if session is None or session.ended or session.expires_at <= now:
            raise unauthorized("the session is unknown, ended or expired; log in again")
        return Principal(session.user_id, f"user:{session.user_id}", session_id=session.session_id)
    if token.startswith(PAT_PREFIX):
        token_id = view.token_by_hash.get(digest)
        pat = tokens.by_id.get(token_id or "")
        if pat is None or pat.revoked or pat.expires_at <= now:
            raise unauthorized("the API token is unknown, revoked or expired")
        return Principal(pat.user_id, f"token:{pat.token_id}", token=pat)
    raise unauthorized("unrecognised token")


def _problem(exc: DomainError) -> Problem:
    return Problem(status_for(exc.kind), exc.code, exc.detail)


async def authorize(
    authorizer: Authorizer,
    principal: Principal,
    workspace_id: str,
    permission: str,
    **resource: object,
) -> str:
    """The caller's role in the workspace if the policy allows `permission`; raises a Problem
    otherwise. The one authorizer decides (the same one every service's `require` uses)."""

    def decide() -> str:
        who = authorizer.principal(principal.actor)
        return authorizer.require(who, workspace_id, permission, **resource)

    try:
        if isinstance(authorizer.engine, RegoEngine):  # in-process and cached: no I/O
            return decide()
        # an OPA server: its HTTP round trip must not hold the event loop
        return await asyncio.to_thread(decide)
    except DomainError as exc:
        raise _problem(exc) from None
    except AccessError as exc:  # never a denial: the policy could not be evaluated
        raise Problem(
            503,
            "policy.unavailable",
            "authorization is unavailable (the policy could not be evaluated); try again",
            headers={"Retry-After": "1"},
        ) from exc
