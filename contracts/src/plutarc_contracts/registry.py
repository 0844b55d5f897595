"""Message types by stable wire name, and the codec that turns envelopes into bytes and back.

The registry is the only place that maps wire names to Python classes: on the wire a type is
``identity.member_invited`` plus ``schema_version``, never an import path, so classes can be renamed
and moved freely. Old versions stay registered forever because old bytes stay in Kafka and in
stores; decoding lifts them to the current version through a chain of upcasters, so handlers only
ever see the current shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from plutarc_contracts import _wire
from plutarc_contracts._wire import BytesLike
from plutarc_contracts.envelope import CommandEnvelope, Envelope
from plutarc_contracts.errors import (
    INVALID,
    NOT_JSON,
    TYPE_MISMATCH,
    UNKNOWN_TYPE,
    UNKNOWN_VERSION,
    UPCAST_FAILED,
    ContractError,
    RegistrationError,
    from_msgspec,
)

if TYPE_CHECKING:
    from plutarc_contracts.audit import AsOfFold

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a version-n payload, as plain JSON-shaped data, into version n+1. Must be pure."""

Kind = Literal["event", "command"]

AsOfFactory = Callable[[str], "AsOfFold"]
"""Builds a context's as-of fold for one subject (a workspace id); see `Registry.register_as_of_fold`."""

_SEGMENT = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
NAME_RE = re.compile(rf"(?P<context>{_SEGMENT})\.(?P<action>{_SEGMENT})")
"""``<context>.<snake_case>``: lower-case ASCII words joined by single underscores."""
CONTEXT_RE = re.compile(_SEGMENT)
MAX_NAME_LENGTH = 120


@dataclass(frozen=True, slots=True)
class MessageType:
    """Everything the registry knows about one wire name; read-only."""

    name: str
    kind: Kind
    context: str
    versions: Mapping[int, type[msgspec.Struct]]
    upcasters: Mapping[int, Upcaster]
    decoders: tuple[msgspec.json.Decoder[Any], ...]
    secret_fields: frozenset[str] = frozenset()
    """Payload fields (of the current version) never to be shown or exported, e.g. hashes."""
    readable_as: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    """Version -> the older version a reader that knows no later one may read it as (it only adds
    fields): written into the envelope, so that the consumers of a type need not be upgraded first."""

    @property
    def current(self) -> int:
        return len(self.versions)


def _show(name: object) -> str:
    """Quote a name from an untrusted message without letting a huge one flood the logs."""
    text = str(name)
    return f"`{text}`" if len(text) <= 100 else f"`{text[:100]}...`"


