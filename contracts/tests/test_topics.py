"""Topic names and the topic registry."""

from __future__ import annotations

import msgspec
import pytest
from plutarc_contracts import (
    FOREVER,
    SEVEN_DAYS_MS,
    ContractError,
    RegistrationError,
    Topic,
    TopicRegistry,
    commands_topic,
    deadletter_topic,
    declare_context,
    declare_deadletter,
    default_contexts,
    default_registry,
    default_topics,
    events_topic,
    topics_of,
)
from plutarc_contracts.identity import CREDENTIAL_EVENTS, CREDENTIALS_TOPIC, identity_topics


def pair(context: str) -> list[Topic]:
    return declare_context(context, description="test").all()


def test_name_helpers() -> None:
    assert events_topic("identity") == "identity.events.v1"
    assert events_topic("identity", major=2) == "identity.events.v2"
    assert commands_topic("exchange_gateway") == "exchange_gateway.commands.v1"
    assert deadletter_topic("exchange-gateway") == "exchange-gateway.deadletter.v1"


@pytest.mark.parametrize("context", ["", "Identity", "identity.sub", "1bots", "bots ", "bots\n"])
def test_helpers_refuse_bad_contexts(context: str) -> None:
    with pytest.raises(ContractError, match="invalid"):
        events_topic(context)


@pytest.mark.parametrize("major", [0, -1, True])
def test_helpers_refuse_bad_majors(major: int) -> None:
    with pytest.raises(ContractError, match="major"):
        commands_topic("bots", major)


def test_topic_defaults_and_configs() -> None:
    topic = Topic(name="bots.events.v1", description="bot events")
    assert (topic.partitions, topic.retention_ms, topic.compacted) == (3, SEVEN_DAYS_MS, False)
    assert topic.retention_ms == 7 * 24 * 3600 * 1000
    assert topic.context == "bots"
    assert topic.major == 1
    assert topic.configs() == {"cleanup.policy": "delete", "retention.ms": str(SEVEN_DAYS_MS)}
    forever = Topic(name="bots.state.v2", retention_ms=FOREVER, compacted=True, description="x")
    assert forever.configs() == {"cleanup.policy": "compact", "retention.ms": "-1"}
    assert forever.major == 2
    assert Topic(name="a.b.v1", retention_ms=None, description="").configs() == {
        "cleanup.policy": "delete"
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "bots.events"},
        {"name": "bots.events.v0"},
        {"name": "Bots.events.v1"},
        {"name": "bots.events.v1.extra"},
        {"name": "bots.events.v1\n"},
        {"name": "bots.events.v1", "partitions": 0},
        {"name": "bots.events.v1", "retention_ms": 0},
        {"name": "bots.events.v1", "retention_ms": -2},
    ],
)
def test_invalid_topics_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ContractError):
        Topic(description="x", **kwargs)  # type: ignore[arg-type]


def test_topics_validate_when_decoded_too() -> None:
    with pytest.raises(ContractError, match="invalid topic name"):
        msgspec.json.decode(b'{"name": "nope", "description": ""}', type=Topic)


def test_registry_add_get_all_for_context() -> None:
    registry = TopicRegistry(pair("identity"))
    registry.add(Topic(name=deadletter_topic("identity"), retention_ms=FOREVER, description="dl"))
    registry.add(Topic(name=events_topic("bots"), description="bots"))
    assert registry.get("identity.events.v1").partitions == 3
    assert [t.name for t in registry.all()] == [
        "bots.events.v1",
        "identity.commands.v1",
        "identity.deadletter.v1",
        "identity.events.v1",
    ]
    assert [t.name for t in registry.for_context("bots")] == ["bots.events.v1"]
    assert len(registry.for_context("identity")) == 3
    assert "bots.events.v1" in registry
    assert len(registry) == 4
    assert [t.name for t in registry] == [t.name for t in registry.all()]
    with pytest.raises(ContractError) as info:
        registry.get("support.events.v1")
    assert info.value.code == "contract.unknown_topic"


def test_registry_refuses_duplicates_and_metric_collisions() -> None:
    registry = TopicRegistry([Topic(name="bots.events.v1", description="")])
    registry.add(Topic(name="risk_desk.events.v1", description=""))
    with pytest.raises(RegistrationError, match="already registered"):
        registry.add(Topic(name="bots.events.v1", description="again"))
    with pytest.raises(RegistrationError, match="collides"):
        registry.add(Topic(name="risk.desk_events.v1", description=""))
    with pytest.raises(RegistrationError, match="expected a Topic"):
        registry.add("bots.commands.v1")  # type: ignore[arg-type]


def test_registry_merge() -> None:
    a = TopicRegistry(pair("identity"))
    b = TopicRegistry([*pair("identity"), *pair("bots")])
    assert len(a.merge(b)) == 4
    clash = TopicRegistry([Topic(name="identity.events.v1", partitions=6, description="")])
    with pytest.raises(RegistrationError):
        a.merge(clash)


def test_default_topics_are_fresh_and_valid() -> None:
    first, second = default_topics(), default_topics()
    assert first is not second
    assert "identity.events.v1" in first and "identity.credentials.v1" in first
    first.add(Topic(name="extra.events.v1", description=""))
    assert "extra.events.v1" not in default_topics()


