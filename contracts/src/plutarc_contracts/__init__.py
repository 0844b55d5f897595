"""plutarc wire contracts: envelopes, message type registry and codec, topics, system types.

Everything a service needs to put a message on Kafka or read one back; no I/O and no domain logic.
See docs/contracts.md for the rules.
"""

from plutarc_contracts.catalogue import (
    default_contexts,
    default_registry,
    default_topics,
    topics_of,
)
from plutarc_contracts.envelope import (
    CommandEnvelope,
    Envelope,
    Payload,
    UtcDateTime,
    is_uuid7,
    new_event_id,
    uuid7_unix_ms,
)
from plutarc_contracts.errors import ContractError, RegistrationError
from plutarc_contracts.permissions import (
    ESCALATION_GUARDED,
    OWNER_ONLY,
    PERMISSIONS,
    ROLES,
    Role,
    catalogue_data,
    grants,
    is_role,
    role_rank,
)
from plutarc_contracts.registry import MessageType, Registry, Upcaster
from plutarc_contracts.system import (
    COMMAND_ACCEPTED,
    COMMAND_REJECTED,
    DEAD_LETTERED,
    CommandAccepted,
    CommandRejected,
    DeadLettered,
    register_system_types,
)
from plutarc_contracts.topics import (
    FOREVER,
    SEVEN_DAYS_MS,
    ContextTopics,
    Topic,
    TopicRegistry,
    commands_topic,
    deadletter_topic,
    declare_context,
    declare_deadletter,
    events_topic,
)

__all__ = [
    "COMMAND_ACCEPTED",
    "COMMAND_REJECTED",
    "DEAD_LETTERED",
    "ESCALATION_GUARDED",
    "FOREVER",
    "OWNER_ONLY",
    "PERMISSIONS",
    "ROLES",
    "SEVEN_DAYS_MS",
    "CommandAccepted",
    "CommandEnvelope",
    "CommandRejected",
    "ContextTopics",
    "ContractError",
    "DeadLettered",
    "Envelope",
    "MessageType",
    "Payload",
    "RegistrationError",
    "Registry",
    "Role",
    "Topic",
    "TopicRegistry",
    "Upcaster",
    "UtcDateTime",
    "catalogue_data",
    "commands_topic",
    "deadletter_topic",
    "declare_context",
    "declare_deadletter",
    "default_contexts",
    "default_registry",
    "default_topics",
    "events_topic",
    "grants",
    "is_role",
    "is_uuid7",
    "new_event_id",
    "register_system_types",
    "role_rank",
    "topics_of",
    "uuid7_unix_ms",
]
