"""Registration, login, logout, and the caller's own profile and workspaces (the account switcher)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Depends, Request, Response
from plutarc_api.caller import sha256_hex
from plutarc_api.deps import (
    AnonymousWrites,
    Authenticated,
    PermissionRoute,
    Runtime,
    Write,
    Writes,
    anonymous_writer,
    client_ip,
)
from plutarc_api.problems import Problem
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import identity as c
from plutarc_runtime.readmodels import aware
from sqlalchemy import select

from .lookups import SESSION_PREFIX
from .models import members, sessions, users, workspaces
from .schemas import LoginIn, MembershipOut, RegisterIn, SessionOut, UserOut

router = APIRouter(prefix="/v1", tags=["auth"], responses=WRITE_ERRORS, route_class=PermissionRoute)
INVALID_LOGIN = "the email or password is wrong"


async def user_out(rt: Runtime, user_id: str) -> UserOut:
    row = await rt.reader.one(select(users).where(users.c.user_id == user_id))
    if row is None:
        raise Problem(404, "identity.user_not_found", "no such user")
    return UserOut(
        user_id=row.user_id,
        email=row.email,
        display_name=row.display_name,
        personal_workspace_id=row.personal_workspace_id,
    )


@router.post("/auth/register", status_code=201, response_model=UserOut)
async def register(body: RegisterIn, write: AnonymousWrites) -> UserOut:
    rt = write.rt
    user_id, personal = write.derived_id("user"), write.derived_id("personal-workspace")
    password_hash = await asyncio.to_thread(rt.hasher.hash, body.password)
    reply = await write.send(
        c.RegisterUser(
            user_id=user_id,
            personal_workspace_id=personal,
            email=str(body.email),
            display_name=body.display_name,
            password_hash=password_hash,
        ),
        workspace_id=None,
        key=user_id,
    )
    return await user_out(rt, reply.result["user_id"])


@router.post("/auth/login", response_model=SessionOut)
async def login(
    body: LoginIn,
    request: Request,
    write: Annotated[Write, Depends(anonymous_writer)],
) -> SessionOut:
    rt = write.rt
    email, address = str(body.email).strip().lower(), client_ip(request)
    logins = rt.limits.logins
    _throttle(logins.retry_after(email, address))
    user = await rt.reader.one(
        select(users.c.user_id, users.c.password_hash).where(users.c.email == email)
    )
    password_hash = user.password_hash if user is not None else None
    # Unknown or without a password, the email costs one verify all the same (against a dummy
    # hash): how long the answer takes must not tell whether the email is registered.
    verified = await _verify(rt.hasher, password_hash or rt.dummy_hash, body.password)
    # Failures that concurrent attempts recorded during the verify count too, and then the answer
    # is the same whether or not this password was right.
    wait = logins.retry_after(email, address)
    if user is None or password_hash is None or not verified:
        logins.failed(email, address)
        _throttle(wait)
        raise Problem(401, "auth.invalid_credentials", INVALID_LOGIN)
    _throttle(wait)
    logins.succeeded(email, address)
    token, session_id = write.secret(SESSION_PREFIX), write.derived_id("session")
    reply = await rt.send(
        c.StartSession(
            session_id=session_id,
            user_id=user.user_id,
            token_hash=sha256_hex(token),
            ttl_seconds=rt.settings.session_ttl_seconds,
        ),
        actor=f"user:{user.user_id}",
        command_id=write.command_id,
        workspace_id=None,
        key=user.user_id,
        fingerprint=write.fingerprint,
        owner=write.owner,
    )
    row = await rt.reader.one(
        select(sessions.c.expires_at).where(sessions.c.token_hash == sha256_hex(token))
    )
    if row is None:
        raise Problem(409, "auth.session_ended", "this session has ended already; log in again")
    return SessionOut(
        token=token,
        session_id=reply.result["session_id"],
        user_id=user.user_id,
        expires_at=aware(row.expires_at),
    )


@router.post("/auth/logout", status_code=204)
async def logout(caller: Authenticated, write: Writes) -> Response:
    if caller.session_id is None:
        raise Problem(
            422, "auth.not_a_session", "log out ends a session; revoke an API token instead"
        )
    await write.send(
        c.EndSession(session_id=caller.session_id), workspace_id=None, key=caller.user_id
    )
    return Response(status_code=204)


@router.get("/me", response_model=UserOut)
async def me(rt: Runtime, caller: Authenticated) -> UserOut:
    return await user_out(rt, caller.user_id)


@router.get("/me/workspaces", response_model=list[MembershipOut])
async def my_workspaces(rt: Runtime, caller: Authenticated) -> list[MembershipOut]:
    """Every workspace you belong to, with your role in each: one login reaches them all."""
    q = (
        select(workspaces, members.c.role)
        .join(members, members.c.workspace_id == workspaces.c.workspace_id)
        .where(members.c.user_id == caller.user_id)
    )
    if caller.token is not None:
        q = q.where(workspaces.c.workspace_id == caller.token.workspace_id)
    out = [
        MembershipOut(
            workspace_id=row.workspace_id,
            name=row.name,
            kind=row.kind,
            role=row.role,
            archived=row.archived,
        )
        for row in await rt.reader.all(q)
    ]
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
