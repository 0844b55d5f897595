"""A venue connection: a workspace's API keys for one venue, named by id only.

The keys themselves never enter the aggregate or its events: the handler keeps them in the
`Vault` (encrypted, envelope) and the events carry the venue, a label, the environments the keys
serve and a fingerprint. Removal is final: the vault's data key is destroyed (crypto-shredding).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from plutarc_contracts import exchange as x
from plutarc_runtime.domain import Aggregate


class Connection(Aggregate):
    stream_type: ClassVar[str] = "exchange.connection"
    workspace_id: str
    connection_id: str
    venue: str
    label: str
    environments: list[str]
    removed: bool

    @classmethod
    def add(
        cls,
        *,
        connection_id: UUID,
        workspace_id: str,
        venue: str,
        label: str,
        environments: list[str],
        fingerprint: str,
        added_by: str,
        at: datetime,
    ) -> Connection:
        connection = cls(connection_id)
        connection._trigger(
            x.ConnectionAdded(
                workspace_id=workspace_id,
                connection_id=str(connection_id),
                venue=venue,  # type: ignore[arg-type]
                label=label,
                environments=sorted(environments),  # type: ignore[arg-type]
                fingerprint=fingerprint,
                added_by=added_by,
            ),
            at,
        )
        return connection

    def remove(self, removed_by: str, at: datetime) -> None:
        self._trigger(
            x.ConnectionRemoved(
                workspace_id=self.workspace_id,
                connection_id=self.connection_id,
                removed_by=removed_by,
            ),
            at,
        )

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        p: Any = payload
        match p:
            case x.ConnectionAdded():
                self.workspace_id, self.connection_id = p.workspace_id, p.connection_id
                self.venue, self.label = p.venue, p.label
                self.environments, self.removed = list(p.environments), False
            case x.ConnectionRemoved():
                self.removed = True
