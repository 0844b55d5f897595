"""Commands out over Kafka, replies back from the replayed events: the gateway's write path.

The reply future is registered before the command is produced, so a fast reply is never missed.
An accepted reply names the last event the command caused; the gateway waits until its projection
has applied that position before answering, so a GET right after a write sees it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import msgspec
from aiokafka import AIOKafkaProducer
from plutarc_contracts import (
    CommandAccepted,
    CommandEnvelope,
    CommandRejected,
    Envelope,
    Registry,
    commands_topic,
)
from plutarc_runtime.projection import ReplayConsumer

log = logging.getLogger(__name__)
IDEMPOTENCY_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/idempotency-key")


def command_id_for(actor: str, idempotency_key: str | None) -> str:
    """The client's key makes the id: the same key from the same actor is the same command."""
    if idempotency_key is None:
        return str(uuid4())
    return str(uuid5(IDEMPOTENCY_NS, f"{actor}\x1f{idempotency_key}"))


def derived_id(command_id: str, what: str) -> str:
    """Ids of resources a command creates, derived from it so a retried command names the same one."""
    return str(uuid5(UUID(command_id), what))


@dataclass
class Outcome:
    command_id: str
    reply: CommandAccepted | CommandRejected | None  # None: the deadline passed first


class CommandGateway:
    def __init__(
        self,
        registry: Registry,
        producer: AIOKafkaProducer,
        replay: ReplayConsumer,
        deadline: float,
    ) -> None:
        self.registry = registry
        self.producer = producer
        self.replay = replay
        self.deadline = deadline
        self._waiting: dict[str, asyncio.Future[CommandAccepted | CommandRejected]] = {}

    def on_event(self, env: Envelope) -> None:
        """Listener on the replayed events: resolves the request waiting for this reply."""
        if env.type in ("system.command_accepted", "system.command_rejected"):
            future = self._waiting.get(env.correlation_id)
            if future is not None and not future.done():
                future.set_result(env.payload)

    async def send(
        self,
        context: str,
        payload: msgspec.Struct,
        *,
        actor: str,
        command_id: str,
        workspace_id: str | None,
        key: str,
        deadline: float | None = None,
    ) -> Outcome:
        name, version = self.registry.type_name_of(type(payload))
        correlation_id = str(uuid4())
        command = CommandEnvelope(
            command_id=command_id,
            type=name,
            schema_version=version,
            issued_at=datetime.now(UTC),
            actor=actor,
            workspace_id=workspace_id,
            correlation_id=correlation_id,
            causation_id=None,
            payload=payload,
        )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CommandAccepted | CommandRejected] = loop.create_future()
        self._waiting[correlation_id] = future
        budget = deadline if deadline is not None else self.deadline
        started = loop.time()
        try:
            await self.producer.send_and_wait(
                commands_topic(context), self.registry.encode_command(command), key=key.encode()
            )
            reply = await asyncio.wait_for(future, budget)
        except TimeoutError:
            return Outcome(command_id, None)
        finally:
            self._waiting.pop(correlation_id, None)
        if isinstance(reply, CommandAccepted) and reply.stream_id and reply.stream_position:
            remaining = max(0.0, budget - (loop.time() - started))
            await self.replay.wait_for(reply.stream_id, reply.stream_position, remaining)
        return Outcome(command_id, reply)
