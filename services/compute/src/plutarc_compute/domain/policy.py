"""A workspace's sleep policy: how long a host may stay up after its window while its bot is
still exposed (``drain_deadline_minutes``; 0: until flat, however long)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from plutarc_contracts import compute as c
from plutarc_runtime.domain import Aggregate

POLICY_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/compute/sleep-policy")
DEFAULT_DEADLINE_MINUTES = 240


def policy_id(workspace_id: str) -> UUID:
    return uuid5(POLICY_NS, workspace_id)


class SleepPolicy(Aggregate):
    stream_type: ClassVar[str] = "compute.sleep_policy"
    workspace_id: str = ""
    minutes: int = DEFAULT_DEADLINE_MINUTES

    @classmethod
    def create(cls, workspace_id: str) -> SleepPolicy:
        policy = cls(policy_id(workspace_id))
        policy.workspace_id = workspace_id
        return policy

    def set(self, minutes: int, at: datetime) -> bool:
        if self.version > 0 and minutes == self.minutes:
            return False
        self._trigger(
            c.SleepPolicySet(workspace_id=self.workspace_id, drain_deadline_minutes=minutes), at
        )
        return True

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        p: Any = payload
        match p:
            case c.SleepPolicySet():
                self.workspace_id, self.minutes = p.workspace_id, p.drain_deadline_minutes
