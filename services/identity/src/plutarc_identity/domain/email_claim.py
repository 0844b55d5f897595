"""The email claim: one stream per normalised address, which keeps addresses unique."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from plutarc_contracts import identity as c
from plutarc_runtime.domain import Aggregate

EMAIL_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/email")


def email_claim_id(email: str) -> UUID:
    return uuid5(EMAIL_NS, email)


class EmailClaim(Aggregate):
    stream_type: ClassVar[str] = "identity.email_claim"
    email: str
    user_id: str

    @classmethod
    def claim(cls, email: str, user_id: str, at: datetime) -> EmailClaim:
        claim = cls(email_claim_id(email))
        claim._trigger(c.EmailClaimed(email=email, user_id=user_id), at)
        return claim

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        assert isinstance(payload, c.EmailClaimed)
        self.email, self.user_id = payload.email, payload.user_id
