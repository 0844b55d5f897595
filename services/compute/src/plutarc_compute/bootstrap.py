"""The compute service's wiring: build(settings, *, provider=...) -> its spec.

It follows the bots service's windows and the exchange gateway's positions and orders (replayed
from offset 0 at each start into the `Fleet`), decides on a timer (the scheduler), and carries out
wakes and sleeps through its provider's adapters; their outcomes come back into the hosts.
"""

from __future__ import annotations

from datetime import timedelta

from plutarc_access import AccessEngine, AccessError, Authorizer, Memberships, engine_for
from plutarc_contracts import compute as c
from plutarc_contracts import default_registry
from plutarc_contracts.bots import BOTS
from plutarc_contracts.exchange import ORDERS_TOPIC
from plutarc_contracts.identity import IDENTITY
from plutarc_contracts.topics import events_topic
from plutarc_runtime.clock import Clock
from plutarc_runtime.service import Replayed, ServiceSpec
from plutarc_runtime.store import EventStore
from plutarc_runtime.timers import Timer

from .adapters import provider_adapters
from .domain import STREAM_TYPES
from .handlers import WAKE, handlers, outcomes
from .metrics import FleetMetrics
from .providers.base import Provider
from .settings import ComputeSettings
from .views import Fleet


def make_provider(settings: ComputeSettings) -> Provider:
    """The provider the settings name (`local` and `aws` run Pulumi; `aws` refuses to start
    without its plugin, with a message that says how to install it)."""
    if settings.compute_provider == "memory":
        from .providers.memory import MemoryProvider

        return MemoryProvider()
    if settings.compute_provider == "aws":
        from .providers.aws_factory import make_aws_provider

        return make_aws_provider(settings)
    from .providers.local import make_local_provider

    return make_local_provider(settings)


def host_env(settings: ComputeSettings) -> dict[str, str]:
    """What a bot runtime on a host needs to find the platform (no secret)."""
    return {
        "PLUTARC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PLUTARC_DATA_DIR": str(settings.data_dir / "hosts"),
        "PLUTARC_BOT_EGRESS_CONNECT_PORTS": settings.compute_egress_connect_ports,
    }


def build(
    settings: ComputeSettings | None = None,
    *,
    provider: Provider | None = None,
    policy: AccessEngine | None = None,
    memberships: Memberships | None = None,
    fleet: Fleet | None = None,
) -> ServiceSpec:
    """`provider`, `memberships`, `fleet`: tests hand in their own; the service builds the one the
    settings name and replays identity's, the bots' and the gateway's topics into fresh views."""
    settings = settings or ComputeSettings()
    provider = provider if provider is not None else make_provider(settings)
    sizes = settings.sizes() or tuple(provider.sizes)
    members = memberships or Memberships(policy or engine_for(settings.opa_url))
    fleet = (
        fleet if fleet is not None else Fleet(provider.name, margin=settings.compute_lead_margin)
    )

    def authorizer(store: EventStore, clock: Clock) -> Authorizer:
        return members.authorizer(clock.now)

    return ServiceSpec(
        name=c.COMPUTE,
        registry=default_registry(),
        stream_types=STREAM_TYPES,
        handlers=handlers(provider.name, sizes, fleet.lead),
        adapters=provider_adapters(
            provider, host_env(settings), wake_attempts=settings.compute_wake_attempts
        ),
        outcomes=outcomes(sizes),
        adapter_concurrency={WAKE: settings.compute_max_concurrent_wakes},
        timers=[
            Timer(
                "scheduler",
                timedelta(seconds=settings.compute_timer_interval_seconds),
                lambda now, models: fleet.decide(now),
            )
        ],
        read_models=[fleet.own_events],
        collectors=[FleetMetrics(fleet)],
        authorizer=authorizer,
        replayed=[
            Replayed("memberships", [events_topic(IDENTITY)], [members]),
            Replayed("bots", [events_topic(BOTS)], [fleet.bots_follower()]),
            Replayed("orders", [ORDERS_TOPIC], [fleet.orders_follower()]),
        ],
        transient_errors=(AccessError,),
    )
