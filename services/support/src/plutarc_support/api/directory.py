"""Names for the operators' side: who a user is and what a workspace is called.

An operator is no member of the workspaces whose tickets they answer, so identity's member
routes do not serve them; the support module keeps its own small read model of the names, from
identity's public events topic: `sp_people` (a user's display name, from `identity.user_registered`)
and `sp_workspaces` (a workspace's name, from `identity.workspace_created` and
`identity.workspace_renamed`). Emails are not kept. Each row is written over by key, so an event
applied again changes nothing (`dedupe = False`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from plutarc_api.runtime import ApiRuntime
from plutarc_contracts import Envelope, events_topic
from plutarc_contracts import identity as i
from plutarc_runtime.readmodels import upsert
from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.engine import Connection

IDENTITY_EVENTS = events_topic(i.IDENTITY)

directory_md = MetaData()
people = Table(
    "sp_people",
    directory_md,
    Column("user_id", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    sqlite_with_rowid=False,
)
workspaces = Table(
    "sp_workspaces",
    directory_md,
    Column("workspace_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    sqlite_with_rowid=False,
)


class DirectoryProjection:
    name = "support.directory"
    version = 1
    topics = (IDENTITY_EVENTS,)
    metadata = directory_md
    types: frozenset[str] | None = frozenset(
        {"identity.user_registered", "identity.workspace_created", "identity.workspace_renamed"}
    )
    dedupe = False

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        users: dict[str, dict[str, Any]] = {}
        spaces: dict[str, dict[str, Any]] = {}
        for env in events:
            p = env.payload
            if isinstance(p, i.UserRegistered):
                users[p.user_id] = {"user_id": p.user_id, "display_name": p.display_name}
            elif isinstance(p, i.WorkspaceCreated | i.WorkspaceRenamed):
                spaces[p.workspace_id] = {"workspace_id": p.workspace_id, "name": p.name}
        upsert(conn, people, [users[k] for k in sorted(users)], ["user_id"])
        upsert(conn, workspaces, [spaces[k] for k in sorted(spaces)], ["workspace_id"])


class Names:
    """Display names of users and names of workspaces, looked up a batch at a time."""

    def __init__(self, users: dict[str, str], spaces: dict[str, str]) -> None:
        self.users, self.spaces = users, spaces

    @classmethod
    async def of(
        cls, rt: ApiRuntime, user_ids: Iterable[str | None], workspace_ids: Iterable[str]
    ) -> Names:
        return cls(
            await _lookup(rt, people.c.user_id, people.c.display_name, user_ids),
            await _lookup(rt, workspaces.c.workspace_id, workspaces.c.name, workspace_ids),
        )


async def _lookup(
    rt: ApiRuntime, key: Column[str], value: Column[str], ids: Iterable[str | None]
) -> dict[str, str]:
    """`key` -> `value` for each of `ids` found, 500 ids a query."""
    wanted = sorted({i for i in ids if i})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        query = select(key.label("k"), value.label("v")).where(key.in_(wanted[start : start + 500]))
        for row in await rt.reader.all(query):
            found[row.k] = row.v
    return found
