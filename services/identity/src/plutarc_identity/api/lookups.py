"""The reads on every request's path, from identity's read models: who a bearer token is, the
caller's role and token grant (the shared authorizer's MembershipSource), and a workspace's row.

On SQLite they go through `sqlite3` itself: one connection per thread (in practice one per worker,
its event loop's), each statement prepared once (the connection's statement cache), and no
explicit BEGIN around a single SELECT. Through SQLAlchemy each such read cost about 15 times
SQLite's own work (connection checkout, BEGIN, execution context, result, rollback). PostgreSQL
is a network round trip either way: there they run through SQLAlchemy, in a thread.

Tokens are random secrets shown once; only their SHA-256 travels and rests.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from plutarc_access import Grant
from plutarc_api.caller import Caller, sha256_hex
from plutarc_runtime.readmodels import aware
from sqlalchemy import Engine, bindparam, select

from .models import grant_of, members, sessions, token_hashes, tokens, workspaces

SESSION_PREFIX = "pls_"
PAT_PREFIX = "plt_"
INVITATION_PREFIX = "pli_"


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    workspace_id: str
    name: str
    kind: str
    archived: bool
    created_at: datetime
    risk: dict[str, str]
    billing_contact: str | None
    role: str | None
    """The caller's role there, None when not a member."""


def _caller(
    session: tuple[str, str, datetime] | None, grant: Grant | None, now: datetime
) -> Caller | None:
    if session is not None:
        user_id, session_id, expires_at = session
        if expires_at <= now:
            return None
        return Caller(user_id, f"user:{user_id}", session_id=session_id)
    if grant is not None and not grant.revoked and grant.expires_at > now:
        return Caller(grant.user_id, f"token:{grant.token_id}", token=grant)
    return None


class IdentityLookups(ABC):
    """What the API core asks of identity on each request (plutarc_api.module.Lookups)."""

    inline = False
    """True when the reads need no I/O wait (SQLite): the API then runs them on its event loop."""

    def authenticate(self, token: str) -> Caller | None:
        if token.startswith(SESSION_PREFIX):
            return _caller(self.session(sha256_hex(token)), None, datetime.now(UTC))
        if token.startswith(PAT_PREFIX):
            return _caller(None, self.token(sha256_hex(token)), datetime.now(UTC))
        return None

    @abstractmethod
    def session(self, digest: str) -> tuple[str, str, datetime] | None:
        """(user id, session id, expiry) of the session whose token hashes to `digest`."""
        ...

    @abstractmethod
    def token(self, digest: str) -> Grant | None:
        """The grant of the personal access token whose secret hashes to `digest`."""
        ...

    @abstractmethod
    def role_of(self, user_id: str, workspace_id: str) -> str | None: ...

    @abstractmethod
    def grant(self, token_id: str) -> Grant | None: ...

    @abstractmethod
    def workspace(self, workspace_id: str, user_id: str) -> WorkspaceRow | None: ...

    def close(self) -> None:  # most lookups hold nothing to close
        return None


# -- SQLite, through sqlite3 ------------------------------------------------------------------
_SESSION = "SELECT user_id, session_id, expires_at FROM id_sessions WHERE token_hash = ?"
_TOKEN_COLUMNS = "token_id, user_id, workspace_id, permissions, expires_at, revoked"
_TOKEN = (
    f"SELECT {_TOKEN_COLUMNS} FROM id_tokens WHERE token_id = "
    "(SELECT token_id FROM id_token_hashes WHERE token_hash = ?)"
)
_GRANT = f"SELECT {_TOKEN_COLUMNS} FROM id_tokens WHERE token_id = ?"
_ROLE = "SELECT role FROM id_members WHERE user_id = ? AND workspace_id = ?"
_WORKSPACE = (
    "SELECT w.workspace_id, w.name, w.kind, w.archived, w.created_at, w.risk, w.billing_contact, "
    "m.role FROM id_workspaces AS w LEFT OUTER JOIN id_members AS m "
    "ON m.workspace_id = w.workspace_id AND m.user_id = ? WHERE w.workspace_id = ?"
)


