"""The audit entry: one per stored event, with stable field names (a contract for auditors' tools),
and the as-of fold a context registers so that its state can be replayed to any instant.

An entry is derived from an event alone, so a service's exports (`plutarc audit export`) and other
services' audit views (the gateway's, for one) produce the same entries. The fields the registry
declares secret for the event's type (`Registry.secret_fields`) are redacted.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Protocol

import msgspec

from plutarc_contracts.envelope import Envelope

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


class AsOfFold(Protocol):
    """Rebuilds one subject's state (a workspace's) as of an instant from its context's events.

    A context registers a factory for it (`Registry.register_as_of_fold`). The reader offers the
    context's stored events up to the instant, oldest first: it asks `wants` with the type and
    workspace from the envelope's header, and decodes and `apply`s only what is wanted, so a replay
    of a large store stays fast. `state` gives the result; if it has an `exists` field, false means
    the subject did not exist at the instant.
    """

    def wants(self, type_name: str, workspace_id: str | None) -> bool: ...

    def apply(self, env: Envelope) -> None: ...

    def state(self, instant: datetime) -> msgspec.Struct: ...


def split_before_after(
    payload: dict[str, Any], secret_fields: Collection[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`previous_*` fields are the before; the rest (secret fields redacted) the after."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in payload.items():
        if key in secret_fields:
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


def audit_entry(position: int, env: Envelope, secret_fields: Collection[str]) -> AuditEntry:
    """The entry for one event; pass `registry.secret_fields(env.type)`."""
    payload: dict[str, Any] = msgspec.to_builtins(env.payload)
    before, after = split_before_after(payload, secret_fields)
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
