"""build(...) -> the reminders service's spec, with whatever adapters the caller gives."""

from __future__ import annotations

from collections.abc import Mapping

from plutarc_access import Memberships
from plutarc_runtime.clock import Clock
from plutarc_runtime.intents import Adapter
from plutarc_runtime.service import Replayed, ServiceSpec
from plutarc_runtime.store import EventStore

from . import contracts as r
from .domain import Reminder
from .handlers import HANDLERS
from .reactions import REACTIONS
from .timers import TIMERS, Unfired


def build(memberships: Memberships, adapters: Mapping[str, Adapter]) -> ServiceSpec:
    def authorizer(store: EventStore, clock: Clock):  # type: ignore[no-untyped-def]
        return memberships.authorizer(clock.now)

    return ServiceSpec(
        name=r.CONTEXT,
        registry=r.registry(),
        stream_types=[Reminder],
        handlers=HANDLERS,
        reactions=REACTIONS,
        adapters=adapters,
        timers=TIMERS,
        read_models=[Unfired],
        authorizer=authorizer,
        replayed=[Replayed("memberships", ["identity.events.v1"], [memberships])],
        context_topics=r.topics(),
    )
