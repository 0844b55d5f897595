"""What a context plugs into the API with: its routes, its read models and the topics they read.

The API core knows no context by name. Each context ships an `ApiModule` and names it under the
`plutarc.api` entry-point group of its package; the API loads every module installed (or those
PLUTARC_API_MODULES names). One module provides the lookups on every request's path: who the
bearer is, and the memberships the shared authorizer decides with: identity's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter
from plutarc_access import MembershipSource
from plutarc_contracts import ContextTopics, Topic
from plutarc_runtime.readmodels import SqlProjection
from sqlalchemy import Engine

if TYPE_CHECKING:
    from .caller import Caller

ENTRY_POINTS = "plutarc.api"


class Lookups(MembershipSource, Protocol):
    """The reads on every request's path, over the read models (and the authorizer's source)."""

    inline: bool
    """True when they need no I/O wait (SQLite): the API runs them on its event loop, else in a
    thread."""

    def authenticate(self, token: str) -> Caller | None:
        """The bearer of `token`, or None when the token is not valid."""
        ...

    def close(self) -> None: ...


@dataclass
class ApiModule:
    name: str
    routers: Sequence[APIRouter] = ()
    projections: Sequence[SqlProjection] = ()
    contexts: Sequence[ContextTopics] = ()
    """The contexts whose commands it sends and whose topics it reads: the API makes sure those
    topics exist, reads replies from their events topics, and keeps each workspace's event log
    from them."""
    topics: Sequence[Topic] = ()
    """Other topics its read models read (market data, which is no context's event log): the
    API makes sure they exist, as it does the contexts'."""
    visibility: Callable[[str], str | None] = lambda _type: None
    """The permission that lets a member see an event type live (None: not streamed)."""
    lookups: Callable[[Engine], Lookups] | None = None
    """Given the read models' engine, the reads on every request's path (one module has them)."""
    operators: Callable[[Engine, str], bool] | None = None
    """(read-model engine, user id) -> whether that user is a platform operator: what the
    `operator` access kind checks (`plutarc_api.deps.Operator`). At most one module answers it."""
    on_start: Sequence[Callable[[Any], None]] = field(default_factory=tuple)
    """Called with the runtime once it is built (a module keeps what it needs from it)."""


def load_modules(names: Sequence[str] | None = None) -> list[ApiModule]:
    """The installed modules (entry points `plutarc.api`), or only those named, in name order."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINTS)}
    wanted = sorted(found) if not names else list(names)
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise ValueError(f"no API module named {unknown}; installed: {sorted(found)}")
    modules = []
    for name in wanted:
        module = found[name].load()
        modules.append(module() if callable(module) else module)
    return modules
