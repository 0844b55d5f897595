"""Users, the email claims that keep addresses unique, sessions and personal API tokens."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from plutarc_contracts import identity as c
from plutarc_runtime.domain import Aggregate

from . import errors

EMAIL_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/email")
# Deliberately conservative: one @, a dot in the domain, no spaces or control characters.
EMAIL_RE = re.compile(
    r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
ARGON2_RE = re.compile(r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


def normalise_email(email: str) -> str:
    email = email.strip()
    local, _, domain = email.rpartition("@")
    normalised = f"{local}@{domain.lower()}".lower()
    if not EMAIL_RE.match(normalised) or len(normalised) > 254:
        raise errors.InvalidInput(
            f"`{email}` is not an email address", field="email", code="identity.invalid_email"
        )
    return normalised


def email_claim_id(email: str) -> UUID:
    return uuid5(EMAIL_NS, email)


def parse_id(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise errors.InvalidInput(
            f"`{field}` must be a UUID", field=field, code="identity.invalid_id"
        ) from None


class EmailClaim(Aggregate):
    stream_type: ClassVar[str] = "identity.email_claim"
    email: str
    user_id: str

    @classmethod
    def claim(cls, email: str, user_id: str, at: datetime) -> EmailClaim:
        claim = cls(email_claim_id(email))
        claim._trigger(c.EmailClaimed(email=email, user_id=user_id), at)
        return claim

    def apply(self, payload: msgspec.Struct) -> None:
        assert isinstance(payload, c.EmailClaimed)
        self.email, self.user_id = payload.email, payload.user_id


class User(Aggregate):
    stream_type: ClassVar[str] = "identity.user"
    user_id: str
    email: str
    display_name: str
    personal_workspace_id: str

    @classmethod
    def register(
        cls,
        user_id: str,
        email: str,
        display_name: str,
        personal_workspace_id: str,
        password_hash: str,
        at: datetime,
    ) -> User:
        if not ARGON2_RE.match(password_hash):
            raise errors.InvalidInput(
                "password_hash must be an argon2id PHC string made at the edge; plaintext never travels",
                field="password_hash",
                code="identity.invalid_password_hash",
            )
        user = cls(parse_id(user_id, "user_id"))
        user._trigger(
            c.UserRegistered(
                user_id=user_id,
                email=email,
                display_name=display_name,
                personal_workspace_id=personal_workspace_id,
            ),
            at,
        )
        user._trigger(c.PasswordSet(user_id=user_id, password_hash=password_hash), at)
        return user

    def apply(self, payload: msgspec.Struct) -> None:
        if isinstance(payload, c.UserRegistered):
            self.user_id, self.email = payload.user_id, payload.email
            self.display_name = payload.display_name
            self.personal_workspace_id = payload.personal_workspace_id


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

    def apply(self, payload: msgspec.Struct) -> None:
        if isinstance(payload, c.SessionStarted):
            self.session_id, self.user_id = payload.session_id, payload.user_id
            self.expires_at, self.ended = payload.expires_at, False
        elif isinstance(payload, c.SessionEnded):
            self.ended = True


class ApiToken(Aggregate):
    """A personal access token: one workspace, a subset of the holder's permissions, hashed, expiring.

    Its effective permissions are always intersected with the holder's current role, so demoting the
    holder shrinks the token with them.
    """

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

    def active(self, at: datetime) -> bool:
        return not self.revoked and self.expires_at > at

    def apply(self, payload: msgspec.Struct) -> None:
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
