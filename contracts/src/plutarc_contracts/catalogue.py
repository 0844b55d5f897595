"""The deployment-wide catalogue: every message type and topic, built on demand.

Built by functions rather than at import time so that importing the package has no side effects and
tests can build their own registries beside it. Each bounded context adds a
``register_<context>_types`` call here, and its `declare_context` to `default_contexts`, when its
contracts land.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from plutarc_contracts.audit_state import register_identity_audit
from plutarc_contracts.bots import bots_topics, register_bots_types
from plutarc_contracts.compute import compute_topics, register_compute_types
from plutarc_contracts.errors import UNKNOWN_TOPIC, ContractError
from plutarc_contracts.exchange import exchange_topics, register_exchange_types
from plutarc_contracts.identity import identity_topics, register_identity_types
from plutarc_contracts.market import market_topics
from plutarc_contracts.registry import Registry
from plutarc_contracts.support import register_support_types, support_topics
from plutarc_contracts.system import register_system_types
from plutarc_contracts.topics import ContextTopics, TopicRegistry


@functools.cache
def default_registry() -> Registry:
    """Every registered type, frozen: callers share one instance, so nobody may register into it.

    A service that needs extra (e.g. test-only) types builds its own Registry and ``merge``s.
    """
    registry = Registry()
    register_system_types(registry)
    register_identity_types(registry)
    register_identity_audit(registry)
    register_support_types(registry)
    register_bots_types(registry)
    register_exchange_types(registry)
    register_compute_types(registry)
    return registry.freeze()


@functools.cache
def _contexts() -> Mapping[str, ContextTopics]:
    return MappingProxyType(
        {
            declared.context: declared
            for declared in (
                identity_topics(),
                support_topics(),
                bots_topics(),
                exchange_topics(),
                compute_topics(),
            )
        }
    )


def default_contexts() -> dict[str, ContextTopics]:
    """Every context's topic declaration, by context name (declarations are immutable)."""
    return dict(_contexts())


def topics_of(context: str) -> ContextTopics:
    """The topics `context` declares; ContractError(contract.unknown_topic) if it declares none.

    Cached: the relay asks it for every event it routes.
    """
    declared = _contexts().get(context)
    if declared is None:
        raise ContractError(UNKNOWN_TOPIC, f"no topics are declared for context `{context}`")
    return declared


def default_topics() -> TopicRegistry:
    """A fresh TopicRegistry with every topic the platform needs (cheap; not cached, so callers may
    extend their copy). Dead-letter topics are per service, so each service adds its own."""
    topics = TopicRegistry()
    for declared in default_contexts().values():
        for topic in declared.all():
            topics.add(topic)
    for topic in market_topics():
        topics.add(topic)
    return topics