class Registry:
    """Event and command types, and the codec for their envelopes.

    Build one at start-up, ``freeze()`` it, then share it: lookups and the codec never mutate.
    """

    def __init__(self) -> None:
        self._types: dict[str, MessageType] = {}
        self._by_class: dict[type[msgspec.Struct], tuple[str, int]] = {}
        self._folds: dict[str, AsOfFactory] = {}
        self._frozen = False

    # --- registration -----------------------------------------------------------------------------

    def register_event(
        self,
        name: str,
        versions: Mapping[int, type[msgspec.Struct]],
        upcasters: Mapping[int, Upcaster] | None = None,
        context: str | None = None,
        *,
        secret_fields: Iterable[str] = (),
        readable_as: Mapping[int, int] | None = None,
    ) -> None:
        """Register an event type (past tense: ``identity.member_invited``).

        ``versions`` must be numbered 1..N with N the current version, and ``upcasters`` must have
        exactly one entry for each of 1..N-1. ``context`` may be given to check the name's prefix,
        or to qualify a bare name (``"member_invited"`` with ``context="identity"``).
        ``secret_fields`` names fields of the current version that audit entries redact.
        ``readable_as`` maps a version to an older one that it only adds fields to (each of the
        older one's fields kept, same name and type): a consumer that knows only the older one
        reads it as that one, the added fields dropped, instead of dead-lettering it.
        """
        self._register(
            "event", name, versions, upcasters, context, frozenset(secret_fields), readable_as
        )

    def register_command(
        self,
        name: str,
        versions: Mapping[int, type[msgspec.Struct]],
        upcasters: Mapping[int, Upcaster] | None = None,
        context: str | None = None,
    ) -> None:
        """Register a command type (imperative: ``identity.invite_member``); rules as for events."""
        self._register("command", name, versions, upcasters, context)

    def register_as_of_fold(self, context: str, fold: AsOfFactory) -> None:
        """Declare how to rebuild a subject's state as of an instant from `context`'s events.

        `fold(subject)` returns a fresh `plutarc_contracts.audit.AsOfFold`; `plutarc audit replay`
        runs it over a service's store. One per context.
        """
        if self._frozen:
            raise RegistrationError(
                f"cannot register a fold for `{context}`: the registry is frozen"
            )
        if not CONTEXT_RE.fullmatch(context):
            raise RegistrationError(f"invalid context `{context}`: use snake_case")
        if context in self._folds:
            raise RegistrationError(f"`{context}` has an as-of fold already")
        if not callable(fold):
            raise RegistrationError(f"the as-of fold of `{context}` must be callable")
        self._folds[context] = fold

    def freeze(self) -> Registry:
        """Refuse further registration, so a shared registry cannot change under its users."""
        self._frozen = True
        return self

    @property
    def frozen(self) -> bool:
        return self._frozen

    def merge(self, other: Registry) -> Registry:
        """A new, unfrozen registry holding the types of both.

        The same definition on both sides (same classes, same upcaster functions) is merged once, so
        registries that each include the system types combine cleanly; any other overlap is an
        error.
        """
        merged = Registry()
        for source in (self, other):
            for mt in source._types.values():
                existing = merged._types.get(mt.name)
                if existing is not None:
                    if _same_definition(existing, mt):
                        continue
                    raise RegistrationError(f"cannot merge: `{mt.name}` is defined differently")
                merged._add(mt)
            for context, fold in source._folds.items():
                if merged._folds.setdefault(context, fold) is not fold:
                    raise RegistrationError(f"cannot merge: `{context}` has two as-of folds")
        return merged

    def _register(
        self,
        kind: Kind,
        name: str,
        versions: Mapping[int, type[msgspec.Struct]],
        upcasters: Mapping[int, Upcaster] | None,
        context: str | None,
        secret_fields: frozenset[str] = frozenset(),
        readable_as: Mapping[int, int] | None = None,
    ) -> None:
        if self._frozen:
            raise RegistrationError(
                f"cannot register `{name}`: the registry is frozen; build a new one and merge()"
            )
        if context is not None:
            if not CONTEXT_RE.fullmatch(context):
                raise RegistrationError(f"invalid context `{context}`: use snake_case")
            if "." not in name:
                name = f"{context}.{name}"
        match = NAME_RE.fullmatch(name)
        if match is None or len(name) > MAX_NAME_LENGTH:
            raise RegistrationError(
                f"invalid {kind} name `{name}`: expected `<context>.<snake_case>`, "
                f"lower-case ASCII, at most {MAX_NAME_LENGTH} characters"
            )
        if context is not None and match["context"] != context:
            raise RegistrationError(f"`{name}` is not in context `{context}`")
        if name in self._types:
            raise RegistrationError(f"`{name}` is already registered")

        numbers = sorted(versions)
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise RegistrationError(f"`{name}`: versions must be numbered 1..N, got {numbers}")
        decoders = []
        for number in numbers:
            cls = versions[number]
            decoders.append(_wire.compile_decoder(name, number, cls))
            if cls in self._by_class or list(versions.values()).count(cls) > 1:
                raise RegistrationError(
                    f"`{name}` v{number}: {cls.__qualname__} is already registered; every "
                    "(type, version) needs its own class so encoding can tell them apart"
                )

        ups = dict(upcasters or {})
        expected = list(range(1, len(numbers)))
        if sorted(ups) != expected or not all(callable(f) for f in ups.values()):
            raise RegistrationError(
                f"`{name}`: needs one callable upcaster for each of versions {expected} "
                f"(upcasters[n] lifts vn to vn+1), got {sorted(ups)}"
            )
        current_fields = set(versions[numbers[-1]].__struct_fields__)
        if unknown := sorted(secret_fields - current_fields):
            raise RegistrationError(
                f"`{name}`: secret field `{unknown[0]}` is not a field of its current version"
            )
        compatible = dict(readable_as or {})
        for newer, older in compatible.items():
            _check_readable_as(name, versions, newer, older)
        self._add(
            MessageType(
                name=name,
                kind=kind,
                context=match["context"],
                versions=MappingProxyType({n: versions[n] for n in numbers}),
                upcasters=MappingProxyType(ups),
                decoders=tuple(decoders),
                secret_fields=secret_fields,
                readable_as=MappingProxyType(compatible),
            )
        )

    def _add(self, mt: MessageType) -> None:
        for number, cls in mt.versions.items():
            if cls in self._by_class:
                raise RegistrationError(
                    f"{cls.__qualname__} is registered as both `{self._by_class[cls][0]}` and "
                    f"`{mt.name}`"
                )
            self._by_class[cls] = (mt.name, number)
        self._types[mt.name] = mt

    # --- lookups ----------------------------------------------------------------------------------

    def describe(self, name: str) -> MessageType:
        """The full definition of a type; ContractError(contract.unknown_type) if unknown."""
        mt = self._types.get(name)
        if mt is None:
            raise ContractError(UNKNOWN_TYPE, f"unknown message type {_show(name)}")
        return mt

    def type_name_of(self, struct_cls: type[msgspec.Struct]) -> tuple[str, int]:
        """The (wire name, version) a payload class is registered as."""
        found = self._by_class.get(struct_cls)
        if found is None:
            raise ContractError(
                UNKNOWN_TYPE, f"payload class {struct_cls.__qualname__} is not registered"
            )
        return found

    def payload_class(self, name: str, version: int) -> type[msgspec.Struct]:
        mt = self.describe(name)
        cls = mt.versions.get(version)
        if cls is None:
            raise ContractError(UNKNOWN_VERSION, _unknown_version(mt, version))
        return cls

    def current_version(self, name: str) -> int:
        return self.describe(name).current

    def context_of(self, name: str) -> str:
        return self.describe(name).context

    def secret_fields(self, name: str) -> frozenset[str]:
        """The payload fields of `name` that must never be shown or exported."""
        return self.describe(name).secret_fields

    def as_of_fold(self, context: str) -> AsOfFactory | None:
        """The as-of fold `context` registered, or None if it declares none."""
        return self._folds.get(context)

    def event_names(self) -> list[str]:
        return sorted(n for n, mt in self._types.items() if mt.kind == "event")

    def command_names(self) -> list[str]:
        return sorted(n for n, mt in self._types.items() if mt.kind == "command")

    def names(self) -> list[str]:
        return sorted(self._types)

    def is_event(self, name: str) -> bool:
        """True for an event, False for a command; unknown names raise rather than guess."""
        return self.describe(name).kind == "event"

    def is_command(self, name: str) -> bool:
        return self.describe(name).kind == "command"

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __len__(self) -> int:
        return len(self._types)

    def __repr__(self) -> str:
        state = "frozen" if self._frozen else "open"
        return f"<Registry {len(self._types)} types, {state}>"

    # --- codec ------------------------------------------------------------------------------------

    def encode_event(self, env: Envelope) -> bytes:
        """Canonical JSON bytes for an event; equal envelopes give equal bytes."""
        if not isinstance(env, Envelope):
            raise ContractError(INVALID, f"expected an Envelope, got {type(env).__name__}")
        self._check_payload("event", env.type, env.schema_version, env.payload)
        at = _wire.as_utc(env.occurred_at, "occurred_at")
        older = self._types[env.type].readable_as.get(env.schema_version)
        if at is not env.occurred_at or older != env.readable_as:
            env = msgspec.structs.replace(env, occurred_at=at, readable_as=older)
        return _wire.encode(env)

    def decode_event(self, data: BytesLike) -> Envelope:
        """Decode and upcast an event; any problem is a ContractError, never anything else."""
        wire = _wire.decode_envelope(_wire.EVENT_DECODER, data)
        payload = self._decode_payload(
            "event", wire.type, wire.schema_version, wire.payload, wire.readable_as
        )
        return Envelope(
            event_id=wire.event_id,
            type=wire.type,
            schema_version=self._types[wire.type].current,
            occurred_at=_wire.to_utc(wire.occurred_at, "occurred_at"),
            producer=wire.producer,
            stream_id=wire.stream_id,
            stream_position=wire.stream_position,
            workspace_id=wire.workspace_id,
            actor=wire.actor,
            correlation_id=wire.correlation_id,
            causation_id=wire.causation_id,
            payload=payload,
        )

    def encode_command(self, cmd: CommandEnvelope) -> bytes:
        if not isinstance(cmd, CommandEnvelope):
            raise ContractError(INVALID, f"expected a CommandEnvelope, got {type(cmd).__name__}")
        self._check_payload("command", cmd.type, cmd.schema_version, cmd.payload)
        at = _wire.as_utc(cmd.issued_at, "issued_at")
        if at is not cmd.issued_at:
            cmd = msgspec.structs.replace(cmd, issued_at=at)
        return _wire.encode(cmd)

    def decode_command(self, data: BytesLike) -> CommandEnvelope:
        wire = _wire.decode_envelope(_wire.COMMAND_DECODER, data)
        payload = self._decode_payload("command", wire.type, wire.schema_version, wire.payload)
        return CommandEnvelope(
            command_id=wire.command_id,
            type=wire.type,
            schema_version=self._types[wire.type].current,
            issued_at=_wire.to_utc(wire.issued_at, "issued_at"),
            actor=wire.actor,
            workspace_id=wire.workspace_id,
            correlation_id=wire.correlation_id,
            causation_id=wire.causation_id,
            payload=payload,
        )

    def decode_payload(self, name: str, version: int, data: BytesLike) -> msgspec.Struct:
        """Decode a bare payload stored apart from its envelope, upcast to the current version."""
        if not isinstance(data, _wire.BYTES_LIKE):
            raise ContractError(NOT_JSON, f"expected bytes, got {type(data).__name__}")
        return self._decode_payload(self.describe(name).kind, name, version, data)

    def _check_payload(self, kind: Kind, name: str, version: int, payload: object) -> None:
        found = self._by_class.get(type(payload))  # type: ignore[arg-type]
        if found is None:
            raise ContractError(
                UNKNOWN_TYPE,
                f"payload of type {type(payload).__qualname__} is not a registered {kind} payload",
            )
        if found != (name, version):
            raise ContractError(
                TYPE_MISMATCH,
                f"envelope says {_show(name)} v{version} but the payload is "
                f"`{found[0]}` v{found[1]}",
            )
        if self._types[name].kind != kind:
            raise ContractError(UNKNOWN_TYPE, f"`{name}` is not {_a(kind)}")

    def _decode_payload(
        self,
        kind: Kind,
        name: str,
        version: int,
        raw: msgspec.Raw | BytesLike,
        readable_as: int | None = None,
    ) -> msgspec.Struct:
        mt = self._types.get(name)
        if mt is None:
            raise ContractError(UNKNOWN_TYPE, f"unknown {kind} type {_show(name)}")
        if mt.kind != kind:
            raise ContractError(UNKNOWN_TYPE, f"`{name}` is {_a(mt.kind)}, not {_a(kind)}")
        if version > mt.current and readable_as is not None and 1 <= readable_as <= mt.current:
            # a newer version than this reader knows, that its producer declared readable as one
            # it does know: read as that one (the added fields dropped), then lifted as usual
            older = mt.versions[readable_as]
            raw = _wire.read_as_older(name, older, raw)
            version = readable_as
        if not 1 <= version <= mt.current:
            raise ContractError(UNKNOWN_VERSION, _unknown_version(mt, version))
        try:
            payload: msgspec.Struct = mt.decoders[version - 1].decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise from_msgspec(exc, prefix="payload", context=f"`{name}` v{version}: ") from exc
        if version == mt.current:
            return payload
        return _upcast(mt, version, payload)


