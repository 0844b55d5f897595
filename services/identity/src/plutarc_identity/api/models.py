"""Identity's read models for the API, as tables: accounts (users, password hashes, sessions,
API-token hashes) and workspaces (details, members, API tokens, invitations).

Each is one projection with its own version and offsets, so a change to one rebuilds that one.
Invitations and tokens are read through the shared folds (plutarc_contracts.identity_folds) and
memberships through `identity.role_changes`: what an event means is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from plutarc_access import Grant
from plutarc_contracts import Envelope, events_topic
from plutarc_contracts import identity as c
from plutarc_contracts.identity_folds import Invitations, InvitationState, Tokens, TokenState
from plutarc_runtime.readmodels import upsert
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.engine import Connection

EVENTS = events_topic(c.IDENTITY)

accounts_md = MetaData()
users = Table(
    "id_users",
    accounts_md,
    Column("user_id", String(64), primary_key=True),
    Column("email", String(320), nullable=False, index=True),
    Column("display_name", String(200), nullable=False),
    Column("personal_workspace_id", String(64), nullable=False),
    Column("password_hash", String(200)),
)
sessions = Table(
    "id_sessions",
    accounts_md,
    Column("token_hash", String(64), primary_key=True),
    Column("session_id", String(64), nullable=False, index=True),
    Column("user_id", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
token_hashes = Table(
    "id_token_hashes",
    accounts_md,
    Column("token_hash", String(64), primary_key=True),
    Column("token_id", String(64), nullable=False),
)

workspaces_md = MetaData()
workspaces = Table(
    "id_workspaces",
    workspaces_md,
    Column("workspace_id", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("risk", JSON, nullable=False),
    Column("billing_contact", String(320)),
)
members = Table(
    "id_members",
    workspaces_md,
    Column("workspace_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Index("id_members_by_user", "user_id"),
)
tokens = Table(
    "id_tokens",
    workspaces_md,
    Column("token_id", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("workspace_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("permissions", JSON, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False),
    Index("id_tokens_by_workspace_user", "workspace_id", "user_id"),
)
invitations = Table(
    "id_invitations",
    workspaces_md,
    Column("invitation_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("role", String(20), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
)


_NAMES = {cls: name for name, cls in c.EVENTS.items()}


def types_of(*classes: type) -> frozenset[str]:
    """The event type names of the payload classes a projection's `apply` handles."""
    return frozenset(_NAMES[cls] for cls in classes)


