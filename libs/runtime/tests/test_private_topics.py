"""A consumer may read a private topic only if the topic's contract names it as a reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plutarc_contracts import (
    FOREVER,
    ContractError,
    Topic,
    TopicRegistry,
    declare_context,
    default_registry,
)
from plutarc_contracts.identity import CREDENTIALS_TOPIC
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.consumer import Consumer
from plutarc_runtime.projection import ReplayConsumer
from plutarc_runtime.store import EventStore

from .demo import demo_registry

IDENTITY_TOPICS = ["identity.events.v1", CREDENTIALS_TOPIC]


def replay(name: str, topics: list[str], **kwargs: Any) -> ReplayConsumer:
    return ReplayConsumer(
        name=name,
        bootstrap="127.0.0.1:1",
        topics=topics,
        registry=default_registry(),
        projections=[],
        **kwargs,
    )


def test_the_gateway_replays_the_credentials_topic_and_nobody_else_does() -> None:
    assert replay("api", IDENTITY_TOPICS).topics == IDENTITY_TOPICS
    assert replay("api.verify", IDENTITY_TOPICS).name == "api.verify"
    assert replay("bots", ["identity.events.v1"]).name == "bots"
    with pytest.raises(
        ContractError, match=r"`bots` may not read `identity.credentials.v1`"
    ) as info:
        replay("bots", IDENTITY_TOPICS)
    assert info.value.code == "contract.not_a_reader"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = EventStore(
        name="vault", producer="vault", registry=demo_registry(), sqlite_path=tmp_path / "v.sqlite"
    )
    yield store
    store.close()


def consumer(name: str, topics: list[str], store: EventStore, **kwargs: Any) -> Consumer:
    return Consumer(
        name=name,
        store=store,
        registry=demo_registry(),
        bootstrap="127.0.0.1:1",
        topics=topics,
        processor=lambda value: None,  # type: ignore[arg-type,return-value]
        clock=FakeClock(),
        **kwargs,
    )


def test_a_service_consumer_is_refused_a_private_topic_that_does_not_name_its_service(
    store: EventStore,
) -> None:
    with pytest.raises(ContractError, match="private to `api`"):
        consumer("support.identity", ["identity.events.v1", CREDENTIALS_TOPIC], store)
    assert consumer("support.identity", ["identity.events.v1"], store).topics == [
        "identity.events.v1"
    ]
    assert consumer("api.sessions", [CREDENTIALS_TOPIC], store).name == "api.sessions"


def test_a_catalogue_of_ones_own_declares_private_topics_too(store: EventStore) -> None:
    vault = declare_context(
        "vault",
        description="test vault",
        private=[
            Topic(
                name="vault.keys.v1",
                retention_ms=FOREVER,
                private=True,
                readers=("vault",),
                description="keys",
            )
        ],
    )
    catalogue = TopicRegistry(vault.all())
    assert consumer("vault.keys", ["vault.keys.v1"], store, catalogue=catalogue).name
    with pytest.raises(ContractError, match="private to `vault`"):
        consumer("bots.keys", ["vault.keys.v1"], store, catalogue=catalogue)
    with pytest.raises(ContractError, match="private to `vault`"):
        replay("api", ["vault.keys.v1"], catalogue=catalogue)
