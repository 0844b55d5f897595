"""Stream ids: strategies and bots by their own UUIDs, which the caller chooses."""

from __future__ import annotations

from uuid import UUID

from . import errors


def parse_id(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise errors.InvalidInput(
            f"`{field}` must be a UUID", field=field, code="bots.invalid_id"
        ) from None
