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
from plutarc_contracts.audit import AuditEntry, split_before_after, target_of
from plutarc_contracts.audit_state import WorkspaceAsOf, WorkspaceReplay


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
            before, after = split_before_after(payload, self.registry.secret_fields(h.type))
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
        replay = WorkspaceReplay(workspace_id)
        for _, h in self._headers(progress):
            if h.occurred_at > instant:
                continue
            if h.type == "identity.user_registered":
                p = self.registry.decode_payload(h.type, h.schema_version, bytes(h.payload))
                emails[p.user_id] = p.email  # type: ignore[attr-defined]
            elif h.workspace_id == workspace_id:
                replay.apply(
                    self.registry.decode_payload(h.type, h.schema_version, bytes(h.payload))
                )
        return replay.state(instant, emails.get)
