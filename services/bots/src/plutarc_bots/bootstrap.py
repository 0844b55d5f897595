"""The bots service's wiring: build(settings) -> its spec.

The service authorizes members from its own projection of identity's memberships (`Memberships`)
through the one authorizer, and reads workspaces' risk defaults and archival from the same topic
(`Workspaces`), both replayed from `identity.events.v1` at each start.
"""

from __future__ import annotations

from datetime import timedelta

from plutarc_access import AccessEngine, AccessError, Authorizer, Memberships, engine_for
from plutarc_contracts import bots as b
from plutarc_contracts import default_registry
from plutarc_contracts.identity import IDENTITY
from plutarc_contracts.topics import events_topic
from plutarc_runtime.clock import Clock
from plutarc_runtime.service import Replayed, ServiceSpec
from plutarc_runtime.store import EventStore

from .domain import STREAM_TYPES
from .handlers import handlers
from .sessions import Calendar
from .settings import BotsSettings
from .timers import timers
from .views import Library, Workspaces


def build(
    settings: BotsSettings | None = None,
    *,
    policy: AccessEngine | None = None,
    memberships: Memberships | None = None,
    workspaces: Workspaces | None = None,
) -> ServiceSpec:
    """`memberships`, `workspaces`: tests hand in ones they filled; the service replays identity's
    topic into fresh ones."""
    settings = settings or BotsSettings()
    members = memberships or Memberships(policy or engine_for(settings.opa_url))
    spaces = workspaces if workspaces is not None else Workspaces()
    calendar = Calendar()  # the timer's; the Library compiles each version's sessions into it

    def authorizer(store: EventStore, clock: Clock) -> Authorizer:
        return members.authorizer(clock.now)

    return ServiceSpec(
        name=b.BOTS,
        registry=default_registry(),
        stream_types=STREAM_TYPES,
        handlers=handlers(spaces),
        timers=timers(spaces, calendar, timedelta(seconds=settings.bots_timer_interval_seconds)),
        read_models=[lambda: Library(calendar)],
        authorizer=authorizer,
        replayed=[Replayed("memberships", [events_topic(IDENTITY)], [members, spaces])],
        transient_errors=(AccessError,),  # the policy server is down: retry, never dead-letter
    )