class Ops:
    """Writes in event order, with runs of the same statement sent as one executemany."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._key: object = None
        self._fn: Callable[[Connection, list[dict[str, Any]]], None] | None = None
        self._rows: list[dict[str, Any]] = []

    def add(
        self,
        key: object,
        fn: Callable[[Connection, list[dict[str, Any]]], None],
        row: dict[str, Any],
    ) -> None:
        if key != self._key:
            self.flush()
            self._key, self._fn = key, fn
        self._rows.append(row)

    def flush(self) -> None:
        if self._fn is not None and self._rows:
            self._fn(self.conn, self._rows)
        self._key, self._fn, self._rows = None, None, []


def _upsert(
    table: Table, keys: list[str], cols: list[str] | None = None
) -> Callable[[Connection, list[dict[str, Any]]], None]:
    return lambda conn, rows: upsert(conn, table, rows, keys, cols)


def _run(stmt: Any) -> Callable[[Connection, list[dict[str, Any]]], None]:
    def run(conn: Connection, rows: list[dict[str, Any]]) -> None:
        conn.execute(stmt, rows)

    return run


_end_session = delete(sessions).where(sessions.c.session_id == bindparam("sid"))
_rename = (
    update(workspaces)
    .where(workspaces.c.workspace_id == bindparam("wid"))
    .values(name=bindparam("new_name"))
)
_settings = (
    update(workspaces)
    .where(workspaces.c.workspace_id == bindparam("wid"))
    .values(risk=bindparam("new_risk"), billing_contact=bindparam("contact"))
)
_archive = (
    update(workspaces).where(workspaces.c.workspace_id == bindparam("wid")).values(archived=True)
)
_leave = delete(members).where(
    members.c.workspace_id == bindparam("wid"), members.c.user_id == bindparam("uid")
)


class AccountsProjection:
    name = "identity.accounts"
    version = 1
    topics = (EVENTS, c.CREDENTIALS_TOPIC)
    metadata = accounts_md
    types: frozenset[str] | None = types_of(
        c.UserRegistered, c.PasswordSet, c.SessionStarted, c.SessionEnded, c.ApiTokenCredentialSet
    )

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        ops = Ops(conn)
        row: dict[str, Any]
        for env in events:
            p: Any = env.payload
            match p:
                case c.UserRegistered():
                    row = {
                        "user_id": p.user_id,
                        "email": p.email,
                        "display_name": p.display_name,
                        "personal_workspace_id": p.personal_workspace_id,
                    }
                    ops.add("user", _upsert(users, ["user_id"]), row)
                case c.PasswordSet():  # may arrive before the registration (another topic)
                    row = {
                        "user_id": p.user_id,
                        "email": "",
                        "display_name": "",
                        "personal_workspace_id": "",
                        "password_hash": p.password_hash,
                    }
                    ops.add("password", _upsert(users, ["user_id"], ["password_hash"]), row)
                case c.SessionStarted():
                    row = {
                        "token_hash": p.token_hash,
                        "session_id": p.session_id,
                        "user_id": p.user_id,
                        "expires_at": p.expires_at,
                    }
                    ops.add("session", _upsert(sessions, ["token_hash"]), row)
                case c.SessionEnded():
                    # Ended by logout, or by identity's timer once expired: the row goes, so the
                    # table follows live sessions, not every login ever made.
                    ops.add("end", _run(_end_session), {"sid": p.session_id})
                case c.ApiTokenCredentialSet():
                    row = {"token_hash": p.token_hash, "token_id": p.token_id}
                    ops.add("pat", _upsert(token_hashes, ["token_hash"]), row)
        ops.flush()


def _risk(p: c.WorkspaceSettingsChanged) -> dict[str, str]:
    return {
        k: v
        for k, v in (
            ("max_order_notional", p.risk.max_order_notional),
            ("max_position", p.risk.max_position),
            ("daily_loss_limit", p.risk.daily_loss_limit),
        )
        if v is not None
    }


INVITATION_EVENTS = (
    c.InvitationCreated,
    c.InvitationResent,
    c.InvitationAccepted,
    c.InvitationDeclined,
    c.InvitationRevoked,
    c.InvitationExpired,
)


class WorkspacesProjection:
    name = "identity.workspaces"
    version = 1
    topics = (EVENTS,)
    metadata = workspaces_md
    types: frozenset[str] | None = types_of(
        c.WorkspaceCreated,
        c.WorkspaceRenamed,
        c.WorkspaceSettingsChanged,
        c.WorkspaceArchived,
        c.MemberJoined,
        c.MemberRoleChanged,
        c.MemberRemoved,
        c.OwnershipTransferred,
        c.ApiTokenIssued,
        c.ApiTokenRevoked,
        *INVITATION_EVENTS,
    )

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        ops = Ops(conn)
        invited: list[Any] = []
        token_events: list[Any] = []
        for env in events:
            p: Any = env.payload
            match p:
                case c.WorkspaceCreated():
                    row = {
                        "workspace_id": p.workspace_id,
                        "kind": p.kind,
                        "name": p.name,
                        "created_at": env.occurred_at,
                        "archived": False,
                        "risk": {},
                        "billing_contact": None,
                    }
                    ops.add("ws", _upsert(workspaces, ["workspace_id"]), row)
                case c.WorkspaceRenamed():
                    ops.add("rename", _run(_rename), {"wid": p.workspace_id, "new_name": p.name})
                case c.WorkspaceSettingsChanged():
                    row = {
                        "wid": p.workspace_id,
                        "new_risk": _risk(p),
                        "contact": p.billing_contact,
                    }
                    ops.add("settings", _run(_settings), row)
                case c.WorkspaceArchived():
                    ops.add("archive", _run(_archive), {"wid": p.workspace_id})
                case (
                    c.MemberJoined()
                    | c.MemberRoleChanged()
                    | c.MemberRemoved()
                    | c.OwnershipTransferred()
                ):
                    for workspace_id, user_id, role in c.role_changes(p):
                        if role is None:
                            ops.add("leave", _run(_leave), {"wid": workspace_id, "uid": user_id})
                        else:
                            row = {"workspace_id": workspace_id, "user_id": user_id, "role": role}
                            ops.add("member", _upsert(members, ["workspace_id", "user_id"]), row)
                case c.ApiTokenIssued() | c.ApiTokenRevoked():
                    token_events.append(p)
                case _ if isinstance(p, INVITATION_EVENTS):
                    invited.append(p)
        ops.flush()
        if invited:
            self._invitations(conn, invited)
        if token_events:
            self._tokens(conn, token_events)

    def _invitations(self, conn: Connection, events: list[Any]) -> None:
        ids = sorted({p.invitation_id for p in events})
        fold = Invitations()
        for row in conn.execute(select(invitations).where(invitations.c.invitation_id.in_(ids))):
            state = InvitationState(**row._asdict())
            fold.by_workspace.setdefault(state.workspace_id, {})[state.invitation_id] = state
        for p in events:
            fold.apply(p)
        rows = [
            msgspec.structs.asdict(fold.by_workspace[p.workspace_id][p.invitation_id])
            for p in {(p.workspace_id, p.invitation_id): p for p in events}.values()
            if fold.get(p.workspace_id, p.invitation_id) is not None
        ]
        upsert(conn, invitations, rows, ["invitation_id"])

    def _tokens(self, conn: Connection, events: list[Any]) -> None:
        ids = sorted({p.token_id for p in events})
        fold = Tokens()
        for row in conn.execute(select(tokens).where(tokens.c.token_id.in_(ids))):
            fold.by_id[row.token_id] = TokenState(**row._asdict())
        for p in events:
            fold.apply(p)
        rows = [msgspec.structs.asdict(fold.by_id[i]) for i in ids if i in fold.by_id]
        upsert(conn, tokens, rows, ["token_id"])


def grant_of(row: Any) -> Grant:
    return Grant(
        row.token_id,
        row.user_id,
        row.workspace_id,
        frozenset(row.permissions),
        _aware(row.expires_at),
        bool(row.revoked),
    )


def _aware(instant: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC); PostgreSQL gives aware ones."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


class SqlMemberships:
    """The shared authorizer's MembershipSource over identity's tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._role = select(members.c.role).where(
            members.c.user_id == bindparam("u"), members.c.workspace_id == bindparam("w")
        )
        self._grant = select(tokens).where(tokens.c.token_id == bindparam("t"))

    def role_of(self, user_id: str, workspace_id: str) -> str | None:
        with self.engine.connect() as conn:
            role = conn.execute(self._role, {"u": user_id, "w": workspace_id}).scalar()
        return str(role) if role is not None else None

    def grant(self, token_id: str) -> Grant | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._grant, {"t": token_id}).first()
        return grant_of(row) if row is not None else None

    def workspaces_of(self, user_id: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(members.c.workspace_id, members.c.role).where(members.c.user_id == user_id)
            )
            return {w: r for w, r in rows}
