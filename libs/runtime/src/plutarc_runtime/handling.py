"""What a service's code receives and returns: handler contexts, results, intents and reactions.

A command handler is a plain function ``handler(payload, ctx) -> Accepted`` registered in a dict
keyed by the command's class (cosmicpython's handlers), so grep links a command to its handler.
A reaction is ``reaction(occurred) -> [Intent, ...]`` registered by event class: what the service
decided to do to the outside world, recorded atomically with what caused it and carried out after
by an adapter (intents.py). Neither touches the outside world itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec
from plutarc_access import Authorizer, Principal
from plutarc_contracts import CommandEnvelope, Payload

from .domain import Aggregate, Forbidden
from .store import EventStore

if TYPE_CHECKING:
    from .timers import ReadModels

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Intent:
    """A decision to act outside: which adapter, under which stable deduplication key, with what.

    ``secret`` values reach the adapter but are redacted from every audit export.
    """

    adapter: str
    key: str
    body: dict[str, Any] = field(default_factory=dict)
    secret: dict[str, str] = field(default_factory=dict)


@dataclass
class Accepted:
    """What a handler returns: the aggregates it changed, a small result for the reply, and the
    intents to carry out once the change is stored."""

    aggregates: Sequence[Aggregate] = ()
    result: dict[str, Any] = field(default_factory=dict)
    intents: Sequence[Intent] = ()


class FlushFirst(Exception):
    """Raised by `Context.model` in a batch that holds events not stored yet: read models follow
    saves, so the batch is stored first and the command decided again at the head of the next."""


class CatchUpFirst(Exception):
    """Raised by the command processor when a command is refused for what the service learns from
    other contexts' topics (a workspace, a member's role, a bot): the write that changes the answer
    may be on those topics already, not yet applied here (its writer was answered a moment ago).
    The consumer waits until the service's followers applied everything on their topics at that
    instant, then decides the command again; that answer stands (read-your-writes across services)."""


class Context:
    """What a handler may use: the instant, the store, the resolved actor and ``require``."""

    def __init__(
        self,
        command: CommandEnvelope,
        store: EventStore,
        now: datetime,
        authorizer: Authorizer | None,
        models: ReadModels | None = None,
    ) -> None:
        self.command = command
        self.store = store
        self.now = now
        self.authorizer = authorizer
        self.models = models

    def model(self, cls: type[M]) -> M:
        """The service's read model of class `cls` (`ServiceSpec.read_models`), caught up with
        every save of this process: for a rule over many aggregates, such as "no bot pins this
        strategy". Another process's save is read at this process's next save."""
        if self.models is None:
            raise RuntimeError("this service runs no read models")
        if self.store.uncommitted():
            raise FlushFirst(cls.__name__)
        return self.models.get(cls)

    @cached_property
    def principal(self) -> Principal:
        """The actor, resolved (a token to its user and grant); raises for a dead token."""
        if self.authorizer is None:
            return Principal(self.command.actor)
        return self.authorizer.principal(self.command.actor)

    @property
    def user_id(self) -> str:
        """The acting user; Forbidden when the actor is not a user (a service, or nobody)."""
        if self.principal.user_id is None:
            raise Forbidden(
                f"actor `{self.command.actor}` may not do this", code="access.forbidden"
            )
        return self.principal.user_id

    def require(self, workspace_id: str, permission: str, **resource: Any) -> str:
        """The actor's role in the workspace if the policy allows `permission`; raises otherwise."""
        if self.authorizer is None:
            raise RuntimeError("this service declares no authorizer; it cannot call require()")
        return self.authorizer.require(self.principal, workspace_id, permission, **resource)

    def require_system(self, service: str) -> None:
        """Only the service itself (its timers) may issue this command."""
        if self.principal.system != service:
            raise Forbidden(f"only system:{service} issues this command", code="access.system_only")


Handler = Callable[[Any, Context], Accepted]
Handlers = Mapping[type[msgspec.Struct], Handler]


@dataclass(frozen=True, slots=True)
class Occurred:
    """An event a reaction sees: its payload and where it came from (own store or a topic)."""

    payload: Payload
    at: datetime
    stream_id: str
    workspace_id: str | None
    actor: str
    event_id: str | None = None  # None for the service's own events, judged before they are saved
    aggregate: Aggregate | None = None
    """For the service's own events: the aggregate that recorded it, as the command left it (a
    reply's reaction reads the ticket's priority); None for events from a topic."""


Reaction = Callable[[Occurred], Sequence[Intent]]
Reactions = Mapping[type[msgspec.Struct], Reaction]


class ReadModel(Protocol):
    """A view the service keeps of its own events (timers decide from them)."""

    def apply(self, env: Any) -> None: ...
