"""The gateway's timers: publishing its sealing key when the one it holds is not the last one
published (at the first pass after a start, and after a rotation)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from plutarc_contracts import Payload
from plutarc_contracts import exchange as x
from plutarc_runtime.timers import ReadModels, Timer

from .sealing import SealingKey


class Published:
    """Read model of the service's own events: the sealing key last published."""

    event_types = frozenset({"exchange.sealing_key_published"})

    def __init__(self) -> None:
        self.key_id: str | None = None

    def apply(self, env: Any) -> None:
        if isinstance(env.payload, x.SealingKeyPublished):
            self.key_id = env.payload.key_id


def publish_key(key: SealingKey, models: ReadModels) -> list[Payload]:
    if models.get(Published).key_id == key.key_id:
        return []
    return [x.PublishSealingKey(key_id=key.key_id, public_key=key.public_key)]


def timers(key: SealingKey, every: timedelta) -> list[Timer]:
    def decide(now: datetime, models: ReadModels) -> list[Payload]:
        return publish_key(key, models)

    return [Timer("publish-sealing-key", every, decide)]
