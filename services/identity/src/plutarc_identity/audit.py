"""The audit log, derived from the identity event store: entries, exports and state as of an instant.

Every stored identity event is an audit entry: who (actor), did what (action), to what (target),
what it was before and after, when, and in which correlation. Credential material is redacted.
Reads go straight to the notification log with a header-only decode, so a full scan runs at
hundreds of thousands of events per second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import msgspec
from plutarc_contracts import Registry
from plutarc_contracts import identity as c
from plutarc_contracts.audit import AuditEntry, split_before_after, target_of
from plutarc_contracts.permissions import role_rank


class _Header(msgspec.Struct):
    event_id: str
    type: str
    schema_version: int
    occurred_at: datetime
    workspace_id: str | None
    actor: str
    correlation_id: str
    causation_id: str | None
    payload: msgspec.Raw


_header = msgspec.json.Decoder(_Header)


class MemberState(msgspec.Struct):
    user_id: str
    email: str | None
    role: str


class InvitationState(msgspec.Struct):
    invitation_id: str
    email: str
    role: str
    expires_at: datetime


class TokenState(msgspec.Struct):
    token_id: str
    user_id: str
    name: str
    permissions: list[str]
    expires_at: datetime


class WorkspaceAsOf(msgspec.Struct):
    workspace_id: str
    as_of: datetime
    exists: bool
    name: str | None
    archived: bool
    members: list[MemberState]
    pending_invitations: list[InvitationState]
    active_tokens: list[TokenState]


class AuditLog:
    """Reads one identity store's notification log through its chained recorder's raw scan."""

    def __init__(self, recorder: Any, registry: Registry, batch: int = 10_000) -> None:
        self.recorder = recorder
        self.registry = registry
        self.batch = batch

    def _headers(
        self, progress: Callable[[int], None] | None = None
    ) -> Iterator[tuple[int, _Header]]:
        start, seen = 1, 0
        decode = _header.decode
        while rows := self.recorder.scan(start, self.batch):
            for nid, _oid, _version, topic, state, _hash in rows:
                if topic.startswith("identity."):
                    yield nid, decode(state)
            seen += len(rows)
            if progress is not None:
                progress(seen)
            start = rows[-1][0] + 1

    def _payload(self, h: _Header) -> dict[str, Any]:
        struct = self.registry.decode_payload(h.type, h.schema_version, bytes(h.payload))
        return msgspec.to_builtins(struct)  # type: ignore[no-any-return]

    def entries(
        self,
        *,
        workspace_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[AuditEntry]:
        for position, h in self._headers(progress):
            if workspace_id is not None and h.workspace_id != workspace_id:
                continue
            if since is not None and h.occurred_at < since:
                continue
            if until is not None and h.occurred_at > until:
                continue
            if actor is not None and h.actor != actor:
                continue
            payload = self._payload(h)
            before, after = split_before_after(payload)
            yield AuditEntry(
                position=position,
                event_id=h.event_id,
                occurred_at=h.occurred_at,
                actor=h.actor,
                action=h.type,
                workspace_id=h.workspace_id,
                target=target_of(payload, h.workspace_id),
                before=before,
                after=after,
                correlation_id=h.correlation_id,
                causation_id=h.causation_id,
            )

    def as_of(
        self, workspace_id: str, instant: datetime, progress: Callable[[int], None] | None = None
    ) -> WorkspaceAsOf:
        """Members, roles, pending invitations and live tokens of a workspace at `instant`."""
        emails: dict[str, str] = {}
        name: str | None = None
        exists = archived = False
        members: dict[str, str] = {}
        invitations: dict[str, InvitationState] = {}
        tokens: dict[str, TokenState] = {}
        for _, h in self._headers(progress):
            if h.occurred_at > instant:
                continue
            if h.type == "identity.user_registered":
                p = self.registry.decode_payload(h.type, h.schema_version, bytes(h.payload))
                emails[p.user_id] = p.email  # type: ignore[attr-defined]
                continue
            if h.workspace_id != workspace_id:
                continue
            p = self.registry.decode_payload(h.type, h.schema_version, bytes(h.payload))
            match p:
                case c.WorkspaceCreated():
                    exists, name = True, p.name
                case c.WorkspaceRenamed():
                    name = p.name
                case c.WorkspaceArchived():
                    archived = True
                case c.MemberJoined():
                    members[p.user_id] = p.role
                case c.MemberRoleChanged():
                    members[p.user_id] = p.role
                case c.MemberRemoved():
                    members.pop(p.user_id, None)
                case c.OwnershipTransferred():
                    members[p.to_user_id], members[p.from_user_id] = "owner", "admin"
                case c.InvitationCreated():
                    invitations[p.invitation_id] = InvitationState(
                        p.invitation_id, p.email, p.role, p.expires_at
                    )
                case c.InvitationResent():
                    if p.invitation_id in invitations:
                        invitations[p.invitation_id].expires_at = p.expires_at
                case c.InvitationAccepted() | c.InvitationDeclined() | c.InvitationRevoked():
                    invitations.pop(p.invitation_id, None)
                case c.ApiTokenIssued():
                    tokens[p.token_id] = TokenState(
                        p.token_id, p.user_id, p.name, list(p.permissions), p.expires_at
                    )
                case c.ApiTokenRevoked():
                    tokens.pop(p.token_id, None)
        return WorkspaceAsOf(
            workspace_id=workspace_id,
            as_of=instant,
            exists=exists,
            name=name,
            archived=archived,
            members=sorted(
                (MemberState(uid, emails.get(uid), role) for uid, role in members.items()),
                key=lambda m: (-role_rank(m.role), m.email or m.user_id),
            ),
            pending_invitations=sorted(
                (i for i in invitations.values() if i.expires_at > instant), key=lambda i: i.email
            ),
            active_tokens=sorted(
                (t for t in tokens.values() if t.expires_at > instant), key=lambda t: t.token_id
            ),
        )
