"""Command handling: one outcome per `command_id`, published as a reply event with its correlation id.

The outcome is itself an aggregate (`CommandOutcome`, stream id derived from the command id) saved in
the same transaction as the events the command caused. A command id seen before appends the first
outcome again, so a retried command gets an identical reply and changes nothing else.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.persistence import IntegrityError, PersistenceError
from plutarc_access import Authorizer
from plutarc_contracts import (
    CommandAccepted,
    CommandEnvelope,
    CommandRejected,
    ContractError,
    Registry,
    new_event_id,
)

from .clock import Clock
from .consumer import Work
from .domain import Aggregate, DomainError, Forbidden, NotFound
from .handling import (
    CatchUpFirst,
    Context,
    FlushFirst,
    Handlers,
    Intent,
    Occurred,
    Reactions,
)
from .intents import new_intents
from .metrics import Metrics
from .store import EventStore, Meta
from .timers import ReadModels

log = logging.getLogger(__name__)

COMMAND_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/command")
CAUGHT_UP_REMEMBERED = 10_000
"""Commands refused once and waiting for a catch-up, remembered so the second decision stands."""


@functools.lru_cache(maxsize=4096)
def outcome_id(command_id: str) -> UUID:
    """Memoised: a batch asks for each of its commands' outcome ids three times (which are new,
    the replay lookup, the outcome recorded), and uuid5 hashes each time."""
    return uuid5(COMMAND_NS, command_id)


class CommandOutcome(Aggregate):
    stream_type: ClassVar[str] = "system.command_outcome"

    accepted: CommandAccepted | None
    rejected: CommandRejected | None

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        if self.version == 0:
            self.accepted = payload if isinstance(payload, CommandAccepted) else None
            self.rejected = payload if isinstance(payload, CommandRejected) else None

    @classmethod
    def record(cls, command_id: str, payload: msgspec.Struct, at: datetime) -> CommandOutcome:
        outcome = cls(outcome_id(command_id))
        outcome._trigger(payload, at)
        return outcome

    def repeat(self, at: datetime) -> None:
        first = self.accepted or self.rejected
        assert first is not None
        self._trigger(first, at)


class _Header(msgspec.Struct):
    """The parts of a command envelope needed to reject it when its payload is not a contract."""

    command_id: str
    type: str
    actor: str
    correlation_id: str
    workspace_id: str | None = None


_header_decoder = msgspec.json.Decoder(_Header)


class CommandProcessor:
    """Decides one command: idempotency by command id, the handler by the payload's class, the
    reactions to the events it caused, and exactly one reply (accepted or rejected with a kind).

    The consumer may decide a batch of commands into one transaction (batching.py)."""

    batchable = True

    def __init__(
        self,
        store: EventStore,
        registry: Registry,
        handlers: Handlers,
        clock: Clock,
        metrics: Metrics | None = None,
        transient: tuple[type[Exception], ...] = (),
        *,
        authorizer: Authorizer | None = None,
        reactions: Reactions | None = None,
        max_age: timedelta | None = None,
        models: ReadModels | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.handlers = dict(handlers)
        self.clock = clock
        self.metrics = metrics
        self.transient: tuple[type[Exception], ...] = (PersistenceError, *transient)
        self.authorizer = authorizer
        self.reactions = dict(reactions or {})
        self.max_age = max_age
        self.models = models
        self.catch_up_first = False
        """Set by a service that follows other contexts' topics (its consumer can catch up): a
        refusal as not found or forbidden is then decided again once the followers caught up."""
        self._caught_up: OrderedDict[str, None] = OrderedDict()

    def __call__(self, value: bytes) -> Work:
        try:
            command = self.registry.decode_command(value)
        except ContractError as exc:
            return self._reject_undecodable(value, exc)
        meta = Meta(
            actor=command.actor,
            correlation_id=command.correlation_id,
            causation_id=command.command_id,
            workspace_id=command.workspace_id,
        )
        existing = self.store.find(CommandOutcome, outcome_id(command.command_id))
        if existing is not None:
            existing.repeat(self.clock.now())
            return self._work([existing], meta, "replayed", command.type)
        now = self.clock.now()
        if self.max_age is not None and now - command.issued_at > self.max_age:
            # Nobody waits for it any more (the caller was answered 202 long ago), and an old
            # decision carried out at a surprising time is worse than none: refuse it.
            expired = CommandRejected(
                command_id=command.command_id,
                command_type=command.type,
                kind="unavailable",
                code="command.expired",
                detail=f"issued at {command.issued_at.isoformat()}, more than "
                f"{self.max_age.total_seconds():g} s before the service could handle it; send it again",
            )
            return self._outcome(command, expired, (), meta, "expired")
        handler = self.handlers.get(type(command.payload))
        if handler is None:
            rejected = CommandRejected(
                command_id=command.command_id,
                command_type=command.type,
                kind="invalid",
                code="command.unsupported",
                detail=f"{self.store.producer} does not handle {command.type}",
            )
            return self._outcome(command, rejected, (), meta, "rejected")
        try:
            accepted = handler(
                command.payload, Context(command, self.store, now, self.authorizer, self.models)
            )
            intents = [*accepted.intents, *self._react(accepted.aggregates, command)]
            streams = new_intents(self.store, intents, now) if intents else []
        except DomainError as exc:
            if self._first_refusal(command.command_id, exc):
                raise CatchUpFirst(exc.code) from exc
            rejected = CommandRejected(
                command_id=command.command_id,
                command_type=command.type,
                kind=exc.kind,
                code=exc.code,
                detail=exc.detail,
                field=exc.field,
            )
            return self._outcome(command, rejected, (), meta, "rejected")
        except FlushFirst:
            raise  # the batch is stored first, then this command decided again
        except self.transient:
            raise  # a dependency is down (the store, a policy server): the consumer retries
        except Exception:
            # A bug or an outage below the domain: the caller still gets exactly one reply.
            log.exception(
                "command handler failed",
                extra={"command_id": command.command_id, "type": command.type},
            )
            if self.metrics is not None:
                self.metrics.commands_failed.labels(command.type).inc()
            failed = CommandRejected(
                command_id=command.command_id,
                command_type=command.type,
                kind="failed",
                code="command.failed",
                detail="the service could not handle this command; it has been logged",
            )
            return self._outcome(command, failed, (), meta, "failed")
        primary = accepted.aggregates[0] if accepted.aggregates else None
        reply = CommandAccepted(
            command_id=command.command_id,
            command_type=command.type,
            result=accepted.result,
            stream_id=str(primary.id) if primary else None,
            stream_position=primary.version if primary else None,
        )
        return self._outcome(command, reply, [*accepted.aggregates, *streams], meta, "accepted")

    def _first_refusal(self, command_id: str, exc: DomainError) -> bool:
        """True the first time `command_id` is refused for what a follower may not have applied
        yet (then the consumer catches up and asks again); False the second time: it stands."""
        if not self.catch_up_first or not isinstance(exc, (NotFound, Forbidden)):
            return False
        if command_id in self._caught_up:
            del self._caught_up[command_id]
            return False
        self._caught_up[command_id] = None
        while len(self._caught_up) > CAUGHT_UP_REMEMBERED:
            self._caught_up.popitem(last=False)
        return True

    def expected_streams(self, values: Sequence[bytes]) -> list[UUID]:
        """The outcome streams a batch of these commands looks up first (batching.py)."""
        ids: list[UUID] = []
        for value in values:
            try:
                ids.append(outcome_id(_header_decoder.decode(value).command_id))
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
                continue
        return ids

    def _react(self, aggregates: Sequence[Aggregate], command: CommandEnvelope) -> list[Intent]:
        """The intents the service's reactions decide for the events this command caused."""
        if not self.reactions:
            return []
        intents: list[Intent] = []
        for agg in aggregates:
            workspace_id = getattr(agg, "workspace_id", None) or command.workspace_id
            for pending in agg._pending:
                reaction = self.reactions.get(type(pending.payload))
                if reaction is not None:
                    occurred = Occurred(
                        pending.payload,  # type: ignore[arg-type]
                        pending.timestamp,
                        str(pending.originator_id),
                        workspace_id,
                        command.actor,
                        aggregate=agg,
                    )
                    intents.extend(reaction(occurred))
        return intents

    def execute(
        self,
        actor: str,
        payload: msgspec.Struct,
        *,
        workspace_id: str | None = None,
        command_id: str | None = None,
        attempts: int = 5,
    ) -> CommandAccepted | CommandRejected:
        """Handle a command in-process, exactly as the Kafka consumer would, and store the outcome.

        For the service's own timers, tools and tests. A write conflict with a concurrent writer
        decides the command again (a few times).
        """
        name, version = self.registry.type_name_of(type(payload))
        cid = command_id or new_event_id()
        command = CommandEnvelope(
            command_id=cid,
            type=name,
            schema_version=version,
            issued_at=self.clock.now(),
            actor=actor,
            workspace_id=workspace_id,
            correlation_id=cid,
            causation_id=None,
            payload=payload,
        )
        return self.execute_raw(self.registry.encode_command(command), attempts=attempts)

    def execute_raw(self, value: bytes, *, attempts: int = 5) -> CommandAccepted | CommandRejected:
        """`execute` for an encoded command envelope: decide, store, and return the reply."""
        for attempt in range(attempts):
            try:
                work = self(value)
            except CatchUpFirst:
                work = self(value)  # in-process callers cannot wait for the followers: it stands
            assert work.meta is not None
            try:
                self.store.save(*work.aggregates, meta=work.meta, extra=work.extra)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
                continue
            if work.on_stored is not None:
                work.on_stored()
            outcome = work.aggregates[-1]
            assert isinstance(outcome, CommandOutcome)
            reply = outcome.accepted or outcome.rejected
            assert reply is not None
            return reply
        raise AssertionError("unreachable")

    def _outcome(
        self,
        command: CommandEnvelope,
        reply: msgspec.Struct,
        aggregates: Sequence[Aggregate],
        meta: Meta,
        outcome: str,
    ) -> Work:
        record = CommandOutcome.record(command.command_id, reply, self.clock.now())
        return self._work([*aggregates, record], meta, outcome, command.type)

    def _work(self, aggregates: list[Aggregate], meta: Meta, outcome: str, kind: str) -> Work:
        def count() -> None:
            if self.metrics is not None:
                self.metrics.commands_handled.labels(kind, outcome).inc()

        return Work(aggregates, meta=meta, outcome=outcome, kind=kind, on_stored=count)

    def _reject_undecodable(self, value: bytes, exc: ContractError) -> Work:
        try:
            header = _header_decoder.decode(value)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            if self.metrics is not None:
                self.metrics.commands_failed.labels("unknown").inc()
            raise exc from None
        meta = Meta(
            actor=header.actor,
            correlation_id=header.correlation_id,
            causation_id=header.command_id,
            workspace_id=header.workspace_id,
        )
        existing = self.store.find(CommandOutcome, outcome_id(header.command_id))
        if existing is not None:
            existing.repeat(self.clock.now())
            return self._work([existing], meta, "replayed", header.type)
        rejected = CommandRejected(
            command_id=header.command_id,
            command_type=header.type,
            kind="invalid",
            code=exc.code,
            detail=str(exc),
            field=exc.path,
        )
        record = CommandOutcome.record(header.command_id, rejected, self.clock.now())
        return self._work([record], meta, "rejected", header.type)


class LocalDispatcher:
    """Send commands to a processor in-process (tests of a service's rules on the real stores)."""

    def __init__(self, processor: CommandProcessor) -> None:
        self.processor = processor
        self.registry = processor.registry

    def send(
        self,
        actor: str,
        payload: msgspec.Struct,
        *,
        workspace_id: str | None = None,
        command_id: str | None = None,
    ) -> CommandAccepted | CommandRejected:
        return self.processor.execute(
            actor, payload, workspace_id=workspace_id, command_id=command_id
        )

    def send_raw(self, value: bytes) -> CommandAccepted | CommandRejected:
        return self.processor.execute_raw(value)
