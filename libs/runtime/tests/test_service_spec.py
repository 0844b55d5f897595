"""A service's topics come from its context's declaration in contracts, plus its dead-letter topic."""

from __future__ import annotations

import pytest
from plutarc_contracts import (
    FOREVER,
    SEVEN_DAYS_MS,
    ContractError,
    declare_context,
    default_registry,
    topics_of,
)
from plutarc_runtime.service import ServiceSpec

from .demo import demo_registry


def test_a_service_creates_its_contexts_declared_topics_and_its_dead_letter_topic() -> None:
    spec = ServiceSpec(name="identity", registry=default_registry())
    topics = {t.name: t for t in spec.topics()}
    assert set(topics) == {t.name for t in topics_of("identity").all()} | {"identity.deadletter.v1"}
    assert topics["identity.events.v1"].retention_ms == FOREVER
    assert topics["identity.commands.v1"].retention_ms == SEVEN_DAYS_MS
    assert (
        topics["identity.deadletter.v1"].partitions,
        topics["identity.deadletter.v1"].retention_ms,
    ) == (1, FOREVER)


def test_a_service_of_an_undeclared_context_is_refused_unless_given_its_topics() -> None:
    spec = ServiceSpec(name="ledger", registry=demo_registry())
    with pytest.raises(ContractError, match="no topics are declared for context `ledger`"):
        spec.topics()
    declared = declare_context("ledger", description="test ledger")
    spec = ServiceSpec(
        name="ledger-a", context="ledger", registry=demo_registry(), context_topics=declared
    )
    assert [t.name for t in spec.topics()] == [
        "ledger.events.v1",
        "ledger.commands.v1",
        "ledger-a.deadletter.v1",
    ]


def test_events_are_routed_as_the_contracts_declare() -> None:
    spec = ServiceSpec(name="identity", registry=default_registry())
    assert spec.route("identity.password_set") == "identity.credentials.v1"
    assert spec.route("identity.member_joined") == "identity.events.v1"
    assert spec.route("system.command_accepted") == "identity.events.v1"
    assert spec.route("system.dead_lettered") == "identity.deadletter.v1"
