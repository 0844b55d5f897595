"""The user: an email, a display name, a personal workspace and a password hash made at the edge."""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar

import msgspec
from plutarc_contracts import identity as c
from plutarc_runtime.domain import Aggregate

from . import errors
from .ids import check_name, parse_id

ARGON2_RE = re.compile(r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


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
        check_name(display_name, "display_name")
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

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        if isinstance(payload, c.UserRegistered):
            self.user_id, self.email = payload.user_id, payload.email
            self.display_name = payload.display_name
            self.personal_workspace_id = payload.personal_workspace_id
