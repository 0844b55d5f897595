"""Event store base: eventsourcing on SQLite or PostgreSQL, msgspec envelopes, hash chain."""

from .chain import VerifyResult, verify
from .handover import HandOver
from .mapper import RecordedEvent, SnapshotEvent
from .store import Appended, EventStore, Meta, Saved, persistence_env

__all__ = [
    "Appended",
    "EventStore",
    "HandOver",
    "Meta",
    "RecordedEvent",
    "Saved",
    "SnapshotEvent",
    "VerifyResult",
    "persistence_env",
    "verify",
]
