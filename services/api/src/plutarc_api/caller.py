"""Who is calling: the resolved bearer of a request, as every route sees it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from plutarc_access import Grant

from .problems import Problem


@dataclass(frozen=True)
class Caller:
    user_id: str
    actor: str  # user:<id> or token:<id>
    session_id: str | None = None
    token: Grant | None = None


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, "auth.unauthenticated", detail, headers={"WWW-Authenticate": 'Bearer realm="plutarc"'}
    )
