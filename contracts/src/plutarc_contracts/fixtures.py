"""Golden fixtures: one wire-format envelope per (type, version), kept forever.

A fixture is the proof that bytes written by an old producer still decode: once written it is never
regenerated, so a schema edit that breaks old messages breaks the test suite instead of production.
Layout: ``<root>/<type name>/v<N>.json``. Example payloads are built from the Struct's annotations;
a class whose fields cannot be synthesised (a regex-constrained string, say) provides an ``example``
classmethod returning an instance.
"""

from __future__ import annotations

import hashlib
import inspect as pyinspect
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi

from plutarc_contracts.envelope import CommandEnvelope, Envelope
from plutarc_contracts.registry import Registry

FIXTURE_TIME = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
_FILE_RE = re.compile(r"^v(?P<version>[1-9][0-9]*)\.json$")


class ExampleError(TypeError):
    """No value can be synthesised: give the payload class an ``example`` classmethod."""


@dataclass(frozen=True, slots=True)
class FixtureFile:
    name: str
    version: int
    path: Path


def fixture_path(root: Path, name: str, version: int) -> Path:
    return root / name / f"v{version}.json"


def iter_fixtures(root: Path) -> Iterator[FixtureFile]:
    """Every ``<name>/v<N>.json`` under ``root``, sorted; other files are ignored."""
    if not root.is_dir():
        return
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        for file in sorted(directory.iterdir()):
            if m := _FILE_RE.match(file.name):
                yield FixtureFile(directory.name, int(m["version"]), file)


def missing_fixtures(registry: Registry, root: Path) -> list[tuple[str, int]]:
    """(name, version) pairs the registry defines but ``root`` has no fixture for."""
    return [
        (name, version)
        for name in registry.names()
        for version in registry.describe(name).versions
        if not fixture_path(root, name, version).exists()
    ]


def write_missing_fixtures(registry: Registry, root: Path) -> list[Path]:
    """Write a fixture for every (type, version) that lacks one; never touch an existing file."""
    written = []
    for name, version in missing_fixtures(registry, root):
        path = fixture_path(root, name, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = msgspec.json.format(example_message_bytes(registry, name, version), indent=2)
        with path.open("xb") as f:  # "x": refuse to overwrite even if one appeared meanwhile
            f.write(data + b"\n")
        written.append(path)
    return written


def example_message_bytes(registry: Registry, name: str, version: int) -> bytes:
    """An encoded envelope of (name, version) with an example payload and fixed, readable ids."""
    payload = example_payload(registry.payload_class(name, version))
    context = registry.context_of(name)
    ids = _fixture_uuid7(f"{name}:v{version}")
    if registry.is_event(name):
        return registry.encode_event(
            Envelope(
                event_id=str(ids),
                type=name,
                schema_version=version,
                occurred_at=FIXTURE_TIME,
                producer=context,
                stream_id=f"{context}-stream-1",
                stream_position=1,
                workspace_id="ws-example",
                actor="user:example",
                correlation_id=f"corr-{ids}",
                causation_id=f"cause-{ids}",
                payload=payload,
            )
        )
    return registry.encode_command(
        CommandEnvelope(
            command_id=str(ids),
            type=name,
            schema_version=version,
            issued_at=FIXTURE_TIME,
            actor="user:example",
            workspace_id="ws-example",
            correlation_id=f"corr-{ids}",
            causation_id=None,
            payload=payload,
        )
    )


def _fixture_uuid7(seed: str) -> str:
    """A UUIDv7 at FIXTURE_TIME with random bits taken from ``seed``: valid, but reproducible."""
    ms = int(FIXTURE_TIME.timestamp() * 1000)
    rand = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10]) >> 6
    value = ms << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def example_payload(cls: type[msgspec.Struct]) -> msgspec.Struct:
    """A deterministic instance of ``cls`` with every field filled, optional ones included."""
    hook = pyinspect.getattr_static(cls, "example", None)
    if isinstance(hook, classmethod):
        made = hook.__get__(None, cls)()
        if not isinstance(made, cls):
            raise ExampleError(f"{cls.__qualname__}.example() must return a {cls.__qualname__}")
        return made
    value = _example(mi.type_info(cls), cls.__name__)
    assert isinstance(value, cls)
    return value


def _example(t: mi.Type, hint: str) -> Any:
    if isinstance(t, mi.StructType):
        if isinstance(pyinspect.getattr_static(t.cls, "example", None), classmethod):
            return example_payload(t.cls)  # a nested shape with values of its own
        kwargs = {f.name: _example(f.type, f.name) for f in t.fields}
        return t.cls(**kwargs)
    if isinstance(t, mi.UnionType):
        options = [x for x in t.types if not isinstance(x, mi.NoneType)]
        return _example(options[0], hint) if options else None
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            for candidate in (hint.lower(), "0" * 64, "100", "100.5", "a"):
                if re.search(t.pattern, candidate):
                    return candidate
            raise ExampleError(f"cannot synthesise `{hint}` matching {t.pattern!r}")
        text = hint.lower()
        text = text.ljust(t.min_length or 0, "x")
        return text[: t.max_length] if t.max_length is not None else text
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else None)
        high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else None)
        value = low if low is not None else (min(1, high) if high is not None else 1)
        if t.multiple_of is not None:
            value = -(-value // t.multiple_of) * t.multiple_of
        return value
    if isinstance(t, mi.FloatType):
        lo = t.ge if t.ge is not None else t.gt
        hi = t.le if t.le is not None else t.lt
        if lo is not None and hi is not None:
            return (lo + hi) / 2
        return lo + 1.5 if lo is not None else (hi - 1.5 if hi is not None else 1.5)
    simple: dict[type[mi.Type], Any] = {
        mi.NoneType: None,
        mi.AnyType: hint.lower(),
        mi.BoolType: True,
        mi.BytesType: b"example",
        mi.DateType: FIXTURE_TIME.date(),
        mi.TimeType: time(12, 0),
        mi.TimeDeltaType: timedelta(minutes=5),
        mi.UUIDType: uuid.uuid5(uuid.NAMESPACE_URL, f"plutarc:{hint}"),
        mi.DecimalType: Decimal("1.25"),
    }
    if type(t) in simple:
        return simple[type(t)]
    if isinstance(t, mi.DateTimeType):
        return FIXTURE_TIME.replace(tzinfo=None) if t.tz is False else FIXTURE_TIME
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    if isinstance(t, mi.EnumType):
        return next(iter(t.cls))
    if isinstance(t, mi.ListType | mi.VarTupleType):
        items = [_example(t.item_type, hint)]
        return items if isinstance(t, mi.ListType) else tuple(items)
    if isinstance(t, mi.SetType | mi.FrozenSetType):
        return {_example(t.item_type, hint)}
    if isinstance(t, mi.TupleType):
        return tuple(_example(x, hint) for x in t.item_types)
    if isinstance(t, mi.DictType):
        return {_example(t.key_type, "key"): _example(t.value_type, hint)}
    raise ExampleError(f"cannot synthesise `{hint}` of type {type(t).__name__}")


__all__ = [
    "FIXTURE_TIME",
    "ExampleError",
    "FixtureFile",
    "example_message_bytes",
    "example_payload",
    "fixture_path",
    "iter_fixtures",
    "missing_fixtures",
    "write_missing_fixtures",
]
