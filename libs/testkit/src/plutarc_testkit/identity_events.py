"""Identity's events as other services' tests need them: a workspace and its members, fed to a
service's projections of `identity.events.v1` (memberships, workspaces) without Kafka."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import msgspec
from plutarc_contracts import Envelope, default_registry
from plutarc_contracts import identity as c


def identity_event(payload: msgspec.Struct, stream_id: str, position: int) -> Envelope:
    name, version = default_registry().type_name_of(type(payload))
    return Envelope(
        event_id=str(uuid4()),
        type=name,
        schema_version=version,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        producer="identity",
        stream_id=stream_id,
        stream_position=position,
        workspace_id=getattr(payload, "workspace_id", None),
        actor="user:alice",
        correlation_id=str(uuid4()),
        causation_id=None,
        payload=payload,
    )


def workspace_events(ws: str, members: dict[str, str]) -> list[Envelope]:
    events = [
        identity_event(
            c.WorkspaceCreated(workspace_id=ws, kind="organisation", name="Desk", created_by="x"),
            ws,
            1,
        )
    ]
    for i, (user, role) in enumerate(members.items(), start=2):
        joined = c.MemberJoined(workspace_id=ws, user_id=user, role=role, via="creation")  # type: ignore[arg-type]
        events.append(identity_event(joined, ws, i))
    return events
