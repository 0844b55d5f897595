"""Support's contracts: topics and routing, limits, and what reaches user-side readers."""

from __future__ import annotations

import msgspec
import pytest
from plutarc_contracts import ContractError, default_registry, default_topics, topics_of
from plutarc_contracts import support as s
from plutarc_contracts.fixtures import example_message_bytes


def test_support_declares_events_commands_and_a_private_notes_topic() -> None:
    support = topics_of("support")
    assert [t.name for t in support.all()] == [
        "support.events.v1",
        "support.commands.v1",
        "support.notes.v1",
    ]
    notes = support.registry().get(s.NOTES_TOPIC)
    assert notes.private and notes.readers == ("support", "api")
    assert {t.name for t in support.all()} <= {t.name for t in default_topics()}


def test_only_internal_notes_go_to_the_notes_topic() -> None:
    support = topics_of("support")
    for name in s.EVENTS:
        expected = s.NOTES_TOPIC if name == "support.internal_note_added" else "support.events.v1"
        assert support.route(name) == expected, name
        assert s.is_user_visible(name) == (expected == "support.events.v1")


@pytest.mark.parametrize("consumer", ["bots", "support-telegram", "api-users", "identity"])
def test_no_other_consumer_may_read_the_notes(consumer: str) -> None:
    with pytest.raises(ContractError) as info:
        default_topics().check_reader(consumer, [s.NOTES_TOPIC])
    assert info.value.code == "contract.not_a_reader"
    default_topics().check_reader("support", [s.NOTES_TOPIC])
    default_topics().check_reader("api", [s.NOTES_TOPIC])


def test_a_note_text_is_redacted_in_audit_exports() -> None:
    assert default_registry().secret_fields("support.internal_note_added") == {"body"}


def encode(payload: msgspec.Struct) -> bytes:
    return msgspec.json.encode(payload)


def open_ticket(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "workspace_id": "w1",
        "ticket_id": "t1",
        "subject": "Bot stopped",
        "body": "It stopped at 03:00.",
        "category": "bots",
    }
    return {**base, **overrides}


def decode_command(payload: dict[str, object]) -> s.OpenTicket:
    registry = default_registry()
    data = msgspec.json.decode(example_message_bytes(registry, "support.open_ticket", 1))
    data["payload"] = payload
    return registry.decode_command(msgspec.json.encode(data)).payload  # type: ignore[no-any-return]


def test_a_ticket_defaults_to_normal_priority_and_no_links() -> None:
    ticket = decode_command(open_ticket())
    assert ticket.priority == "normal"
    assert ticket.links == s.TicketLinks()


@pytest.mark.parametrize(
    ("override", "code", "path"),
    [
        ({"subject": ""}, "contract.invalid", "payload.subject"),
        ({"subject": "x" * (s.SUBJECT_MAX + 1)}, "contract.invalid", "payload.subject"),
        ({"body": "x" * (s.BODY_MAX + 1)}, "contract.invalid", "payload.body"),
        ({"body": "x" * 1_000_000}, "contract.invalid", "payload.body"),
        ({"category": "sales"}, "contract.invalid", "payload.category"),
        ({"priority": "critical"}, "contract.invalid", "payload.priority"),
        ({"links": {"bot_ids": ["b"] * 21}}, "contract.invalid", "payload.links.bot_ids"),
        ({"attachments": []}, "contract.unknown_field", "payload.attachments"),
    ],
)
def test_bad_tickets_are_refused_with_the_field_named(
    override: dict[str, object], code: str, path: str
) -> None:
    with pytest.raises(ContractError) as info:
        decode_command(open_ticket(**override))
    assert (info.value.code, info.value.path) == (code, path)


def test_the_limits_are_the_documented_ones() -> None:
    assert (s.SUBJECT_MAX, s.BODY_MAX) == (200, 20_000)
    assert s.CATEGORIES == (
        "account",
        "billing",
        "bots",
        "exchange_connections",
        "compute",
        "other",
    )
    assert s.PRIORITIES == ("low", "normal", "high", "urgent")
    assert s.STATUSES == ("open", "waiting_on_user", "resolved", "closed")
    decode_command(open_ticket(body="x" * s.BODY_MAX, subject="y" * s.SUBJECT_MAX))
