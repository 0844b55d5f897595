"""`plutarc audit` speed over a large identity store: verify, replay as of an instant, export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from plutarc_contracts import default_registry
from plutarc_contracts import identity as c
from plutarc_identity.domain import STREAM_TYPES, Workspace
from plutarc_runtime.audit import AuditReader
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.store import EventStore, Meta

from .common import rate, timer

ROLES = ("viewer", "trader", "manager", "admin")


def fill(store: EventStore, events: int, per_workspace: int = 1000) -> tuple[str, object]:
    """Workspaces whose members join and change role; returns one workspace id and a mid instant."""
    clock = FakeClock()
    written, target, middle = 0, "", None
    while written < events:
        owner = str(uuid4())
        ws = Workspace.create(str(uuid4()), "organisation", "Desk", owner, clock.now())
        members: list[str] = []
        target = target or ws.workspace_id
        meta = Meta(
            actor=f"user:{owner}", correlation_id=str(uuid4()), workspace_id=ws.workspace_id
        )
        for i in range(per_workspace - 2):
            at = clock.advance(timedelta(seconds=1))
            if i % 3 == 0 or not members:
                user = str(uuid4())
                members.append(user)
                ws._trigger(
                    c.MemberJoined(
                        workspace_id=ws.workspace_id, user_id=user, role="viewer", via="invitation"
                    ),
                    at,
                )
            else:
                user = members[i % len(members)]
                previous = ws.members[user].role
                role = ROLES[(ROLES.index(previous) + 1) % len(ROLES)]
                ws._trigger(
                    c.MemberRoleChanged(
                        workspace_id=ws.workspace_id,
                        user_id=user,
                        previous_role=previous,
                        role=role,
                    ),
                    at,
                )
            if len(ws._pending) >= 100:
                store.save(ws, meta=meta)
        store.save(ws, meta=meta)
        written += per_workspace
        if middle is None and written >= events // 2:
            middle = clock.now()
    return target, middle or clock.now()


def run(base: Path, events: int = 1_000_000) -> list[str]:
    store = EventStore(
        name="identity",
        producer="identity",
        registry=default_registry(),
        sqlite_path=base / "audit-identity.sqlite",
        snapshot_interval=0,
        stream_types=STREAM_TYPES,
    )
    lines = []
    with timer() as t:
        workspace, middle = fill(store, events)
    total = store.max_notification_id()
    lines.append(f"audit: wrote {total:,} identity events in {t[0]:.1f}s ({rate(total, t[0])})")
    with timer() as t:
        result = store.verify(batch=20_000)
    assert result.ok
    lines.append(f"audit verify over {total:,} events: {rate(total, t[0])} (goal >= 100,000/s)")
    log = AuditReader(store, batch=20_000)
    with timer() as t:
        state = log.as_of(workspace, middle)  # type: ignore[arg-type]
    assert state.exists
    lines.append(
        f"audit replay --as-of over {total:,} events: {rate(total, t[0])} (goal >= 100,000/s)"
    )
    with timer() as t:
        exported = sum(1 for _ in log.entries(workspace_id=workspace))
    lines.append(
        f"audit export of one workspace ({exported:,} entries) scanning {total:,} events: {rate(total, t[0])}"
    )
    store.close()
    return lines