def _same_definition(a: MessageType, b: MessageType) -> bool:
    return (
        a.kind == b.kind
        and dict(a.versions) == dict(b.versions)
        and dict(a.upcasters) == dict(b.upcasters)
        and a.secret_fields == b.secret_fields
        and dict(a.readable_as) == dict(b.readable_as)
    )


def _check_readable_as(
    name: str, versions: Mapping[int, type[msgspec.Struct]], newer: int, older: int
) -> None:
    """A version may be read as an older one only if it keeps every field of it, as it was."""
    if not (isinstance(newer, int) and isinstance(older, int) and 1 <= older < newer):
        raise RegistrationError(
            f"`{name}`: readable_as {{{newer}: {older}}} must name an older version for a newer one"
        )
    if newer not in versions:
        raise RegistrationError(f"`{name}`: readable_as names v{newer}, which is not registered")
    new_hints = msgspec.structs.fields(versions[newer])
    by_name = {f.encode_name: f.type for f in new_hints}
    for f in msgspec.structs.fields(versions[older]):
        if by_name.get(f.encode_name, object()) != f.type:
            raise RegistrationError(
                f"`{name}`: v{newer} cannot be read as v{older}: it does not keep v{older}'s "
                f"field `{f.encode_name}` as it was"
            )


def _a(kind: Kind) -> str:
    return "an event" if kind == "event" else "a command"


def _unknown_version(mt: MessageType, version: int) -> str:
    return f"unknown version {version} of `{mt.name}` (known: 1..{mt.current})"


def _upcast(mt: MessageType, version: int, payload: msgspec.Struct) -> msgspec.Struct:
    data: dict[str, Any] = msgspec.to_builtins(payload)
    for n in range(version, mt.current):
        try:
            data = mt.upcasters[n](data)
        except Exception as exc:
            raise ContractError(
                UPCAST_FAILED,
                f"`{mt.name}` upcaster v{n}->v{n + 1} failed: {type(exc).__name__}: {exc}",
            ) from exc
    try:
        result: msgspec.Struct = msgspec.convert(data, mt.versions[mt.current])
    except msgspec.ValidationError as exc:
        err = from_msgspec(
            exc, prefix="payload", context=f"`{mt.name}` upcast v{version}->v{mt.current}: "
        )
        raise ContractError(UPCAST_FAILED, err.message, path=err.path) from exc
    return result
