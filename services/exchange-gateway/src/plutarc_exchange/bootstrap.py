"""The exchange gateway's wiring: build(settings) -> its spec.

The gateway authorizes members from its own projection of identity's memberships, follows
workspaces' risk defaults (identity) and bots' modes and limits (bots service), all replayed at
each start. Paper orders go to the paper engines (`PaperDesk`, fed by `PaperFeed`); testnet and live
orders to the venue adapter through intents.
"""

from __future__ import annotations

from datetime import timedelta

from plutarc_access import AccessEngine, AccessError, Authorizer, Memberships, engine_for
from plutarc_access.workspaces import Workspaces
from plutarc_contracts import default_registry
from plutarc_contracts import exchange as x
from plutarc_contracts.bots import BOTS
from plutarc_contracts.identity import IDENTITY
from plutarc_contracts.topics import events_topic
from plutarc_runtime.clock import Clock, SystemClock
from plutarc_runtime.service import Replayed, ServiceSpec
from plutarc_runtime.store import EventStore

from .domain import STREAM_TYPES
from .feed import PaperFeed, PaperResting
from .handlers import SERVICE, handlers
from .paper_desk import PaperDesk
from .routing import Venues
from .sealing import SealingKey
from .settings import ExchangeSettings
from .timers import Published, timers
from .vault import Vault, load_kek
from .venue_desk import VenueDesk, VenueOrders
from .venue_table import VenueTable
from .views import Bots


def vault_url(settings: ExchangeSettings) -> str:
    return settings.database_url or f"sqlite:///{settings.key_path('vault.db')}"


def build(
    settings: ExchangeSettings | None = None,
    *,
    clock: Clock | None = None,
    policy: AccessEngine | None = None,
    memberships: Memberships | None = None,
    workspaces: Workspaces | None = None,
    bots: Bots | None = None,
    paper: PaperDesk | None = None,
    venues: Venues | None = None,
) -> ServiceSpec:
    """Tests hand in projections they filled; the service replays the topics into fresh ones."""
    settings = settings or ExchangeSettings()
    clock = clock or SystemClock()
    members = memberships or Memberships(policy or engine_for(settings.opa_url))
    spaces = workspaces if workspaces is not None else Workspaces()
    followed = bots if bots is not None else Bots()
    table = VenueTable()
    venues = venues or table
    desk = paper or PaperDesk(
        table.rules,
        table.latency if settings.exchange_paper_latency else None,
        seed=settings.exchange_paper_seed,
    )
    secret = settings.exchange_sealing_key
    sealing = (
        SealingKey.from_text(secret.get_secret_value())
        if secret is not None
        else SealingKey.load_or_create(settings.key_path("sealing-key"))
    )
    kek = settings.exchange_kek
    vault = Vault(
        vault_url(settings),
        load_kek(kek.get_secret_value() if kek else None, settings.key_path("kek")),
    )

    venue_orders = VenueOrders()
    resting = PaperResting()
    ca_file = settings.exchange_ca_file
    venue_desk = VenueDesk(
        vault,
        followed,
        venue_orders,
        clock,
        venue_urls=settings.venue_urls(),
        client_options={"ca_file": str(ca_file)} if ca_file else {},
    )

    def authorizer(store: EventStore, clock: Clock) -> Authorizer:
        return members.authorizer(clock.now)

    return ServiceSpec(
        name=SERVICE,
        context=x.EXCHANGE,
        registry=default_registry(),
        stream_types=STREAM_TYPES,
        handlers=handlers(
            followed, spaces, sealing, vault, desk, venues, settings.paper_balances()
        ),
        timers=timers(sealing, timedelta(seconds=settings.exchange_timer_interval_seconds)),
        read_models=[Published, lambda: venue_orders, lambda: resting],
        adapters={"venue": venue_desk},
        authorizer=authorizer,
        replayed=[
            Replayed("memberships", [events_topic(IDENTITY)], [members, spaces]),
            Replayed("bots", [events_topic(BOTS)], [followed]),
        ],
        inbound=[PaperFeed(desk, settings.kafka_bootstrap, clock, resting=resting), venue_desk],
        transient_errors=(AccessError,),
    )
