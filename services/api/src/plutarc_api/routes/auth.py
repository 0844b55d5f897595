"""Registration, login, logout, and the caller's own profile and workspaces (the account switcher)."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Request, Response
from plutarc_contracts import identity as c

from ..auth import SESSION_PREFIX, new_secret, sha256_hex
from ..gateway import command_id_for, derived_id
from ..problems import Problem
from ..runtime import Caller, IdempotencyKey, Runtime, client_ip
from ..schemas import WRITE_ERRORS, LoginIn, MembershipOut, RegisterIn, SessionOut, UserOut

router = APIRouter(prefix="/v1", tags=["auth"], responses=WRITE_ERRORS)
INVALID_LOGIN = "the email or password is wrong"


@router.post(
    "/auth/register",
    status_code=201,
    response_model=UserOut,
    openapi_extra={"x-permission": "public"},
)
async def register(
    body: RegisterIn, rt: Runtime, request: Request, idempotency_key: IdempotencyKey = None
) -> UserOut:
    command_id = command_id_for(f"anonymous:{client_ip(request)}", idempotency_key)
    user_id, personal = derived_id(command_id, "user"), derived_id(command_id, "personal-workspace")
    assert rt.hasher is not None
    password_hash = await asyncio.to_thread(rt.hasher.hash, body.password)
    reply = await rt.command(
        c.RegisterUser(
            user_id=user_id,
            personal_workspace_id=personal,
            email=str(body.email),
            display_name=body.display_name,
            password_hash=password_hash,
        ),
        actor="anonymous",
        command_id=command_id,
        workspace_id=None,
        key=user_id,
    )
    user = rt.view.users[reply.result["user_id"]]
    return UserOut(
        user_id=user.user_id,
        email=user.email,
        display_name=user.display_name,
        personal_workspace_id=user.personal_workspace_id,
    )


@router.post("/auth/login", response_model=SessionOut, openapi_extra={"x-permission": "public"})
async def login(body: LoginIn, rt: Runtime, request: Request) -> SessionOut:
    email, address = str(body.email).strip().lower(), client_ip(request)
    assert rt.logins is not None and rt.hasher is not None
    _throttle(rt.logins.retry_after(email, address))
    user = rt.view.users.get(rt.view.by_email.get(email, ""))
    password_hash = user.password_hash if user is not None else None
    # Unknown or without a password, the email costs one verify all the same (against a dummy
    # hash): how long the answer takes must not tell whether the email is registered.
    verified = await _verify(rt.hasher, password_hash or rt.dummy_hash, body.password)
    # Failures that concurrent attempts recorded during the verify count too, and then the answer
    # is the same whether or not this password was right.
    wait = rt.logins.retry_after(email, address)
    if user is None or password_hash is None or not verified:
        rt.logins.failed(email, address)
        _throttle(wait)
        raise Problem(401, "auth.invalid_credentials", INVALID_LOGIN)
    _throttle(wait)
    rt.logins.succeeded(email, address)
    token, session_id = new_secret(SESSION_PREFIX), str(uuid4())
    reply = await rt.command(
        c.StartSession(
            session_id=session_id,
            user_id=user.user_id,
            token_hash=sha256_hex(token),
            ttl_seconds=rt.settings.session_ttl_seconds,
        ),
        actor=f"user:{user.user_id}",
        command_id=str(uuid4()),
        workspace_id=None,
        key=user.user_id,
    )
    session = rt.view.sessions[sha256_hex(token)]
    return SessionOut(
        token=token,
        session_id=reply.result["session_id"],
        user_id=user.user_id,
        expires_at=session.expires_at,
    )


@router.post("/auth/logout", status_code=204, openapi_extra={"x-permission": "self"})
async def logout(rt: Runtime, caller: Caller) -> Response:
    if caller.session_id is None:
        raise Problem(
            422, "auth.not_a_session", "log out ends a session; revoke an API token instead"
        )
    await rt.command(
        c.EndSession(session_id=caller.session_id),
        actor=caller.actor,
        command_id=str(uuid4()),
        workspace_id=None,
        key=caller.user_id,
    )
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, openapi_extra={"x-permission": "self"})
async def me(rt: Runtime, caller: Caller) -> UserOut:
    user = rt.view.users[caller.user_id]
    return UserOut(
        user_id=user.user_id,
        email=user.email,
        display_name=user.display_name,
        personal_workspace_id=user.personal_workspace_id,
    )


@router.get(
    "/me/workspaces", response_model=list[MembershipOut], openapi_extra={"x-permission": "self"}
)
async def my_workspaces(rt: Runtime, caller: Caller) -> list[MembershipOut]:
    """Every workspace you belong to, with your role in each: one login reaches them all."""
    roles = rt.memberships.workspaces_of(caller.user_id)
    if caller.token is not None:
        roles = {k: v for k, v in roles.items() if k == caller.token.workspace_id}
    out = []
    for ws_id, role in roles.items():
        ws = rt.view.workspaces.get(ws_id)
        if ws is not None:
            out.append(
                MembershipOut(
                    workspace_id=ws_id,
                    name=ws.name,
                    kind=ws.kind,  # type: ignore[arg-type]  # from identity's events
                    role=role,  # type: ignore[arg-type]
                    archived=ws.archived,
                )
            )
    return sorted(out, key=lambda m: (m.kind != "personal", m.name.lower(), m.workspace_id))


def _throttle(wait: int) -> None:
    if wait:
        raise Problem(
            429,
            "auth.login_throttled",
            "too many failed logins; wait before trying again",
            headers={"Retry-After": str(wait)},
        )


async def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
