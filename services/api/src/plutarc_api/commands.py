"""Commands out over Kafka, replies back: the API's one write path, for every context.

`send` takes the payload and the caller; the contract names the context (a payload's registered
type is `<context>.<name>`), so no route names a topic. The reply future is registered before
the command is produced, so a fast reply is never missed. An accepted reply means the events are
on the log; the API then waits until its read models have applied everything up to the log's end
as seen after the reply, so a GET right after a write sees it, in any worker.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import msgspec
from aiokafka import AIOKafkaProducer
from plutarc_contracts import (
    CommandAccepted,
    CommandEnvelope,
    CommandRejected,
    ContractError,
    Registry,
    commands_topic,
)
from plutarc_runtime.bus import log_reader, partitions_of

log = logging.getLogger(__name__)
IDEMPOTENCY_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/idempotency-key")
REPLY_TYPES = frozenset({"system.command_accepted", "system.command_rejected"})
Reply = CommandAccepted | CommandRejected


def command_id_for(actor: str, idempotency_key: str | None) -> str:
    """The client's key makes the id: the same key from the same actor is the same command."""
    if idempotency_key is None:
        return str(uuid4())
    return str(uuid5(IDEMPOTENCY_NS, f"{actor}\x1f{idempotency_key}"))


def derived_id(command_id: str, what: str) -> str:
    """Ids of resources a command creates, derived from it so a retried command names the same one."""
    return str(uuid5(UUID(command_id), what))


def derived_secret(key: bytes, command_id: str, prefix: str) -> str:
    """The secret a command creates, derived from its id with the server's key: a write retried
    with the same Idempotency-Key hands back the same working token, on any worker, after any
    restart; only the key holder can compute it from the (guessable) command id."""
    mac = hmac.new(key, f"{prefix}\x1f{command_id}".encode(), hashlib.sha256).digest()
    return prefix + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def context_of(registry: Registry, payload: msgspec.Struct) -> tuple[str, str, int]:
    """(context, type name, version) of a command payload, from the contract."""
    name, version = registry.type_name_of(type(payload))
    return name.split(".", 1)[0], name, version


class Replies:
    """Reads the replies to this process's commands from the end of the contexts' events topics."""

    def __init__(self, bootstrap: str, registry: Registry, topics: Sequence[str]) -> None:
        self.bootstrap, self.registry, self.topics = bootstrap, registry, list(topics)
        self.ready = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[Reply]] = {}

    def expect(self, correlation_id: str) -> asyncio.Future[Reply]:
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[correlation_id] = future
        return future

    def forget(self, correlation_id: str) -> None:
        self._waiting.pop(correlation_id, None)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = log_reader(self.bootstrap, "api-replies")
        await consumer.start()
        try:
            partitions = await partitions_of(consumer, self.topics, stop, "api-replies")
            ends = await consumer.end_offsets(partitions)
            consumer.assign(partitions)
            for tp in partitions:
                consumer.seek(tp, ends[tp])
            self.ready.set()
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=2000)
                for records in batch.values():
                    for record in records:
                        self._on_record(record)
        finally:
            await consumer.stop()

    def _on_record(self, record: object) -> None:
        headers = dict(getattr(record, "headers", ()) or ())
        kind = headers.get("type")
        if kind is None or kind.decode() not in REPLY_TYPES or not self._waiting:
            return
        try:
            env = self.registry.decode_event(getattr(record, "value", b"") or b"")
        except ContractError:
            return
        future = self._waiting.get(env.correlation_id)
        if future is not None and not future.done():
            future.set_result(env.payload)


async def produce(
    producer: AIOKafkaProducer,
    registry: Registry,
    payload: msgspec.Struct,
    *,
    actor: str,
    command_id: str,
    workspace_id: str | None,
    key: str,
    correlation_id: str,
) -> None:
    context, name, version = context_of(registry, payload)
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
    await producer.send_and_wait(
        commands_topic(context), registry.encode_command(command), key=key.encode()
    )


__all__ = [
    "REPLY_TYPES",
    "Replies",
    "Reply",
    "command_id_for",
    "context_of",
    "derived_id",
    "derived_secret",
    "produce",
]
