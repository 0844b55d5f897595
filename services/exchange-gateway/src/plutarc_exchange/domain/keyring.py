"""The gateway's sealing keys as published: one stream, so the history shows every rotation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from plutarc_contracts import exchange as x
from plutarc_runtime.domain import Aggregate

KEYRING_ID: UUID = uuid5(NAMESPACE_URL, "https://plutarc.dev/exchange/keyring")


class KeyRing(Aggregate):
    stream_type: ClassVar[str] = "exchange.keyring"
    key_id: str | None

    @classmethod
    def new(cls) -> KeyRing:
        ring = cls.blank(KEYRING_ID)
        ring.key_id = None
        return ring

    def publish(self, key_id: str, public_key: str, at: datetime) -> bool:
        if key_id == self.key_id:
            return False
        self._trigger(x.SealingKeyPublished(key_id=key_id, public_key=public_key), at)
        return True

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        p: Any = payload
        if isinstance(p, x.SealingKeyPublished):
            self.key_id = p.key_id