def _instant(text: str) -> datetime:
    """SQLAlchemy stores a DateTime on SQLite as text without a zone; ours are UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _sqlite_grant(row: tuple[Any, ...]) -> Grant:
    token_id, user_id, workspace_id, permissions, expires_at, revoked = row
    return Grant(
        token_id,
        user_id,
        workspace_id,
        frozenset(msgspec.json.decode(permissions)),
        _instant(expires_at),
        bool(revoked),
    )


class SqliteLookups(IdentityLookups):
    inline = True

    def __init__(self, path: Path) -> None:
        # mode=rw: never create the file (the read models' engine creates it, owner-only).
        self.uri = f"{path.resolve().as_uri()}?mode=rw"
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def _one(self, sql: str, params: tuple[str, ...]) -> tuple[Any, ...] | None:
        # fetchall steps the statement to its end, which resets it: no read transaction stays
        # open between requests, so each read sees every write committed before it.
        rows = self._conn().execute(sql, params).fetchall()
        return rows[0] if rows else None

    def session(self, digest: str) -> tuple[str, str, datetime] | None:
        row = self._one(_SESSION, (digest,))
        return (row[0], row[1], _instant(row[2])) if row is not None else None

    def token(self, digest: str) -> Grant | None:
        row = self._one(_TOKEN, (digest,))
        return _sqlite_grant(row) if row is not None else None

    def role_of(self, user_id: str, workspace_id: str) -> str | None:
        row = self._one(_ROLE, (user_id, workspace_id))
        return str(row[0]) if row is not None else None

    def grant(self, token_id: str) -> Grant | None:
        row = self._one(_GRANT, (token_id,))
        return _sqlite_grant(row) if row is not None else None

    def workspace(self, workspace_id: str, user_id: str) -> WorkspaceRow | None:
        row = self._one(_WORKSPACE, (user_id, workspace_id))
        if row is None:
            return None
        ws, name, kind, archived, created_at, risk, contact, role = row
        return WorkspaceRow(
            ws, name, kind, bool(archived), _instant(created_at), msgspec.json.decode(risk),
            contact, role,
        )  # fmt: skip

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()


# -- PostgreSQL (any SQLAlchemy engine) --------------------------------------------------------
_sa_session = select(sessions.c.user_id, sessions.c.session_id, sessions.c.expires_at).where(
    sessions.c.token_hash == bindparam("h")
)
_sa_token = select(tokens).where(
    tokens.c.token_id
    == select(token_hashes.c.token_id)
    .where(token_hashes.c.token_hash == bindparam("h"))
    .scalar_subquery()
)
_sa_grant = select(tokens).where(tokens.c.token_id == bindparam("t"))
_sa_role = select(members.c.role).where(
    members.c.user_id == bindparam("u"), members.c.workspace_id == bindparam("w")
)
_sa_workspace = (
    select(workspaces, members.c.role)
    .outerjoin(
        members,
        (members.c.workspace_id == workspaces.c.workspace_id)
        & (members.c.user_id == bindparam("u")),
    )
    .where(workspaces.c.workspace_id == bindparam("w"))
)


class SqlLookups(IdentityLookups):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _first(self, stmt: Any, params: dict[str, str]) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(stmt, params).first()

    def session(self, digest: str) -> tuple[str, str, datetime] | None:
        row = self._first(_sa_session, {"h": digest})
        return (row.user_id, row.session_id, aware(row.expires_at)) if row is not None else None

    def token(self, digest: str) -> Grant | None:
        row = self._first(_sa_token, {"h": digest})
        return grant_of(row) if row is not None else None

    def role_of(self, user_id: str, workspace_id: str) -> str | None:
        row = self._first(_sa_role, {"u": user_id, "w": workspace_id})
        return str(row.role) if row is not None else None

    def grant(self, token_id: str) -> Grant | None:
        row = self._first(_sa_grant, {"t": token_id})
        return grant_of(row) if row is not None else None

    def workspace(self, workspace_id: str, user_id: str) -> WorkspaceRow | None:
        row = self._first(_sa_workspace, {"u": user_id, "w": workspace_id})
        if row is None:
            return None
        return WorkspaceRow(
            row.workspace_id, row.name, row.kind, bool(row.archived), aware(row.created_at),
            row.risk, row.billing_contact, row.role,
        )  # fmt: skip


def lookups_for(engine: Engine) -> IdentityLookups:
    """sqlite3 on the read models' SQLite file; SQLAlchemy on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        assert engine.url.database
        return SqliteLookups(Path(engine.url.database))
    return SqlLookups(engine)
