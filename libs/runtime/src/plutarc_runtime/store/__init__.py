"""Event store base: eventsourcing on SQLite or PostgreSQL, msgspec envelopes, hash chain."""

from .chain import VerifyResult, verify
from .mapper import RecordedEvent, SnapshotEvent
from .store import EventStore, Meta, Saved, persistence_env

__all__ = [
    "EventStore",
    "Meta",
    "RecordedEvent",
    "Saved",
    "SnapshotEvent",
    "VerifyResult",
    "persistence_env",
    "verify",
]
