"""Aggregate base, and the domain errors (their base class is the rejection's kind).

Aggregates are plain Python objects whose state changes only by applying events. An event's payload
is a msgspec Struct registered in the contracts registry; the envelope metadata (actor, correlation,
workspace) is added when the store saves, so domain code never handles transport concerns.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self
from uuid import UUID

import msgspec
from plutarc_contracts.rejections import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unavailable,
)

__all__ = [
    "Aggregate",
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "PendingEvent",
    "Unavailable",
]


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event an aggregate has applied but the store has not saved yet."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    payload: msgspec.Struct


class Aggregate:
    """Base for event-sourced aggregates.

    Subclasses declare their state as annotated attributes (used for snapshots) and implement
    `apply(payload, at)` to change state from one event recorded at `at`. Command methods
    validate, then call `_trigger`.
    """

    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime

    _SNAPSHOT_EXCLUDE: ClassVar[frozenset[str]] = frozenset(
        {"id", "version", "created_on", "modified_on"}
    )

    def __init__(self, aggregate_id: UUID) -> None:
        self.id = aggregate_id
        self.version = 0
        self._pending: list[PendingEvent] = []

    @classmethod
    def blank(cls, aggregate_id: UUID) -> Self:
        """An instance with no state yet, ready to have its history applied."""
        obj = cls.__new__(cls)
        Aggregate.__init__(obj, aggregate_id)
        return obj

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    def _trigger(self, payload: msgspec.Struct, at: datetime) -> None:
        event = PendingEvent(self.id, self.version + 1, at, payload)
        self._mutate(event.payload, event.originator_version, event.timestamp)
        self._pending.append(event)

    def _mutate(self, payload: msgspec.Struct, version: int, at: datetime) -> None:
        if version != self.version + 1:
            raise RuntimeError(
                f"event version {version} does not follow {self.version} of {self.id}"
            )
        self.apply(payload, at)
        if self.version == 0:
            self.created_on = at
        self.version = version
        self.modified_on = at

    def collect_events(self) -> list[PendingEvent]:
        events, self._pending = self._pending, []
        return events

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """A copy through the snapshot codec: the aggregate cache hands one out on every load, and
        msgspec copies a large state (a workspace with its invitations) many times faster than
        `copy.deepcopy` walking it object by object."""
        if self._pending:
            raise RuntimeError("an aggregate with unsaved events is not copied")
        cls = type(self)
        state_type = snapshot_type(cls)
        state = msgspec.convert(self.snapshot_state(), state_type, from_attributes=True)
        copied = msgspec.msgpack.decode(msgspec.msgpack.encode(state), type=state_type)
        clone = cls.blank(self.id)
        clone.restore_state({name: getattr(copied, name) for name in snapshot_fields(cls)})
        clone.version = self.version
        for stamp in ("created_on", "modified_on"):  # absent before any event or from a snapshot
            if hasattr(self, stamp):
                setattr(clone, stamp, getattr(self, stamp))
        return clone

    def snapshot_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in snapshot_fields(type(self))}

    def restore_state(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)


_FIELDS: dict[type[Aggregate], tuple[str, ...]] = {}
_SNAPSHOT_TYPES: dict[type[Aggregate], type[msgspec.Struct]] = {}


def snapshot_fields(cls: type[Aggregate]) -> tuple[str, ...]:
    """The annotated state attributes of an aggregate class (memoised per class)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        hints = typing.get_type_hints(cls)
        fields = tuple(
            name
            for name in hints
            if not name.startswith("_")
            and name not in Aggregate._SNAPSHOT_EXCLUDE
            and typing.get_origin(hints[name]) is not ClassVar
        )
        _FIELDS[cls] = fields
    return fields


def snapshot_type(cls: type[Aggregate]) -> type[msgspec.Struct]:
    """A msgspec Struct type built from the aggregate's annotations, to encode and decode snapshots."""
    struct = _SNAPSHOT_TYPES.get(cls)
    if struct is None:
        hints = typing.get_type_hints(cls)
        fields = [(name, hints[name]) for name in snapshot_fields(cls)]
        struct = msgspec.defstruct(f"{cls.__name__}Snapshot", fields, kw_only=True)
        _SNAPSHOT_TYPES[cls] = struct
    return struct
