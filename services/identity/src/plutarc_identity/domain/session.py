"""A login session: started by its user, ended by logout or, past its lifetime, by the timer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

import msgspec
from plutarc_contracts import identity as c
from plutarc_runtime.domain import Aggregate

from . import errors
from .ids import parse_id


class Session(Aggregate):
    stream_type: ClassVar[str] = "identity.session"
    session_id: str
    user_id: str
    expires_at: datetime
    ended: bool

    @classmethod
    def start(
        cls, session_id: str, user_id: str, token_hash: str, ttl: timedelta, at: datetime
    ) -> Session:
        session = cls(parse_id(session_id, "session_id"))
        session._trigger(
            c.SessionStarted(
                session_id=session_id, user_id=user_id, token_hash=token_hash, expires_at=at + ttl
            ),
            at,
        )
        return session

    def end(self, actor: str, at: datetime) -> None:
        if actor != self.user_id:
            raise errors.SessionNotFound(f"session {self.session_id} not found")
        if not self.ended:
            self._trigger(
                c.SessionEnded(session_id=self.session_id, user_id=self.user_id, reason="logout"),
                at,
            )

    def expire(self, at: datetime) -> bool:
        """End the session if its lifetime is over; False if it is live or ended already."""
        if self.ended or self.expires_at > at:
            return False
        self._trigger(
            c.SessionEnded(session_id=self.session_id, user_id=self.user_id, reason="expired"), at
        )
        return True

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        if isinstance(payload, c.SessionStarted):
            self.session_id, self.user_id = payload.session_id, payload.user_id
            self.expires_at, self.ended = payload.expires_at, False
        elif isinstance(payload, c.SessionEnded):
            self.ended = True
