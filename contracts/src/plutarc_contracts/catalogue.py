"""The deployment-wide catalogue: every message type and topic, built on demand.

Built by functions rather than at import time so that importing the package has no side effects and
tests can build their own registries beside it. Each bounded context adds a
``register_<context>_types`` call here (and its topics below) when its contracts land.
"""

from __future__ import annotations

import functools

from plutarc_contracts.identity import identity_topics, register_identity_types
from plutarc_contracts.registry import Registry
from plutarc_contracts.system import register_system_types
from plutarc_contracts.topics import TopicRegistry


@functools.cache
def default_registry() -> Registry:
    """Every registered type, frozen: callers share one instance, so nobody may register into it.

    A service that needs extra (e.g. test-only) types builds its own Registry and ``merge``s.
    """
    registry = Registry()
    register_system_types(registry)
    register_identity_types(registry)
    return registry.freeze()


def default_topics() -> TopicRegistry:
    """A fresh TopicRegistry with every topic the platform needs (cheap; not cached, so callers may
    extend their copy)."""
    topics = TopicRegistry()
    for topic in identity_topics().all():
        topics.add(topic)
    return topics
