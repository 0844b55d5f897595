"""Identity's answer to the one authorizer: roles and token grants read from its own aggregates.

Other services answer the same questions from their `Memberships` projection of identity events;
identity owns those events, so it reads its write model directly and is never behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from plutarc_access import AccessEngine, Authorizer, Grant
from plutarc_runtime.clock import Clock
from plutarc_runtime.store import EventStore

from .domain import ApiToken, Workspace


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


class StoreMemberships:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def role_of(self, user_id: str, workspace_id: str) -> str | None:
        wid = _uuid(workspace_id)
        ws = self.store.find(Workspace, wid) if wid is not None else None
        return ws.role_of(user_id) if ws is not None else None

    def grant(self, token_id: str) -> Grant | None:
        tid = _uuid(token_id)
        token = self.store.find(ApiToken, tid) if tid is not None else None
        return token.grant() if token is not None else None


def authorizer_for(engine: AccessEngine) -> Callable[[EventStore, Clock], Authorizer]:
    def build(store: EventStore, clock: Clock) -> Authorizer:
        now: Callable[[], datetime] = clock.now
        return Authorizer(engine, StoreMemberships(store), now)

    return build
