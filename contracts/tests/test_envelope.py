"""Envelope shape and UUIDv7 event ids."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from plutarc_contracts import CommandEnvelope, Envelope, is_uuid7, new_event_id, uuid7_unix_ms
from plutarc_contracts._wire import WireCommandEnvelope, WireEnvelope

ENVELOPE_FIELDS = (
    "event_id",
    "type",
    "schema_version",
    "occurred_at",
    "producer",
    "stream_id",
    "stream_position",
    "workspace_id",
    "actor",
    "correlation_id",
    "causation_id",
    "payload",
    "readable_as",
)
COMMAND_FIELDS = (
    "command_id",
    "type",
    "schema_version",
    "issued_at",
    "actor",
    "workspace_id",
    "correlation_id",
    "causation_id",
    "payload",
)


def test_envelope_fields_are_the_documented_wire_order() -> None:
    assert Envelope.__struct_fields__ == ENVELOPE_FIELDS
    assert CommandEnvelope.__struct_fields__ == COMMAND_FIELDS


def test_wire_twins_match_the_public_envelopes() -> None:
    assert WireEnvelope.__struct_fields__ == Envelope.__struct_fields__
    assert WireCommandEnvelope.__struct_fields__ == CommandEnvelope.__struct_fields__


def test_envelopes_are_frozen_and_keyword_only() -> None:
    env = Envelope(
        event_id=new_event_id(),
        type="system.command_accepted",
        schema_version=1,
        occurred_at=datetime.now(UTC),
        producer="test",
        stream_id="s",
        stream_position=1,
        workspace_id=None,
        actor="system:test",
        correlation_id="c",
        causation_id=None,
        payload=None,
    )
    with pytest.raises(AttributeError):
        env.type = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Envelope("positional")  # type: ignore[call-arg]
    assert CommandEnvelope.__struct_config__.frozen
    with pytest.raises(TypeError):
        CommandEnvelope("positional")  # type: ignore[call-arg]


def test_new_event_id_is_a_canonical_uuid7() -> None:
    value = new_event_id()
    parsed = uuid.UUID(value)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert str(parsed) == value
    assert is_uuid7(value)


def test_new_event_id_embeds_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    value = new_event_id()
    after = time.time_ns() // 1_000_000
    # +1: a burst in the previous millisecond may have pushed the counter into the next one.
    assert before <= uuid7_unix_ms(value) <= after + 1


def test_new_event_ids_are_unique_and_sorted_in_creation_order() -> None:
    ids = [new_event_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert [uuid.UUID(i).int for i in ids] == sorted(uuid.UUID(i).int for i in ids)


def test_new_event_id_is_monotonic_across_threads() -> None:
    per_thread: list[list[str]] = [[] for _ in range(4)]

    def work(out: list[str]) -> None:
        out.extend(new_event_id() for _ in range(2_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for out in per_thread for i in out]
    assert len(set(everything)) == len(everything)
    for out in per_thread:
        assert out == sorted(out)


def test_ids_made_later_sort_later() -> None:
    first = new_event_id()
    time.sleep(0.002)
    assert new_event_id() > first


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-uuid",
        str(uuid.uuid4()),
        str(uuid.uuid1()),
        new_event_id().upper(),
        new_event_id().replace("-", ""),
    ],
)
def test_is_uuid7_rejects_other_strings(value: str) -> None:
    assert not is_uuid7(value)


@given(st.text())
def test_is_uuid7_never_raises(value: str) -> None:
    assert is_uuid7(value) in (True, False)


def test_envelope_encodes_with_plain_msgspec_too() -> None:
    """The runtime may hash or log envelopes directly; they must stay plain JSON-able Structs."""
    env = CommandEnvelope(
        command_id=new_event_id(),
        type="sample.open_account",
        schema_version=1,
        issued_at=datetime(2025, 1, 1, tzinfo=UTC),
        actor="user:1",
        workspace_id="ws",
        correlation_id="c",
        causation_id=None,
        payload={"owner": "x"},
    )
    assert b'"issued_at":"2025-01-01T00:00:00Z"' in msgspec.json.encode(env)
