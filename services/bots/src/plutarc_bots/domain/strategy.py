"""A strategy of a workspace's library: a name and its immutable versions (1, 2, ...).

A version is never edited: a change publishes the next one, and bots pin a version. A deleted
strategy keeps its versions (the bots that ran them, and the audit log, still read them) but takes
no new version and no new bot.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from plutarc_contracts import bots as b
from plutarc_runtime.domain import Aggregate

from . import errors


class Strategy(Aggregate):
    stream_type: ClassVar[str] = "bots.strategy"
    workspace_id: str
    strategy_id: str
    name: str
    description: str
    versions: list[b.StrategySpec]
    """Version n is ``versions[n - 1]``."""
    copied_from: b.StrategyOrigin | None
    deleted: bool

    @classmethod
    def create(
        cls,
        *,
        workspace_id: str,
        strategy_id: UUID,
        name: str,
        description: str,
        spec: b.StrategySpec,
        created_by: str,
        at: datetime,
        copied_from: b.StrategyOrigin | None = None,
    ) -> Strategy:
        strategy = cls(strategy_id)
        strategy._trigger(
            b.StrategyCreated(
                workspace_id=workspace_id,
                strategy_id=str(strategy_id),
                name=name,
                description=description,
                spec=spec,
                created_by=created_by,
                copied_from=copied_from,
            ),
            at,
        )
        return strategy

    @property
    def latest(self) -> int:
        return len(self.versions)

    def spec(self, version: int | None = None) -> b.StrategySpec:
        """Version `version` (the latest when None); `bots.strategy_version_not_found` if none."""
        wanted = self.latest if version is None else version
        if not 1 <= wanted <= self.latest:
            raise errors.StrategyVersionNotFound(
                f"strategy {self.strategy_id} has versions 1 to {self.latest}, not {wanted}",
                field="version",
            )
        return self.versions[wanted - 1]

    def check_usable(self) -> None:
        if self.deleted:
            raise errors.StrategyDeleted(f"strategy {self.strategy_id} was deleted")

    def publish(
        self,
        spec: b.StrategySpec,
        *,
        by: str,
        note: str,
        expected_version: int | None,
        at: datetime,
    ) -> int:
        self.check_usable()
        if expected_version is not None and expected_version != self.latest:
            raise errors.VersionMismatch(
                f"strategy {self.strategy_id} is at version {self.latest}, not {expected_version}",
                field="expected_version",
            )
        if spec == self.versions[-1]:
            raise errors.StrategyUnchanged(
                f"version {self.latest} of strategy {self.strategy_id} is already this spec"
            )
        self._trigger(
            b.StrategyVersionPublished(
                workspace_id=self.workspace_id,
                strategy_id=self.strategy_id,
                version=self.latest + 1,
                spec=spec,
                published_by=by,
                note=note,
            ),
            at,
        )
        return self.latest

    def delete(self, at: datetime) -> None:
        self.check_usable()
        self._trigger(
            b.StrategyDeleted(workspace_id=self.workspace_id, strategy_id=self.strategy_id), at
        )

    def apply(self, payload: object, at: datetime) -> None:
        match payload:
            case b.StrategyCreated():
                self.workspace_id, self.strategy_id = payload.workspace_id, payload.strategy_id
                self.name, self.description = payload.name, payload.description
                self.versions = [payload.spec]
                self.copied_from = payload.copied_from
                self.deleted = False
            case b.StrategyVersionPublished():
                self.versions.append(payload.spec)
            case b.StrategyDeleted():
                self.deleted = True
