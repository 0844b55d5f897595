"""Kafka topic names and settings, as data.

Topic names carry a major version (``identity.events.v1``) because an incompatible change cannot be
upcast in place: it gets a new topic that consumers move to deliberately, while the old one drains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import msgspec

from plutarc_contracts.errors import (
    INVALID,
    NOT_A_READER,
    UNKNOWN_TOPIC,
    ContractError,
    RegistrationError,
)

SEVEN_DAYS_MS: Final = 7 * 24 * 60 * 60 * 1000
FOREVER: Final = -1

_WORD = r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*"
TOPIC_RE = re.compile(rf"(?P<context>{_WORD})\.(?P<kind>[a-z][a-z0-9_]*)\.v(?P<major>[1-9][0-9]*)")
"""``<context or service>.<kind>.v<major>``; Kafka allows up to 249 characters."""
MAX_TOPIC_LENGTH = 249


def _check_word(value: str, what: str) -> None:
    if not re.fullmatch(_WORD, value):
        raise ContractError(INVALID, f"invalid {what} `{value}`: lower-case words joined by _ or -")


def _check_major(major: int) -> None:
    if isinstance(major, bool) or not isinstance(major, int) or major < 1:
        raise ContractError(INVALID, f"topic major version must be >= 1, got {major!r}")


def events_topic(context: str, major: int = 1) -> str:
    _check_word(context, "context")
    _check_major(major)
    return f"{context}.events.v{major}"


def commands_topic(context: str, major: int = 1) -> str:
    _check_word(context, "context")
    _check_major(major)
    return f"{context}.commands.v{major}"


def deadletter_topic(service: str) -> str:
    """Where a service's consumers park what they cannot process, as ``system.dead_lettered``."""
    _check_word(service, "service")
    return f"{service}.deadletter.v1"


class Topic(msgspec.Struct, frozen=True, kw_only=True):
    """One Kafka topic and the settings it must be created with.

    The defaults (three partitions, seven days) suit commands; a context's events topic keeps its
    events ``FOREVER`` (-1), see `declare_context`. ``retention_ms=None`` leaves the broker default.

    A ``private`` topic carries what not every consumer may see (credential hashes, operator-only
    notes): only the services named in ``readers`` may consume it, see `may_read`.
    """

    name: str
    partitions: int = 3
    retention_ms: int | None = SEVEN_DAYS_MS
    compacted: bool = False
    description: str
    private: bool = False
    readers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.name) > MAX_TOPIC_LENGTH or not TOPIC_RE.fullmatch(self.name):
            raise ContractError(
                INVALID,
                f"invalid topic name `{self.name}`: expected `<context>.<kind>.v<major>`",
            )
        if self.partitions < 1:
            raise ContractError(INVALID, f"`{self.name}`: partitions must be >= 1")
        if self.retention_ms is not None and self.retention_ms != FOREVER and self.retention_ms < 1:
            raise ContractError(
                INVALID,
                f"`{self.name}`: retention_ms must be positive, -1 (forever) or None",
            )
        if self.private and not self.readers:
            raise ContractError(INVALID, f"`{self.name}`: a private topic names its readers")
        if self.readers and not self.private:
            raise ContractError(INVALID, f"`{self.name}`: only a private topic has readers")
        for reader in self.readers:
            _check_word(reader, "reader (a service name)")

    def may_read(self, consumer: str) -> bool:
        """Whether a consumer may read this topic: any may read a public topic; a private one,
        only a consumer named for one of its readers, as is (``api``) or with a role after a dot
        (``support.tickets``, the way a service names its consumers)."""
        return not self.private or consumer.partition(".")[0] in self.readers

    @property
    def context(self) -> str:
        match = TOPIC_RE.fullmatch(self.name)
        assert match is not None  # checked in __post_init__
        return match["context"]

    @property
    def major(self) -> int:
        return int(self.name.rsplit(".v", 1)[1])

    def configs(self) -> dict[str, str]:
        """Topic-level Kafka configs, ready for an admin client's create_topics."""
        configs = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


