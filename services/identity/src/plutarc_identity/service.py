"""The identity service's wiring: registry, aggregates and handlers."""

from __future__ import annotations

from collections.abc import Mapping

from plutarc_access import AccessError
from plutarc_contracts import default_registry
from plutarc_contracts import identity as c
from plutarc_runtime.clock import Clock
from plutarc_runtime.commands import CommandHandler
from plutarc_runtime.service import ServiceSpec
from plutarc_runtime.store import EventStore

from .accounts import ApiToken, EmailClaim, Session, User
from .handlers import IdentityHandlers, Policy
from .workspace import Workspace

STREAM_TYPES = [Workspace, User, EmailClaim, Session, ApiToken]


def default_policy() -> Policy:
    from plutarc_access import RegoEngine

    return RegoEngine()


def identity_spec(policy: Policy | None = None) -> ServiceSpec:
    chosen = policy

    def handlers(store: EventStore, clock: Clock) -> Mapping[str, CommandHandler]:
        return IdentityHandlers(store, clock, chosen or default_policy()).table()

    return ServiceSpec(
        name=c.IDENTITY,
        registry=default_registry(),
        stream_types=STREAM_TYPES,
        command_handlers=handlers,
        transient_errors=(AccessError,),  # the policy server is down: retry, never dead-letter
    )
