"""System reply types and the default catalogue."""

from __future__ import annotations

import msgspec
import pytest
from plutarc_contracts import (
    COMMAND_ACCEPTED,
    COMMAND_REJECTED,
    DEAD_LETTERED,
    CommandAccepted,
    CommandRejected,
    ContractError,
    DeadLettered,
    RegistrationError,
    Registry,
    default_registry,
    register_system_types,
)


def test_default_registry_holds_the_system_types_and_is_shared_and_frozen() -> None:
    registry = default_registry()
    assert registry is default_registry()
    assert registry.frozen
    assert {COMMAND_ACCEPTED, COMMAND_REJECTED, DEAD_LETTERED} <= set(registry.event_names())
    assert registry.type_name_of(CommandAccepted) == ("system.command_accepted", 1)
    assert registry.type_name_of(CommandRejected) == ("system.command_rejected", 2)
    assert registry.type_name_of(DeadLettered) == ("system.dead_lettered", 1)
    assert {registry.context_of(n) for n in registry.names()} >= {"system"}
    with pytest.raises(RegistrationError, match="frozen"):
        register_system_types(registry)


def test_register_system_types_returns_the_registry() -> None:
    registry = Registry()
    assert register_system_types(registry) is registry
    assert len(registry) == 7  # replies, dead letters and the four intent events


def test_reply_defaults() -> None:
    accepted = CommandAccepted(command_id="c", command_type="identity.invite_member")
    assert (accepted.result, accepted.stream_id, accepted.stream_position) == ({}, None, None)
    assert CommandAccepted(command_id="d", command_type="t").result is not accepted.result
    rejected = CommandRejected(
        command_id="c", command_type="t", kind="invalid", code="x.y", detail="no"
    )
    assert rejected.field is None


def test_dead_lettered_raw_is_base64_and_lossless() -> None:
    original = b"\x00\xff not even utf-8 \xfe"
    record = DeadLettered(
        topic="identity.events.v1",
        partition=0,
        offset=5,
        key=None,
        reason="not JSON",
        code="contract.not_json",
        consumer="bots.identity-projection",
        raw=DeadLettered.encode_raw(original),
    )
    assert record.raw.isascii()
    assert record.raw_bytes() == original
    bad = msgspec.structs.replace(record, raw="not base64!")
    with pytest.raises(ContractError) as info:
        bad.raw_bytes()
    assert info.value.path == "payload.raw"
