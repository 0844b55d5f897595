"""The gateway's read models, projected from identity's events and credentials topics.

They hold only what the API serves and checks: users and their password hashes (for login),
sessions and API-token hashes (for bearer auth), workspace details, invitations (through the shared
fold in plutarc_contracts.identity_folds), the audit log per workspace, and command outcomes.
Membership, roles and API tokens come from the shared Memberships projection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from plutarc_contracts import CommandAccepted, CommandRejected, Envelope, Registry, default_registry
from plutarc_contracts import identity as c
from plutarc_contracts.identity_folds import Invitations


@dataclass
class UserView:
    user_id: str
    email: str
    display_name: str
    personal_workspace_id: str
    password_hash: str | None = None


@dataclass
class SessionView:
    session_id: str
    user_id: str
    expires_at: datetime
    ended: bool = False


@dataclass
class WorkspaceDetails:
    workspace_id: str
    kind: str
    name: str
    created_at: datetime
    archived: bool = False
    risk: dict[str, Any] = field(default_factory=dict)
    billing_contact: str | None = None


class _State(msgspec.Struct):
    users: dict[str, UserView]
    by_email: dict[str, str]
    sessions: dict[str, SessionView]
    session_hash: dict[str, str]
    token_by_hash: dict[str, str]
    workspaces: dict[str, WorkspaceDetails]
    invitations: Invitations
    history: dict[str, list[bytes]]
    accepted: dict[str, CommandAccepted]
    rejected: dict[str, CommandRejected]
    applied: int


class IdentityView:
    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or default_registry()
        self.users: dict[str, UserView] = {}
        self.by_email: dict[str, str] = {}
        self.sessions: dict[str, SessionView] = {}  # by token hash
        self.session_hash: dict[str, str] = {}  # session id -> token hash
        self.token_by_hash: dict[str, str] = {}
        self.workspaces: dict[str, WorkspaceDetails] = {}
        self.invitations = Invitations()  # the one reading (plutarc_contracts.identity_folds)
        # Each workspace's identity events, oldest first: the audit log and its replays as of an
        # instant are derived from them on request.
        self.history: dict[str, list[Envelope]] = {}
        self.outcomes: dict[str, CommandAccepted | CommandRejected] = {}
        self.applied = 0
        self._encoded: dict[str, list[bytes]] = {}  # history as wire bytes, grown at each export

    # -- checkpoints (plutarc_runtime.checkpoint) -------------------------------------------------
    def export_state(self) -> bytes:
        for workspace_id, events in self.history.items():
            encoded = self._encoded.setdefault(workspace_id, [])
            encoded.extend(self.registry.encode_event(e) for e in events[len(encoded) :])
        accepted = {k: v for k, v in self.outcomes.items() if isinstance(v, CommandAccepted)}
        rejected = {k: v for k, v in self.outcomes.items() if isinstance(v, CommandRejected)}
        return msgspec.msgpack.encode(
            _State(
                self.users,
                self.by_email,
                self.sessions,
                self.session_hash,
                self.token_by_hash,
                self.workspaces,
                self.invitations,
                self._encoded,
                accepted,
                rejected,
                self.applied,
            )
        )

    def restore_state(self, raw: bytes) -> None:
        s = msgspec.msgpack.decode(raw, type=_State)
        decode = self.registry.decode_event
        history = {ws: [decode(e) for e in events] for ws, events in s.history.items()}
        self.users, self.by_email = s.users, s.by_email
        self.sessions, self.session_hash = s.sessions, s.session_hash
        self.token_by_hash = s.token_by_hash
        self.workspaces, self.invitations = s.workspaces, s.invitations
        self.history, self._encoded = history, s.history
        self.outcomes = {**s.accepted, **s.rejected}
        self.applied = s.applied

    def apply(self, env: Envelope) -> bool:
        p: Any = env.payload
        self.applied += 1
        if (
            env.workspace_id
            and env.type.startswith("identity.")
            and env.type not in c.CREDENTIAL_EVENTS
        ):
            self.history.setdefault(env.workspace_id, []).append(env)
        match p:
            case CommandAccepted() | CommandRejected():
                self.outcomes[p.command_id] = p
            case c.UserRegistered():
                prior = self.users.get(p.user_id)
                self.users[p.user_id] = UserView(
                    p.user_id,
                    p.email,
                    p.display_name,
                    p.personal_workspace_id,
                    prior.password_hash if prior else None,
                )
                self.by_email[p.email] = p.user_id
            case c.PasswordSet():
                user = self.users.get(p.user_id)
                if user is None:  # credentials may arrive before the registration itself
                    user = self.users[p.user_id] = UserView(p.user_id, "", "", "")
                user.password_hash = p.password_hash
            case c.SessionStarted():
                self.sessions[p.token_hash] = SessionView(p.session_id, p.user_id, p.expires_at)
                self.session_hash[p.session_id] = p.token_hash
            case c.SessionEnded():
                # Ended by logout, or by identity's timer once expired: it can never
                # authenticate again, so memory follows live sessions, not every login ever made.
                token_hash = self.session_hash.pop(p.session_id, None)
                if token_hash is not None:
                    self.sessions.pop(token_hash, None)
            case c.ApiTokenCredentialSet():
                self.token_by_hash[p.token_hash] = p.token_id
            case c.WorkspaceCreated():
                self.workspaces[p.workspace_id] = WorkspaceDetails(
                    p.workspace_id, p.kind, p.name, env.occurred_at
                )
            case c.WorkspaceRenamed():
                self.workspaces[p.workspace_id].name = p.name
            case c.WorkspaceSettingsChanged():
                ws = self.workspaces[p.workspace_id]
                ws.risk = {
                    k: v
                    for k, v in (
                        ("max_order_notional", p.risk.max_order_notional),
                        ("max_position", p.risk.max_position),
                        ("daily_loss_limit", p.risk.daily_loss_limit),
                    )
                    if v is not None
                }
                ws.billing_contact = p.billing_contact
            case c.WorkspaceArchived():
                self.workspaces[p.workspace_id].archived = True
            case (
                c.InvitationCreated()
                | c.InvitationResent()
                | c.InvitationAccepted()
                | c.InvitationDeclined()
                | c.InvitationRevoked()
                | c.InvitationExpired()
            ):
                self.invitations.apply(p)
            case _:
                return False
        return True
