"""Bearer authentication from identity's tables: session tokens and personal access tokens.

Tokens are random secrets shown once; only their SHA-256 travels and rests."""

from __future__ import annotations

from datetime import UTC, datetime

from plutarc_api.caller import Caller, sha256_hex
from sqlalchemy import Engine, bindparam, select

from .models import _aware, grant_of, sessions, token_hashes, tokens

SESSION_PREFIX = "pls_"
PAT_PREFIX = "plt_"
INVITATION_PREFIX = "pli_"

_session = select(sessions.c.user_id, sessions.c.session_id, sessions.c.expires_at).where(
    sessions.c.token_hash == bindparam("h")
)
_pat = select(tokens).where(
    tokens.c.token_id
    == select(token_hashes.c.token_id)
    .where(token_hashes.c.token_hash == bindparam("h"))
    .scalar_subquery()
)


def authenticate(engine: Engine, token: str) -> Caller | None:
    digest = sha256_hex(token)
    now = datetime.now(UTC)
    if token.startswith(SESSION_PREFIX):
        with engine.connect() as conn:
            row = conn.execute(_session, {"h": digest}).first()
        if row is None or _aware(row.expires_at) <= now:
            return None
        return Caller(row.user_id, f"user:{row.user_id}", session_id=row.session_id)
    if token.startswith(PAT_PREFIX):
        with engine.connect() as conn:
            row = conn.execute(_pat, {"h": digest}).first()
        if row is None:
            return None
        grant = grant_of(row)
        if grant.revoked or grant.expires_at <= now:
            return None
        return Caller(grant.user_id, f"token:{grant.token_id}", token=grant)
    return None
