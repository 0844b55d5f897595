"""The support service's wiring: build(settings) -> its spec, with real or fake adapters.

Support authorizes users from its own projection of identity's memberships (`Memberships`,
replayed from `identity.events.v1` at each start) through the one authorizer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from plutarc_access import AccessEngine, AccessError, Authorizer, Memberships, engine_for
from plutarc_contracts import default_registry
from plutarc_contracts import support as s
from plutarc_contracts.compute import COMPUTE
from plutarc_contracts.identity import IDENTITY
from plutarc_contracts.topics import events_topic
from plutarc_runtime.clock import Clock
from plutarc_runtime.intents import Adapter
from plutarc_runtime.service import Inbound, Replayed, ServiceSpec, Subscription
from plutarc_runtime.store import EventStore

from .compute_alerts import COMPUTE_ALERTS
from .domain import STREAM_TYPES
from .handlers import handlers
from .notifications import NOTIFICATIONS, Recipients
from .notify import notification_adapters, telegram_inbound
from .settings import SupportSettings
from .timers import Inactivity, timers


def build(
    settings: SupportSettings | None = None,
    *,
    adapters: Mapping[str, Adapter] | None = None,
    policy: AccessEngine | None = None,
    memberships: Memberships | None = None,
    recipients: Recipients | None = None,
    inbound: Sequence[Inbound] | None = None,
) -> ServiceSpec:
    """`memberships`, `recipients`: tests hand in ones they filled; the service replays identity's
    topic into fresh ones. `adapters`, `inbound`: fakes from the tests; by default the real
    Telegram and SMTP adapters (or ones that record why nothing was sent) and, when configured,
    operators' replies from Telegram."""
    settings = settings or SupportSettings()
    periods = settings.periods()
    members = memberships or Memberships(policy or engine_for(settings.opa_url))
    users = recipients if recipients is not None else Recipients()

    def workspace_name(workspace_id: str) -> str | None:
        view = members.workspaces.get(workspace_id)
        return view.name if view is not None else None

    def authorizer(store: EventStore, clock: Clock) -> Authorizer:
        return members.authorizer(clock.now)

    return ServiceSpec(
        name=s.SUPPORT,
        registry=default_registry(),
        stream_types=STREAM_TYPES,
        handlers=handlers(periods),
        reactions=NOTIFICATIONS,
        adapters=(
            adapters
            if adapters is not None
            else notification_adapters(settings, users.email_of, workspace_name)
        ),
        timers=timers(timedelta(seconds=settings.support_timer_interval_seconds)),
        read_models=[lambda: Inactivity(periods)],
        authorizer=authorizer,
        replayed=[Replayed("memberships", [events_topic(IDENTITY)], [members, users])],
        subscriptions=[
            Subscription("compute-alerts", [events_topic(COMPUTE)], reactions=COMPUTE_ALERTS)
        ],
        inbound=inbound if inbound is not None else telegram_inbound(settings),
        transient_errors=(AccessError,),  # the policy server is down: retry, never dead-letter
    )
