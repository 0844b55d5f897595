"""The audit entry: one per identity event, with stable field names (a contract for auditors' tools).

Derived from an event alone, so the identity service's exports and every other service's audit
views (the gateway's, for one) produce the same entries. Credential material is redacted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from plutarc_contracts.envelope import Envelope
from plutarc_contracts.identity import SECRET_FIELDS

REDACTED = "[redacted]"
TARGET_FIELDS = ("user_id", "to_user_id", "invitation_id", "token_id", "session_id", "email")


class AuditEntry(msgspec.Struct, kw_only=True):
    position: int
    event_id: str
    occurred_at: datetime
    actor: str
    action: str
    workspace_id: str | None
    target: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    correlation_id: str
    causation_id: str | None


def split_before_after(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`previous_*` fields are the before; the rest (secrets redacted) the after."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in payload.items():
        if key in SECRET_FIELDS:
            after[key] = REDACTED
        elif key.startswith("previous_"):
            before[key.removeprefix("previous_")] = value
        elif key == "to_previous_role":
            before["role"] = value
        elif key != "workspace_id":
            after[key] = value
    return before, after


def target_of(payload: dict[str, Any], workspace_id: str | None) -> str | None:
    for field in TARGET_FIELDS:
        if payload.get(field):
            return f"{field.removesuffix('_id')}:{payload[field]}"
    return f"workspace:{workspace_id}" if workspace_id else None


def audit_entry(position: int, env: Envelope) -> AuditEntry:
    payload: dict[str, Any] = msgspec.to_builtins(env.payload)
    before, after = split_before_after(payload)
    return AuditEntry(
        position=position,
        event_id=env.event_id,
        occurred_at=env.occurred_at,
        actor=env.actor,
        action=env.type,
        workspace_id=env.workspace_id,
        target=target_of(payload, env.workspace_id),
        before=before,
        after=after,
        correlation_id=env.correlation_id,
        causation_id=env.causation_id,
    )
