"""The envelopes every event and command travels in, and event ids.

The envelope is the part of the wire format that every service reads before it knows what the
payload is, so it is deliberately fixed: changing it would be a new major topic for every context at
once. Payload schemas change independently, per type, through ``schema_version`` and upcasters (see
``registry.py``).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

UtcDateTime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A datetime that must carry a zone on the wire; the codec normalises it to UTC."""


class Payload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Recommended base for event and command payloads.

    Frozen because an event is a fact; keyword-only so adding a defaulted field in a new version
    never reorders positional arguments; unknown fields forbidden so a producer on a newer schema
    cannot slip data past an old consumer under the old version number.
    """


class Envelope(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """An event as it travels on ``<context>.events.v<major>``.

    ``stream_id`` is the aggregate id and the Kafka key, so ordering holds per aggregate;
    ``stream_position`` is the event's position in that aggregate's stream. ``actor`` is a user, a
    token, or ``system:<service>``. ``payload`` is the registered Struct for (``type``,
    ``schema_version``); decoding always yields the current version.

    ``readable_as`` is written by the registry, never by hand: for a version its type declares
    readable as an older one (fields added only), the older number, so that a consumer that knows
    no later version reads it as that one instead of dead-lettering it (docs/contracts.md, "A new
    version old consumers can read"). Absent (and omitted on the wire) otherwise, so every other
    event's bytes are what they were.
    """

    event_id: str
    type: str
    schema_version: int
    occurred_at: UtcDateTime
    producer: str
    stream_id: str
    stream_position: int
    workspace_id: str | None
    actor: str
    correlation_id: str
    causation_id: str | None
    payload: Any
    readable_as: int | None = None


class CommandEnvelope(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A command as it travels on ``<context>.commands.v<major>``.

    ``command_id`` is the idempotency key: a handler that sees the same id twice replies the same
    way and changes nothing. The reply event reuses ``correlation_id``.
    """

    command_id: str
    type: str
    schema_version: int
    issued_at: UtcDateTime
    actor: str
    workspace_id: str | None
    correlation_id: str
    causation_id: str | None
    payload: Any


# --- UUIDv7 (RFC 9562 section 5.7) ----------------------------------------------------------------
#
# Layout: 48-bit unix milliseconds | 4-bit version (7) | 12-bit rand_a | 2-bit variant | 62-bit
# rand_b. Monotonicity uses RFC 9562 section 6.2 method 2: within one millisecond the 74 random bits
# are treated as a counter and incremented, so ids from one process sort in creation order even when
# many are made per millisecond; if the clock steps back, the last timestamp is reused.
# Cross-process order is only as good as the clocks, which is all consumers rely on (they dedupe by
# id, not by order).

_RAND_BITS = 74
_RAND_MASK = (1 << _RAND_BITS) - 1
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _next_fields() -> tuple[int, int]:
    global _last_ms, _last_rand
    now_ms = time.time_ns() // 1_000_000
    with _lock:
        if now_ms > _last_ms:
            # Start each millisecond in the lower half of the space so the counter rarely overflows.
            _last_ms, _last_rand = now_ms, int.from_bytes(os.urandom(10)) >> 7
        else:
            _last_rand += 1 + (os.urandom(1)[0] & 0x0F)
            if _last_rand > _RAND_MASK:
                _last_ms, _last_rand = _last_ms + 1, int.from_bytes(os.urandom(10)) >> 7
        return _last_ms, _last_rand


def new_event_id() -> str:
    """A fresh UUIDv7 string; sortable by creation time, unique without coordination."""
    ms, rand = _next_fields()
    rand_a = rand >> 62
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_uuid7(value: str) -> bool:
    """True for a canonical lower-case UUIDv7 string with the RFC 9562 variant."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


def uuid7_unix_ms(value: str) -> int:
    """The millisecond timestamp embedded in a UUIDv7 (the moment the id was made)."""
    return uuid.UUID(value).int >> 80
