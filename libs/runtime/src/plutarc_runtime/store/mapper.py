"""Maps between eventsourcing's stored events and plutarc envelopes.

The stored `topic` is the stable wire type name (never a Python import path) and the stored `state`
is the envelope exactly as it goes on the wire, so the relay publishes stored bytes unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from plutarc_contracts import Envelope, Registry

SNAPSHOT_PREFIX = "snapshot:"


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A domain event as the store holds it: the envelope plus eventsourcing's identity fields."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class SnapshotEvent:
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    stream_type: str
    state: bytes


class _Unused(Transcoder):
    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


class _SnapshotHeader(msgspec.Struct, frozen=True):
    timestamp: datetime
    state: msgspec.Raw


_snapshot_decoder = msgspec.json.Decoder(_SnapshotHeader)
_encoder = msgspec.json.Encoder()


class EnvelopeMapper(Mapper[UUID]):
    def __init__(self, registry: Registry) -> None:
        super().__init__(transcoder=_Unused())
        self.registry = registry

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, SnapshotEvent):
            state = b'{"timestamp":%s,"state":%s}' % (
                _encoder.encode(domain_event.timestamp),
                domain_event.state,
            )
            return StoredEvent(
                originator_id=domain_event.originator_id,
                originator_version=domain_event.originator_version,
                topic=SNAPSHOT_PREFIX + domain_event.stream_type,
                state=state,
            )
        env: Envelope = domain_event.envelope
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=env.type,
            state=self.registry.encode_event(env),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        originator_id = UUID(str(stored_event.originator_id))
        if stored_event.topic.startswith(SNAPSHOT_PREFIX):
            header = _snapshot_decoder.decode(stored_event.state)
            return SnapshotEvent(
                originator_id,
                stored_event.originator_version,
                header.timestamp,
                stored_event.topic[len(SNAPSHOT_PREFIX) :],
                bytes(header.state),
            )
        env = self.registry.decode_event(stored_event.state)
        return RecordedEvent(originator_id, stored_event.originator_version, env.occurred_at, env)