def test_a_context_declares_events_forever_and_commands_for_seven_days() -> None:
    bots = declare_context("bots", description="bot definitions", partitions=6, major=2)
    assert (bots.events.name, bots.commands.name) == ("bots.events.v2", "bots.commands.v2")
    assert (bots.events.retention_ms, bots.commands.retention_ms) == (FOREVER, SEVEN_DAYS_MS)
    assert bots.events.partitions == bots.commands.partitions == 6
    assert bots.private == ()
    assert [t.name for t in bots.registry()] == ["bots.commands.v2", "bots.events.v2"]


def test_a_context_refuses_a_topic_of_another_context_or_a_clash() -> None:
    stray = Topic(name="support.notes.v1", retention_ms=FOREVER, description="")
    with pytest.raises(RegistrationError, match="not in context `bots`"):
        declare_context("bots", description="", private=[stray])
    again = Topic(name="bots.events.v1", private=True, readers=("api",), description="")
    with pytest.raises(RegistrationError, match="already registered"):
        declare_context("bots", description="", private=[again])


def test_the_deadletter_topic_is_one_partition_kept_forever() -> None:
    topic = declare_deadletter("exchange-gateway")
    assert (topic.name, topic.partitions, topic.retention_ms) == (
        "exchange-gateway.deadletter.v1",
        1,
        FOREVER,
    )


def test_identity_declares_its_topics_once_and_the_catalogue_collects_them() -> None:
    identity = identity_topics()
    assert topics_of("identity") == identity == default_contexts()["identity"]
    assert [t.name for t in identity.all()] == [
        "identity.events.v1",
        "identity.commands.v1",
        CREDENTIALS_TOPIC,
    ]
    assert identity.events.retention_ms == FOREVER
    assert identity.commands.retention_ms == SEVEN_DAYS_MS
    assert identity.registry().get(CREDENTIALS_TOPIC).retention_ms == FOREVER
    assert {t.name for t in identity.all()} <= {t.name for t in default_topics()}
    with pytest.raises(ContractError) as info:
        topics_of("billing")
    assert info.value.code == "contract.unknown_topic"


NOTES = Topic(
    name="support.notes.v1",
    retention_ms=FOREVER,
    private=True,
    readers=("api", "support"),
    description="operator-only notes",
)


def test_a_private_topic_is_read_by_its_readers_and_their_consumers_only() -> None:
    assert NOTES.may_read("api") and NOTES.may_read("support")
    assert NOTES.may_read("support.tickets")  # a service names its consumers <service>.<role>
    assert not NOTES.may_read("bots") and not NOTES.may_read("apix") and not NOTES.may_read("")
    assert Topic(name="support.events.v1", description="").may_read("anyone")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"private": True}, "names its readers"),
        ({"readers": ("api",)}, "only a private topic"),
        ({"private": True, "readers": ("api.commands",)}, "invalid reader"),
        ({"private": True, "readers": ("",)}, "invalid reader"),
    ],
)
def test_private_topics_name_valid_readers(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ContractError, match=message):
        Topic(name="support.notes.v1", description="", **kwargs)  # type: ignore[arg-type]


def test_the_registry_refuses_a_consumer_a_private_topic_does_not_name() -> None:
    registry = TopicRegistry([NOTES, Topic(name="support.events.v1", description="")])
    registry.check_reader("support.tickets", ["support.events.v1", "support.notes.v1"])
    registry.check_reader("bots", ["support.events.v1", "undeclared.events.v1"])
    with pytest.raises(ContractError, match=r"`bots` may not read `support.notes.v1`") as info:
        registry.check_reader("bots", ["support.events.v1", "support.notes.v1"])
    assert info.value.code == "contract.not_a_reader"
    assert "`api`, `support`" in str(info.value)


def test_a_context_routes_event_types_to_its_private_topics() -> None:
    support = declare_context(
        "support",
        description="tickets",
        private=[NOTES],
        routes={"support.notes.v1": ["support.internal_note_added"]},
    )
    assert support.route("support.internal_note_added") == "support.notes.v1"
    assert support.route("support.ticket_opened") == "support.events.v1"
    assert dict(support.routes) == {"support.internal_note_added": "support.notes.v1"}


@pytest.mark.parametrize(
    ("private", "routes", "message"),
    [
        ([NOTES], {"support.notes.v1": ["bots.note_added"]}, "not a `support` type"),
        ([NOTES], {"support.notes.v1": ["support.a", "support.a"]}, "routed twice"),
        ([NOTES], {"support.events.v1": ["support.a"]}, "not a declared topic"),
        ([], {"support.notes.v1": ["support.a"]}, "not a declared topic"),
        ([Topic(name="support.open.v1", description="")], None, "not private"),
    ],
)
def test_a_context_refuses_bad_routes(
    private: list[Topic], routes: dict[str, list[str]] | None, message: str
) -> None:
    with pytest.raises(RegistrationError, match=message):
        declare_context("support", description="", private=private, routes=routes)


def test_identity_credentials_are_private_to_the_gateway_and_routed_there() -> None:
    identity = identity_topics()
    credentials = identity.registry().get(CREDENTIALS_TOPIC)
    assert credentials.private and credentials.readers == ("api",)
    assert not identity.events.private and not identity.commands.private
    assert set(identity.routes) == CREDENTIAL_EVENTS
    assert {identity.route(t) for t in CREDENTIAL_EVENTS} == {CREDENTIALS_TOPIC}
    assert identity.route("identity.user_registered") == "identity.events.v1"
    assert set(identity.routes) <= set(default_registry().event_names())