class TopicRegistry:
    """The topics a deployment must have; the runtime creates them and nothing else.

    Besides exact duplicates it refuses names that differ only by ``.`` versus ``_``: Kafka folds
    those together in its metric names, so such a pair could never be monitored apart.
    """

    def __init__(self, topics: Iterable[Topic] = ()) -> None:
        self._topics: dict[str, Topic] = {}
        self._folded: dict[str, str] = {}
        for topic in topics:
            self.add(topic)

    def add(self, topic: Topic) -> Topic:
        if not isinstance(topic, Topic):
            raise RegistrationError(f"expected a Topic, got {type(topic).__name__}")
        if topic.name in self._topics:
            raise RegistrationError(f"topic `{topic.name}` is already registered")
        folded = topic.name.replace(".", "_")
        if folded in self._folded:
            raise RegistrationError(
                f"topic `{topic.name}` collides with `{self._folded[folded]}` in Kafka metric names"
            )
        self._topics[topic.name] = topic
        self._folded[folded] = topic.name
        return topic

    def get(self, name: str) -> Topic:
        topic = self._topics.get(name)
        if topic is None:
            raise ContractError(UNKNOWN_TOPIC, f"unknown topic `{name}`")
        return topic

    def all(self) -> list[Topic]:
        return [self._topics[name] for name in sorted(self._topics)]

    def check_reader(self, consumer: str, topics: Iterable[str]) -> None:
        """Refuse (ContractError contract.not_a_reader) a consumer on a private topic that does not
        name it; topics not in this registry are not declared private, so they pass."""
        for name in topics:
            topic = self._topics.get(name)
            if topic is not None and not topic.may_read(consumer):
                raise ContractError(
                    NOT_A_READER,
                    f"consumer `{consumer}` may not read `{name}`: it is private to "
                    f"{', '.join(f'`{r}`' for r in topic.readers)}",
                )

    def for_context(self, context: str) -> list[Topic]:
        return [t for t in self.all() if t.context == context]

    def merge(self, other: TopicRegistry) -> TopicRegistry:
        """A new registry with both; identical topics on both sides are kept once."""
        merged = TopicRegistry(self.all())
        for topic in other.all():
            if merged._topics.get(topic.name) != topic:
                merged.add(topic)
        return merged

    def __contains__(self, name: object) -> bool:
        return name in self._topics

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._topics)


@dataclass(frozen=True)
class ContextTopics:
    """One bounded context's topics, declared once in its contract module.

    The events topic keeps its events ``FOREVER``: consumers such as the gateway rebuild their read
    models by replaying it from offset 0. The commands topic keeps seven days: a command nobody
    handled in a week is stale. ``private`` holds the context's private topics, and ``routes`` the
    event types published to one of them (type -> topic); every other event goes to ``events``.
    Build one with `declare_context`; `plutarc_contracts.catalogue` collects every context's.
    """

    context: str
    events: Topic
    commands: Topic
    private: tuple[Topic, ...] = ()
    routes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    streams: tuple[Topic, ...] = ()
    """Public topics besides ``events`` that some event types are routed to (the exchange
    context's orders, keyed by bot, for consumers that want orders and nothing else)."""

    def all(self) -> list[Topic]:
        return [self.events, self.commands, *self.private, *self.streams]

    def route(self, type_name: str) -> str:
        """The topic an event of this type is published to."""
        return self.routes.get(type_name, self.events.name)

    def registry(self) -> TopicRegistry:
        return TopicRegistry(self.all())


def declare_context(
    context: str,
    *,
    description: str,
    major: int = 1,
    partitions: int = 3,
    private: Iterable[Topic] = (),
    routes: Mapping[str, Iterable[str]] | None = None,
    streams: Iterable[Topic] = (),
) -> ContextTopics:
    """The one declaration of a context's topics (`description` says what its events are about).

    ``routes`` maps each private topic (or public one of ``streams``) to the event types published
    to it instead of the events topic. Declaration errors raise RegistrationError at start-up.
    """
    by_type: dict[str, str] = {}
    for topic_name, type_names in (routes or {}).items():
        for type_name in type_names:
            if not type_name.startswith(f"{context}."):
                raise RegistrationError(f"cannot route `{type_name}`: not a `{context}` type")
            if type_name in by_type:
                raise RegistrationError(f"`{type_name}` is routed twice")
            by_type[type_name] = topic_name
    declared = ContextTopics(
        context=context,
        events=Topic(
            name=events_topic(context, major),
            partitions=partitions,
            retention_ms=FOREVER,
            description=f"{context} events: {description}",
        ),
        commands=Topic(
            name=commands_topic(context, major),
            partitions=partitions,
            retention_ms=SEVEN_DAYS_MS,
            description=f"commands to the {context} context",
        ),
        private=tuple(private),
        routes=MappingProxyType(dict(sorted(by_type.items()))),
        streams=tuple(streams),
    )
    for topic in declared.private:
        if topic.context != context:
            raise RegistrationError(f"topic `{topic.name}` is not in context `{context}`")
        if not topic.private:
            raise RegistrationError(f"`{topic.name}` is not private: name its readers")
    for topic in declared.streams:
        if topic.context != context or topic.private:
            raise RegistrationError(f"`{topic.name}` is not a public topic of `{context}`")
    routable = {t.name for t in (*declared.private, *declared.streams)}
    if stray := sorted(set(by_type.values()) - routable):
        raise RegistrationError(f"cannot route to `{stray[0]}`: not a declared topic of {context}")
    declared.registry()  # refuses duplicate and colliding names
    return declared


def declare_deadletter(service: str) -> Topic:
    """A service's dead-letter topic: one partition (nobody needs order there), kept forever."""
    return Topic(
        name=deadletter_topic(service),
        partitions=1,
        retention_ms=FOREVER,
        description=f"messages {service} could not decode or handle, with the reason",
    )
