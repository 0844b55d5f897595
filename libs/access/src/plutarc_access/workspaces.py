"""Each workspace's risk defaults and archived flag: a projection of `identity.events.v1` that the
services enforcing limits (bots, the exchange gateway) replay at each start, like memberships."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plutarc_contracts import Envelope
from plutarc_contracts import identity as c


@dataclass(slots=True)
class WorkspaceSettings:
    risk: c.RiskDefaults = field(default_factory=c.RiskDefaults)
    archived: bool = False


class Workspaces:
    """Each workspace's risk defaults and archived flag, from identity's events."""

    def __init__(self) -> None:
        self.workspaces: dict[str, WorkspaceSettings] = {}
        self.positions: dict[str, int] = {}
        self._archived: set[str] = set()

    def apply(self, env: Envelope) -> bool:
        if env.stream_position <= self.positions.get(env.stream_id, 0):
            return False  # a duplicate from a republishing relay
        p: Any = env.payload
        match p:
            case c.WorkspaceCreated():
                self.workspaces[p.workspace_id] = WorkspaceSettings()
            case c.WorkspaceSettingsChanged():
                self.workspaces.setdefault(p.workspace_id, WorkspaceSettings()).risk = p.risk
            case c.WorkspaceArchived():
                self.workspaces.setdefault(p.workspace_id, WorkspaceSettings()).archived = True
                self._archived.add(p.workspace_id)
            case _:
                return False
        self.positions[env.stream_id] = env.stream_position
        return True

    def risk(self, workspace_id: str) -> c.RiskDefaults:
        view = self.workspaces.get(workspace_id)
        return view.risk if view is not None else c.RiskDefaults()

    def archived_ids(self) -> list[str]:
        return sorted(self._archived)

    def archived(self, workspace_id: str) -> bool:
        view = self.workspaces.get(workspace_id)
        return view is not None and view.archived
