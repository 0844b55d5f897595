"""Identity's read models for the API, as tables: accounts (users, password hashes, sessions,
API-token hashes) and workspaces (details, members, API tokens, invitations).

Each is one projection with its own version and offsets, so a change to one rebuilds that one.
Invitations and tokens are read through the shared folds (plutarc_contracts.identity_folds) and
memberships through `identity.role_changes`: what an event means is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from plutarc_access import Grant
from plutarc_contracts import Envelope, events_topic
from plutarc_contracts import identity as c
from plutarc_contracts.identity_folds import Invitations, InvitationState, Tokens, TokenState
from plutarc_runtime.readmodels import Changes, aware, upsert
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    select,
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
    sqlite_with_rowid=False,
)
sessions = Table(
    "id_sessions",
    accounts_md,
    Column("session_id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)
token_hashes = Table(
    "id_token_hashes",
    accounts_md,
    Column("token_hash", String(64), primary_key=True),
    Column("token_id", String(64), nullable=False),
    sqlite_with_rowid=False,
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
    sqlite_with_rowid=False,
)
members = Table(
    "id_members",
    workspaces_md,
    Column("workspace_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Index("id_members_by_user", "user_id"),
    sqlite_with_rowid=False,
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
    sqlite_with_rowid=False,
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
    sqlite_with_rowid=False,
)


_NAMES = {cls: name for name, cls in c.EVENTS.items()}


def types_of(*classes: type) -> frozenset[str]:
    """The event type names of the payload classes a projection's `apply` handles."""
    return frozenset(_NAMES[cls] for cls in classes)


class AccountsProjection:
    name = "identity.accounts"
    version = 2  # 2: sessions keyed by session id, tables stored without a rowid
    topics = (EVENTS, c.CREDENTIALS_TOPIC)
    metadata = accounts_md
    types: frozenset[str] | None = types_of(
        c.UserRegistered, c.PasswordSet, c.SessionStarted, c.SessionEnded, c.ApiTokenCredentialSet
    )

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        rows = Changes()
        for env in events:
            p: Any = env.payload
            match p:
                case c.UserRegistered():
                    rows.upsert(
                        users,
                        {"user_id": p.user_id},
                        {
                            "email": p.email,
                            "display_name": p.display_name,
                            "personal_workspace_id": p.personal_workspace_id,
                        },
                    )
                case c.PasswordSet():  # may arrive before the registration (another topic)
                    rows.upsert(
                        users,
                        {"user_id": p.user_id},
                        {"password_hash": p.password_hash},
                        placeholders=_NOT_REGISTERED,
                    )
                case c.SessionStarted():
                    rows.upsert(
                        sessions,
                        {"session_id": p.session_id},
                        {
                            "token_hash": p.token_hash,
                            "user_id": p.user_id,
                            "expires_at": p.expires_at,
                        },
                    )
                case c.SessionEnded():
                    # Ended by logout, or by identity's timer once expired: the row goes, so the
                    # table follows live sessions, not every login ever made.
                    rows.delete(sessions, {"session_id": p.session_id})
                case c.ApiTokenCredentialSet():
                    rows.upsert(
                        token_hashes, {"token_hash": p.token_hash}, {"token_id": p.token_id}
                    )
        rows.flush(conn)


_NOT_REGISTERED = {"email": "", "display_name": "", "personal_workspace_id": ""}


def _risk(p: c.WorkspaceSettingsChanged) -> dict[str, str]:
    """The limits set, each as a decimal string (the open-orders cap too)."""
    return {
        k: str(v)
        for k, v in (
            ("max_order_notional", p.risk.max_order_notional),
            ("max_position", p.risk.max_position),
            ("max_open_orders", p.risk.max_open_orders),
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
    version = 2  # 2: tables stored without a rowid
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
        rows = Changes()
        invited: list[Any] = []
        token_events: list[Any] = []
        for env in events:
            p: Any = env.payload
            match p:
                case c.WorkspaceCreated():
                    row = {
                        "kind": p.kind,
                        "name": p.name,
                        "created_at": env.occurred_at,
                        "archived": False,
                        "risk": {},
                        "billing_contact": None,
                    }
                    rows.upsert(workspaces, {"workspace_id": p.workspace_id}, row)
                case c.WorkspaceRenamed():
                    rows.update(workspaces, {"workspace_id": p.workspace_id}, {"name": p.name})
                case c.WorkspaceSettingsChanged():
                    rows.update(
                        workspaces,
                        {"workspace_id": p.workspace_id},
                        {"risk": _risk(p), "billing_contact": p.billing_contact},
                    )
                case c.WorkspaceArchived():
                    rows.update(workspaces, {"workspace_id": p.workspace_id}, {"archived": True})
                case (
                    c.MemberJoined()
                    | c.MemberRoleChanged()
                    | c.MemberRemoved()
                    | c.OwnershipTransferred()
                ):
                    for workspace_id, user_id, role in c.role_changes(p):
                        key = {"workspace_id": workspace_id, "user_id": user_id}
                        if role is None:
                            rows.delete(members, key)
                        else:
                            rows.upsert(members, key, {"role": role})
                case c.ApiTokenIssued() | c.ApiTokenRevoked():
                    token_events.append(p)
                case _ if isinstance(p, INVITATION_EVENTS):
                    invited.append(p)
        rows.flush(conn)
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
        aware(row.expires_at),
        bool(row.revoked),
    )
