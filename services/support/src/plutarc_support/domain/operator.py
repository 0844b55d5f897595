"""A support operator: a platform-level role, not a workspace role, granted and revoked from the
command line. Operators see every workspace's tickets, answer them and write internal notes."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import msgspec
from plutarc_contracts import support as s
from plutarc_runtime.domain import Aggregate

from . import errors
from .ids import operator_id


class Operator(Aggregate):
    stream_type: ClassVar[str] = "support.operator"
    user_id: str
    active: bool

    @classmethod
    def grant(cls, existing: Operator | None, user_id: str, by: str, at: datetime) -> Operator:
        operator = existing or cls(operator_id(user_id))
        if existing is not None and existing.active:
            raise errors.AlreadyOperator(f"user {user_id} is an operator already")
        operator._trigger(s.OperatorGranted(user_id=user_id, granted_by=by), at)
        return operator

    def revoke(self, by: str, at: datetime) -> None:
        if not self.active:
            raise errors.UnknownOperator(f"user {self.user_id} is not an operator")
        self._trigger(s.OperatorRevoked(user_id=self.user_id, revoked_by=by), at)

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case s.OperatorGranted():
                self.user_id, self.active = payload.user_id, True
            case s.OperatorRevoked():
                self.active = False
