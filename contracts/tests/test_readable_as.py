"""A new version old consumers can read: a producer upgraded before the consumers of its type writes
v2, which its type declares readable as v1 (fields added only); a consumer that knows only v1 reads
it as v1 instead of dead-lettering it, and one that knows v2 reads it whole. Undeclared, an unknown
version is refused as before, and every other event's bytes are what they were."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from plutarc_contracts import ContractError, Envelope, Payload, Registry, new_event_id
from plutarc_contracts.errors import RegistrationError

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class OpenedV1(Payload, frozen=True):
    ticket_id: str
    subject: str


class Opened(Payload, frozen=True):
    ticket_id: str
    subject: str
    channel: str = "web"


class Renamed(Payload, frozen=True):
    ticket_id: str
    title: str  # v1's `subject` renamed: not readable as v1


def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "channel": "web"}


def old() -> Registry:
    r = Registry()
    r.register_event("desk.ticket_opened", {1: OpenedV1})
    return r.freeze()


def new(readable: dict[int, int] | None = {2: 1}) -> Registry:  # noqa: B006
    r = Registry()
    r.register_event(
        "desk.ticket_opened", {1: OpenedV1, 2: Opened}, {1: v1_to_v2}, readable_as=readable
    )
    return r.freeze()


def envelope(version: int, payload: Payload) -> Envelope:
    return Envelope(
        event_id=new_event_id(),
        type="desk.ticket_opened",
        schema_version=version,
        occurred_at=AT,
        producer="desk",
        stream_id="t-1",
        stream_position=1,
        workspace_id="ws-1",
        actor="user:1",
        correlation_id="c-1",
        causation_id=None,
        payload=payload,
    )


def test_an_old_consumer_reads_a_declared_newer_version_as_the_one_it_knows() -> None:
    data = new().encode_event(envelope(2, Opened(ticket_id="t-1", subject="Hi", channel="phone")))
    assert json.loads(data)["readable_as"] == 1
    read = old().decode_event(data)
    assert read.payload == OpenedV1(ticket_id="t-1", subject="Hi")
    assert read.schema_version == 1 and read.readable_as is None
    whole = new().decode_event(data)
    assert whole.payload == Opened(ticket_id="t-1", subject="Hi", channel="phone")


def test_a_new_consumer_reads_both_versions_as_the_current_one() -> None:
    v1 = old().encode_event(envelope(1, OpenedV1(ticket_id="t-1", subject="Hi")))
    assert new().decode_event(v1).payload == Opened(ticket_id="t-1", subject="Hi", channel="web")


def test_undeclared_a_newer_version_is_still_refused() -> None:
    data = new(readable=None).encode_event(envelope(2, Opened(ticket_id="t", subject="s")))
    assert "readable_as" not in json.loads(data)
    with pytest.raises(ContractError) as caught:
        old().decode_event(data)
    assert caught.value.code == "contract.unknown_version"


def test_other_events_keep_their_bytes() -> None:
    event = envelope(1, OpenedV1(ticket_id="t-1", subject="Hi"))
    assert new().encode_event(event) == old().encode_event(event)
    assert b"readable_as" not in old().encode_event(event)


def test_a_claim_the_reader_cannot_honour_is_refused() -> None:
    data = json.loads(new().encode_event(envelope(2, Opened(ticket_id="t", subject="s"))))
    for bogus in (5, 0, -1):
        data["schema_version"], data["readable_as"] = 3, bogus
        with pytest.raises(ContractError) as caught:
            old().decode_event(json.dumps(data).encode())
        assert caught.value.code == "contract.unknown_version"


def test_the_kept_fields_are_decoded_as_strictly_as_ever() -> None:
    data = json.loads(new().encode_event(envelope(2, Opened(ticket_id="t", subject="s"))))
    data["payload"]["subject"] = 42
    with pytest.raises(ContractError) as caught:
        old().decode_event(json.dumps(data).encode())
    assert caught.value.code == "contract.wrong_type"
    data["payload"] = ["not", "an", "object"]
    with pytest.raises(ContractError):
        old().decode_event(json.dumps(data).encode())


@pytest.mark.parametrize(
    ("versions", "readable", "says"),
    [
        ({1: OpenedV1, 2: Opened}, {2: 2}, "must name an older version"),
        ({1: OpenedV1, 2: Opened}, {1: 2}, "must name an older version"),
        ({1: OpenedV1, 2: Opened}, {3: 1}, "not registered"),
        ({1: OpenedV1, 2: Renamed}, {2: 1}, "field `subject`"),
    ],
)
def test_a_declaration_that_cannot_hold_is_refused_at_registration(
    versions: dict[int, type[Payload]], readable: dict[int, int], says: str
) -> None:
    r = Registry()
    with pytest.raises(RegistrationError, match=says):
        r.register_event("desk.ticket_opened", versions, {1: v1_to_v2}, readable_as=readable)
