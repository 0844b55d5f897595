"""Codec primitives: wire-side twins of the envelopes, cached encoder/decoders, time handling.

Decoding is two-phase: the envelope first, with the payload kept as ``msgspec.Raw`` (a zero-copy
slice of the input), then the payload with the decoder for the (type, version) the envelope names.
The twins must list exactly the public envelope fields; test_envelope pins that. Unknown envelope
fields are rejected: the envelope is fixed, so an extra key means a corrupt or foreign message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from plutarc_contracts.envelope import CommandEnvelope, Envelope, UtcDateTime
from plutarc_contracts.errors import (
    INVALID,
    NOT_JSON,
    ContractError,
    RegistrationError,
    from_msgspec,
)

BYTES_LIKE = (bytes, bytearray, memoryview)
BytesLike = bytes | bytearray | memoryview
"""What the decoders accept: Kafka clients hand out bytes, buffers are decoded without copying."""


class WireEnvelope(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    gc=False,
):
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
    payload: msgspec.Raw
    readable_as: int | None = None


class WireCommandEnvelope(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False
):
    command_id: str
    type: str
    schema_version: int
    issued_at: UtcDateTime
    actor: str
    workspace_id: str | None
    correlation_id: str
    causation_id: str | None
    payload: msgspec.Raw


EVENT_DECODER = msgspec.json.Decoder(WireEnvelope)
COMMAND_DECODER = msgspec.json.Decoder(WireCommandEnvelope)
# Deterministic order makes equal envelopes encode to equal bytes (dict keys sorted), which the
# audit hash chain depends on.
ENCODER = msgspec.json.Encoder(order="deterministic")


def compile_decoder(name: str, number: int, cls: object) -> msgspec.json.Decoder[Any]:
    if not (isinstance(cls, type) and issubclass(cls, msgspec.Struct)):
        raise RegistrationError(f"`{name}` v{number}: {cls!r} is not a msgspec.Struct subclass")
    if cls.__struct_config__.array_like:
        raise RegistrationError(
            f"`{name}` v{number}: array_like payloads cannot be upcast as dicts; use objects"
        )
    try:
        decoder = msgspec.json.Decoder(cls)
        custom = _custom_types(msgspec.inspect.type_info(cls), set())
    except Exception as exc:  # TypeError for unsupported types, NameError for dangling annotations
        raise RegistrationError(f"`{name}` v{number}: not JSON-serialisable: {exc}") from exc
    if custom:
        # msgspec accepts arbitrary classes if a dec_hook/enc_hook handles them; the codec has no
        # hooks, so such a field would only fail on the first real message.
        raise RegistrationError(
            f"`{name}` v{number}: not JSON-serialisable: no codec for {', '.join(sorted(custom))}"
        )
    return decoder


def _custom_types(t: msgspec.inspect.Type, seen: set[int]) -> set[str]:
    if id(t) in seen:
        return set()
    seen.add(id(t))
    if isinstance(t, msgspec.inspect.CustomType):
        return {t.cls.__qualname__}
    children: list[msgspec.inspect.Type] = []
    for attr in ("item_type", "key_type", "value_type"):
        if isinstance(child := getattr(t, attr, None), msgspec.inspect.Type):
            children.append(child)
    children.extend(getattr(t, "types", ()) or getattr(t, "item_types", ()))
    children.extend(f.type for f in getattr(t, "fields", ()))
    return set().union(*(_custom_types(c, seen) for c in children))


def decode_envelope(decoder: msgspec.json.Decoder[Any], data: object) -> Any:
    if not isinstance(data, BYTES_LIKE):
        raise ContractError(NOT_JSON, f"expected bytes, got {type(data).__name__}")
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise from_msgspec(exc) from exc


def encode(env: Envelope | CommandEnvelope) -> bytes:
    try:
        return ENCODER.encode(env)
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError) as exc:
        raise ContractError(
            INVALID, f"cannot encode `{env.type}` v{env.schema_version}: {exc}"
        ) from exc


def as_utc(at: object, field: str) -> datetime:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ContractError(INVALID, f"`{field}` must be a timezone-aware datetime", path=field)
    return to_utc(at, field)


def to_utc(at: datetime, field: str) -> datetime:
    if not at.utcoffset():
        return at
    try:
        return at.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ContractError(INVALID, f"`{field}` is out of range in UTC", path=field) from exc


def read_as_older(name: str, cls: type[msgspec.Struct], raw: msgspec.Raw | BytesLike) -> Any:
    """A payload of a newer version read as `cls`, an older one it was declared readable as: the
    fields `cls` does not know are dropped, every field it knows is decoded as strictly as ever."""
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise from_msgspec(exc, prefix="payload", context=f"`{name}`: ") from exc
    if not isinstance(data, dict):
        raise ContractError(INVALID, f"`{name}`: the payload is not an object")
    known = set(cls.__struct_encode_fields__)
    kept = {k: v for k, v in data.items() if k in known}
    return msgspec.json.encode(kept)
