"""A personal access token: one workspace, a subset of the holder's permissions, hashed, expiring.

Its effective permissions are always intersected with the holder's current role (the authorizer
checks the role first), so demoting the holder shrinks the token with them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

import msgspec
from plutarc_access import Grant
from plutarc_contracts import identity as c
from plutarc_runtime.domain import Aggregate

from . import errors
from .ids import check_name, parse_id


class ApiToken(Aggregate):
    stream_type: ClassVar[str] = "identity.api_token"
    token_id: str
    user_id: str
    workspace_id: str
    name: str
    permissions: list[str]
    expires_at: datetime
    revoked: bool

    @classmethod
    def issue(
        cls,
        token_id: str,
        user_id: str,
        workspace_id: str,
        name: str,
        permissions: list[str],
        token_hash: str,
        ttl: timedelta,
        at: datetime,
    ) -> ApiToken:
        token = cls(parse_id(token_id, "token_id"))
        check_name(name, "name")
        expires_at = at + ttl
        token._trigger(
            c.ApiTokenIssued(
                token_id=token_id,
                user_id=user_id,
                workspace_id=workspace_id,
                name=name,
                permissions=sorted(set(permissions)),
                expires_at=expires_at,
            ),
            at,
        )
        token._trigger(
            c.ApiTokenCredentialSet(
                token_id=token_id,
                user_id=user_id,
                workspace_id=workspace_id,
                token_hash=token_hash,
                expires_at=expires_at,
            ),
            at,
        )
        return token

    def revoke(self, at: datetime) -> None:
        if self.revoked:
            raise errors.TokenRevoked(f"token {self.token_id} is revoked already")
        self._trigger(
            c.ApiTokenRevoked(
                token_id=self.token_id, user_id=self.user_id, workspace_id=self.workspace_id
            ),
            at,
        )

    def grant(self) -> Grant:
        return Grant(
            self.token_id,
            self.user_id,
            self.workspace_id,
            frozenset(self.permissions),
            self.expires_at,
            self.revoked,
        )

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        if isinstance(payload, c.ApiTokenIssued):
            self.token_id, self.user_id, self.workspace_id = (
                payload.token_id,
                payload.user_id,
                payload.workspace_id,
            )
            self.name, self.permissions, self.expires_at = (
                payload.name,
                list(payload.permissions),
                payload.expires_at,
            )
            self.revoked = False
        elif isinstance(payload, c.ApiTokenRevoked):
            self.revoked = True
