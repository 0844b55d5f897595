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
    context_topics,
    deadletter_topic,
    default_topics,
    events_topic,
)


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
    registry = TopicRegistry(context_topics("identity"))
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
    a = TopicRegistry(context_topics("identity"))
    b = TopicRegistry([*context_topics("identity"), *context_topics("bots")])
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
