"""Event types that belong to no bounded context: command replies and dead-letter records.

Every service answers every command with exactly one reply event carrying the command's
``correlation_id``, so a caller (the API gateway) can wait for the outcome without knowing which
service handled it or how. Rejection reasons use the same stable problem codes the HTTP edge
returns.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from plutarc_contracts.envelope import Payload
from plutarc_contracts.errors import INVALID, ContractError
from plutarc_contracts.registry import Registry
from plutarc_contracts.rejections import RejectionKind, legacy_kind

SYSTEM_CONTEXT = "system"
COMMAND_ACCEPTED = "system.command_accepted"
COMMAND_REJECTED = "system.command_rejected"
DEAD_LETTERED = "system.dead_lettered"
INTENT_RECORDED = "system.intent_recorded"
INTENT_ATTEMPT_FAILED = "system.intent_attempt_failed"
INTENT_COMPLETED = "system.intent_completed"
INTENT_FAILED = "system.intent_failed"
INTENT_EVENTS = frozenset({INTENT_RECORDED, INTENT_ATTEMPT_FAILED, INTENT_COMPLETED, INTENT_FAILED})


class CommandAccepted(Payload, frozen=True, kw_only=True):
    """The command was handled.

    ``stream_id``/``stream_position`` name the last event it caused, so a caller can wait for its
    read model to reach that position before reading its own write.
    """

    command_id: str
    command_type: str
    result: dict[str, Any] = {}
    stream_id: str | None = None
    stream_position: int | None = None

    @classmethod
    def example(cls) -> CommandAccepted:
        return cls(
            command_id="0194a0c0-5e00-7000-8000-000000000001",
            command_type="identity.invite_member",
            result={"invitation_id": "inv-42"},
            stream_id="ws-7f3a",
            stream_position=12,
        )


class CommandRejectedV1(Payload, frozen=True, kw_only=True):
    """Version 1 of the rejection: a code with no kind (still decodes, upcast to v2)."""

    command_id: str
    command_type: str
    code: str
    detail: str
    field: str | None = None

    @classmethod
    def example(cls) -> CommandRejectedV1:
        return cls(
            command_id="0194a0c0-5e00-7000-8000-000000000002",
            command_type="identity.invite_member",
            code="contract.missing_field",
            detail="missing required field `payload.email`",
            field="payload.email",
        )


class CommandRejected(Payload, frozen=True, kw_only=True):
    """The command changed nothing.

    ``kind`` says what sort of refusal it is (``not_found``, ``forbidden``, ``conflict``,
    ``invalid``, ``unavailable``, ``failed``: the domain error's base class); ``code`` is the stable
    problem code (``identity.last_owner``, ``contract.missing_field``); ``field`` points at the
    offending input when there is one.
    """

    command_id: str
    command_type: str
    kind: RejectionKind
    code: str
    detail: str
    field: str | None = None

    @classmethod
    def example(cls) -> CommandRejected:
        return cls(
            command_id="0194a0c0-5e00-7000-8000-000000000002",
            command_type="identity.invite_member",
            kind="invalid",
            code="contract.missing_field",
            detail="missing required field `payload.email`",
            field="payload.email",
        )


def _rejected_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "kind": legacy_kind(str(payload.get("code", "")))}


class IntentRecorded(Payload, frozen=True, kw_only=True):
    """A service decided to act on the outside world; an adapter carries it out after.

    ``key`` is the stable deduplication key (the intent's stream id derives from adapter and key,
    so the same decision is recorded once). ``secret`` holds values the adapter needs but no audit
    export may show (an accept link with its token); the whole event stays on the service's private
    intents topic.
    """

    adapter: str
    key: str
    body: dict[str, Any] = {}
    secret: dict[str, str] = {}


class IntentAttemptFailed(Payload, frozen=True, kw_only=True):
    """One attempt failed for a reason that may pass; the adapter worker tries again later."""

    adapter: str
    key: str
    attempt: int
    error: str


class IntentCompleted(Payload, frozen=True, kw_only=True):
    adapter: str
    key: str
    attempts: int
    result: dict[str, Any] = {}


class IntentFailed(Payload, frozen=True, kw_only=True):
    """Given up: a permanent refusal, or too many attempts. Visible in metrics and the audit log."""

    adapter: str
    key: str
    attempts: int
    error: str


class DeadLettered(Payload, frozen=True, kw_only=True):
    """A message a consumer could not process, parked so the partition keeps moving.

    ``raw`` is the original Kafka record value, **standard base64** (RFC 4648, with padding): the
    record may not be UTF-8 or even JSON, and base64 is the one text form every tool reverses
    without guessing. Use ``encode_raw``/``raw_bytes``. ``key`` is the record key decoded as UTF-8
    (keys are stream ids), or None if absent or undecodable.
    """

    topic: str
    partition: int
    offset: int
    key: str | None
    reason: str
    code: str
    consumer: str
    raw: str

    @classmethod
    def example(cls) -> DeadLettered:
        return cls(
            topic="identity.events.v1",
            partition=2,
            offset=1042,
            key="ws-7f3a",
            reason="unknown event type `identity.member_teleported`",
            code="contract.unknown_type",
            consumer="bots.identity-projection",
            raw=cls.encode_raw(b'{"type":"identity.member_teleported"}'),
        )

    @staticmethod
    def encode_raw(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    def raw_bytes(self) -> bytes:
        try:
            return base64.b64decode(self.raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ContractError(
                INVALID, f"`payload.raw` is not base64: {exc}", path="payload.raw"
            ) from exc


def register_system_types(registry: Registry) -> Registry:
    """Add the system types to ``registry`` and return it, for chaining at start-up."""
    registry.register_event(COMMAND_ACCEPTED, {1: CommandAccepted}, context=SYSTEM_CONTEXT)
    registry.register_event(
        COMMAND_REJECTED,
        {1: CommandRejectedV1, 2: CommandRejected},
        {1: _rejected_v1_to_v2},
        context=SYSTEM_CONTEXT,
    )
    registry.register_event(INTENT_RECORDED, {1: IntentRecorded}, context=SYSTEM_CONTEXT)
    registry.register_event(INTENT_ATTEMPT_FAILED, {1: IntentAttemptFailed}, context=SYSTEM_CONTEXT)
    registry.register_event(INTENT_COMPLETED, {1: IntentCompleted}, context=SYSTEM_CONTEXT)
    registry.register_event(INTENT_FAILED, {1: IntentFailed}, context=SYSTEM_CONTEXT)
    registry.register_event(DEAD_LETTERED, {1: DeadLettered}, context=SYSTEM_CONTEXT)
    return registry
