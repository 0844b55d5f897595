"""Encoding and decoding envelopes: round trips, upcasting, and every way bytes can be wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from plutarc_contracts import (
    CommandAccepted,
    CommandEnvelope,
    ContractError,
    Envelope,
    Payload,
    Registry,
    new_event_id,
)
from plutarc_contracts.errors import CODES
from plutarc_contracts.fixtures import example_payload

AT = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def make_event(registry: Registry, name: str, version: int, **overrides: Any) -> Envelope:
    fields: dict[str, Any] = {
        "event_id": new_event_id(),
        "type": name,
        "schema_version": version,
        "occurred_at": AT,
        "producer": "test",
        "stream_id": "stream-1",
        "stream_position": 7,
        "workspace_id": "ws-1",
        "actor": "user:1",
        "correlation_id": "corr-1",
        "causation_id": None,
        "payload": example_payload(registry.payload_class(name, version)),
    }
    return Envelope(**(fields | overrides))


def make_command(registry: Registry, name: str, version: int, **overrides: Any) -> CommandEnvelope:
    fields: dict[str, Any] = {
        "command_id": new_event_id(),
        "type": name,
        "schema_version": version,
        "issued_at": AT,
        "actor": "user:1",
        "workspace_id": None,
        "correlation_id": "corr-1",
        "causation_id": "cause-1",
        "payload": example_payload(registry.payload_class(name, version)),
    }
    return CommandEnvelope(**(fields | overrides))


# --- round trips ---


def test_every_registered_type_round_trips(full_registry: Registry) -> None:
    for name in full_registry.names():
        version = full_registry.current_version(name)
        if full_registry.is_event(name):
            env = make_event(full_registry, name, version)
            data = full_registry.encode_event(env)
            assert full_registry.decode_event(data) == env
            assert full_registry.encode_event(full_registry.decode_event(data)) == data
        else:
            cmd = make_command(full_registry, name, version)
            data = full_registry.encode_command(cmd)
            assert full_registry.decode_command(data) == cmd
            assert full_registry.encode_command(full_registry.decode_command(data)) == data


def test_every_old_version_decodes_to_the_current_one(full_registry: Registry) -> None:
    for name in full_registry.names():
        mt = full_registry.describe(name)
        for version in mt.versions:
            if mt.kind == "event":
                decoded: Envelope | CommandEnvelope = full_registry.decode_event(
                    full_registry.encode_event(make_event(full_registry, name, version))
                )
            else:
                decoded = full_registry.decode_command(
                    full_registry.encode_command(make_command(full_registry, name, version))
                )
            assert decoded.schema_version == mt.current
            assert type(decoded.payload) is mt.versions[mt.current]


def test_upcasters_chain_through_every_version(
    sample_registry: Registry, sample: SimpleNamespace
) -> None:
    env = make_event(
        sample_registry,
        "sample.account_opened",
        1,
        payload=sample.AccountOpenedV1(account_id="a-1", owner="u-1"),
    )
    decoded = sample_registry.decode_event(sample_registry.encode_event(env))
    assert decoded.schema_version == 3
    assert decoded.payload == sample.AccountOpenedV3(
        account_id="a-1", owner_id="u-1", currencies=["USD"]
    )
    assert msgspec.structs.replace(decoded, schema_version=1, payload=env.payload) == env


def test_commands_upcast_too(sample_registry: Registry, sample: SimpleNamespace) -> None:
    cmd = make_command(
        sample_registry, "sample.open_account", 1, payload=sample.OpenAccountV1(owner="u-9")
    )
    decoded = sample_registry.decode_command(sample_registry.encode_command(cmd))
    assert decoded.schema_version == 2
    assert decoded.payload == sample.OpenAccountV2(owner_id="u-9", currency="USD")


def test_decode_payload_upcasts_a_bare_payload(
    sample_registry: Registry, sample: SimpleNamespace
) -> None:
    payload = sample_registry.decode_payload(
        "sample.account_opened", 2, b'{"account_id":"a","owner_id":"u","currency":"GBP"}'
    )
    assert payload == sample.AccountOpenedV3(account_id="a", owner_id="u", currencies=["GBP"])


def test_encoding_is_canonical_json(full_registry: Registry) -> None:
    payload = CommandAccepted(
        command_id="c", command_type="t", result={"b": 1, "a": {"z": 0, "y": 1}}
    )
    env = make_event(full_registry, "system.command_accepted", 1, payload=payload)
    data = full_registry.encode_event(env)
    assert data.startswith(b'{"event_id":')
    assert b'"result":{"a":{"y":1,"z":0},"b":1}' in data
    assert b'"occurred_at":"2025-03-04T05:06:07.890123Z"' in data


def test_times_are_normalised_to_utc(full_registry: Registry) -> None:
    cet = timezone(timedelta(hours=1))
    env = make_event(full_registry, "system.command_accepted", 1, occurred_at=AT.astimezone(cet))
    data = full_registry.encode_event(env)
    assert b'"occurred_at":"2025-03-04T05:06:07.890123Z"' in data
    wire = data.replace(b"05:06:07.890123Z", b"06:06:07.890123+01:00")
    decoded = full_registry.decode_event(wire)
    assert decoded.occurred_at == AT
    assert decoded.occurred_at.utcoffset() == timedelta(0)


def test_naive_times_cannot_be_encoded(full_registry: Registry) -> None:
    env = make_event(
        full_registry, "system.command_accepted", 1, occurred_at=AT.replace(tzinfo=None)
    )
    with pytest.raises(ContractError, match="`occurred_at` must be a timezone-aware") as info:
        full_registry.encode_event(env)
    assert info.value.code == "contract.invalid"


# --- encode failures ---


def test_encode_refuses_a_payload_that_does_not_match_the_envelope(
    full_registry: Registry, sample: SimpleNamespace
) -> None:
    env = make_event(full_registry, "sample.account_opened", 3)
    with pytest.raises(ContractError, match=r"the payload is `sample\.account_opened` v3") as info:
        full_registry.encode_event(msgspec.structs.replace(env, schema_version=2))
    assert info.value.code == "contract.type_mismatch"
    with pytest.raises(ContractError) as info:
        full_registry.encode_event(msgspec.structs.replace(env, type="system.command_accepted"))
    assert info.value.code == "contract.type_mismatch"


def test_encode_refuses_unregistered_payloads_and_wrong_kinds(full_registry: Registry) -> None:
    class Stray(Payload, frozen=True, kw_only=True):
        x: int

    env = make_event(full_registry, "system.command_accepted", 1)
    with pytest.raises(ContractError, match="Stray is not a registered event") as info:
        full_registry.encode_event(msgspec.structs.replace(env, payload=Stray(x=1)))
    assert info.value.code == "contract.unknown_type"
    with pytest.raises(ContractError, match="dict is not a registered") as info:
        full_registry.encode_event(msgspec.structs.replace(env, payload={"command_id": "x"}))
    cmd = make_command(full_registry, "sample.open_account", 2)
    with pytest.raises(ContractError, match="not an event") as info:
        full_registry.encode_event(make_event(full_registry, "sample.open_account", 2))
    with pytest.raises(ContractError, match="not a command") as info:
        full_registry.encode_command(
            msgspec.structs.replace(
                cmd, type="system.command_accepted", schema_version=1, payload=env.payload
            )
        )
    with pytest.raises(ContractError, match="expected an Envelope"):
        full_registry.encode_event(cmd)  # type: ignore[arg-type]


def test_unencodable_values_become_contract_errors(full_registry: Registry) -> None:
    bad = CommandAccepted(command_id="\ud800", command_type="t")
    env = make_event(full_registry, "system.command_accepted", 1, payload=bad)
    with pytest.raises(ContractError) as info:
        full_registry.encode_event(env)
    assert info.value.code == "contract.invalid"
    weird = CommandAccepted(command_id="c", command_type="t", result={"x": object()})
    with pytest.raises(ContractError):
        full_registry.encode_event(msgspec.structs.replace(env, payload=weird))


# --- decode failures ---


def _wire(full_registry: Registry, **changes: Any) -> bytes:
    """A valid sample.account_opened v3 envelope, with top-level keys replaced or removed."""
    env = make_event(full_registry, "sample.account_opened", 3)
    doc = msgspec.json.decode(full_registry.encode_event(env))
    for key, value in changes.items():
        if value is REMOVE:
            del doc[key]
        else:
            doc[key] = value
    return msgspec.json.encode(doc)


REMOVE = object()
PAYLOAD = {"account_id": "a", "owner_id": "u", "currencies": ["EUR"]}


@pytest.mark.parametrize(
    ("changes", "code", "needle"),
    [
        ({"type": "sample.nothing_happened"}, "unknown_type", "`sample.nothing_happened`"),
        ({"type": "sample.open_account"}, "unknown_type", "is a command, not an event"),
        ({"schema_version": 4}, "unknown_version", "unknown version 4 of `sample.account_opened`"),
        ({"schema_version": 0}, "unknown_version", "unknown version 0"),
        ({"schema_version": -1}, "unknown_version", "unknown version -1"),
        ({"stream_id": REMOVE}, "missing_field", "missing required field `stream_id`"),
        ({"payload": REMOVE}, "missing_field", "missing required field `payload`"),
        (
            {"payload": {"account_id": "a", "currencies": []}},
            "missing_field",
            "`sample.account_opened` v3: missing required field `payload.owner_id`",
        ),
        (
            {"stream_position": "7"},
            "wrong_type",
            "wrong type for `stream_position`: expected `int`, got `str`",
        ),
        ({"schema_version": 1.0}, "wrong_type", "wrong type for `schema_version`"),
        (
            {"payload": None},
            "wrong_type",
            "wrong type for `payload`: expected `object`, got `null`",
        ),
        (
            {"payload": PAYLOAD | {"currencies": ["EUR", 3]}},
            "wrong_type",
            "wrong type for `payload.currencies[1]`: expected `str`, got `int`",
        ),
        ({"payload": PAYLOAD | {"owner": "x"}}, "unknown_field", "unknown field `payload.owner`"),
        ({"extra": 1}, "unknown_field", "unknown field `extra`"),
        ({"occurred_at": "yesterday"}, "invalid", "invalid value `occurred_at`"),
        ({"occurred_at": "2025-01-01T00:00:00"}, "invalid", "timezone"),
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "invalid", "out of range"),
    ],
)
def test_bad_envelopes_name_the_problem(
    full_registry: Registry, changes: dict[str, Any], code: str, needle: str
) -> None:
    with pytest.raises(ContractError) as info:
        full_registry.decode_event(_wire(full_registry, **changes))
    assert info.value.code == f"contract.{code}"
    assert needle in str(info.value)


def test_out_of_range_numbers_are_invalid(full_registry: Registry) -> None:
    data = _wire(full_registry).replace(b'"stream_position":7', b'"stream_position":1e400')
    with pytest.raises(ContractError) as info:
        full_registry.decode_event(data)
    assert info.value.code == "contract.invalid"
    assert "invalid value `stream_position`: Number out of range" in str(info.value)


def test_field_errors_carry_the_path(full_registry: Registry) -> None:
    with pytest.raises(ContractError) as info:
        full_registry.decode_event(_wire(full_registry, payload={"account_id": "a"}))
    assert info.value.path == "payload.owner_id"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "not_json"),
        (b"not json", "not_json"),
        (b'{"type": ', "not_json"),
        (b"\xff\xfe\x00", "not_json"),
        (b'{"type": "\xff"}', "not_json"),
        (b"[]", "not_object"),
        (b"42", "not_object"),
        (b'"a string"', "not_object"),
        (b"null", "not_object"),
        (b"{}", "missing_field"),
    ],
)
def test_garbage_is_a_contract_error(full_registry: Registry, data: bytes, code: str) -> None:
    for decode in (full_registry.decode_event, full_registry.decode_command):
        with pytest.raises(ContractError) as info:
            decode(data)
        assert info.value.code == f"contract.{code}"
        assert str(info.value)


def test_trailing_junk_is_refused(full_registry: Registry) -> None:
    data = full_registry.encode_event(make_event(full_registry, "sample.account_opened", 3))
    for junk in (b"x", b"{}", b" 1"):
        with pytest.raises(ContractError) as info:
            full_registry.decode_event(data + junk)
        assert info.value.code == "contract.not_json"
    assert full_registry.decode_event(data + b"\n ")  # trailing whitespace is fine


def test_non_bytes_input_is_a_contract_error(full_registry: Registry) -> None:
    with pytest.raises(ContractError) as info:
        full_registry.decode_event(None)  # type: ignore[arg-type]
    assert info.value.code == "contract.not_json"
    data = full_registry.encode_event(make_event(full_registry, "sample.account_opened", 3))
    assert full_registry.decode_event(memoryview(bytearray(data))).type == "sample.account_opened"


def test_a_failing_upcaster_is_contained(sample: SimpleNamespace) -> None:
    def broken(data: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("currency")

    def wrong_shape(data: dict[str, Any]) -> dict[str, Any]:
        return {"owner_id": data["owner"]}

    for upcaster, needle in [
        (broken, "upcaster v1->v2 failed: KeyError"),
        (wrong_shape, "upcast v1->v2: missing required field `payload.account_id`"),
    ]:
        registry = Registry()
        registry.register_event(
            "sample.account_opened",
            {1: sample.AccountOpenedV1, 2: sample.AccountOpenedV2},
            {1: upcaster},
        )
        env = make_event(registry, "sample.account_opened", 1)
        with pytest.raises(ContractError) as info:
            registry.decode_event(registry.encode_event(env))
        assert info.value.code == "contract.upcast_failed"
        assert needle in str(info.value)


def test_all_codes_are_listed() -> None:
    assert all(code.startswith("contract.") for code in CODES)
