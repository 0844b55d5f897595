"""Property tests: the codec is total (only ContractError escapes) and lossless for valid data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from plutarc_contracts import CommandEnvelope, ContractError, Envelope, Registry
from plutarc_contracts.fixtures import iter_fixtures

TESTS_DIR = Path(__file__).resolve().parent
FIXTURE_DOCS = [
    msgspec.json.decode(f.path.read_bytes())
    for root in (TESTS_DIR / "fixtures", TESTS_DIR.parent / "fixtures")
    for f in iter_fixtures(root)
]
INT64 = 2**63 - 1

text = st.text(st.characters(codec="utf-8"), max_size=20)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-INT64, INT64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    # RFC 3339 offsets have minute resolution, so only whole-minute offsets can round-trip.
    timezones=st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


def strategy_for(t: mi.Type) -> st.SearchStrategy[Any]:
    """Values of a msgspec type; covers what payload schemas use, fails loudly on the rest."""
    if isinstance(t, mi.StructType):
        return st.builds(t.cls, **{f.name: strategy_for(f.type) for f in t.fields})
    if isinstance(t, mi.UnionType):
        return st.one_of(*(strategy_for(x) for x in t.types))
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            return st.from_regex(t.pattern, fullmatch=True)
        return st.text(
            st.characters(codec="utf-8"),
            min_size=t.min_length or 0,
            max_size=t.max_length if t.max_length is not None else 20,
        )
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -INT64)
        high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else INT64)
        return st.integers(low, high)
    if isinstance(t, mi.DateTimeType):
        return aware_datetimes if t.tz is not False else st.datetimes()
    if isinstance(t, mi.ListType):
        low = t.min_length or 0
        return st.lists(strategy_for(t.item_type), min_size=low, max_size=max(low, 4))
    if isinstance(t, mi.DictType):
        return st.dictionaries(strategy_for(t.key_type), strategy_for(t.value_type), max_size=4)
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.EnumType):
        return st.sampled_from(list(t.cls))
    simple: dict[type[mi.Type], st.SearchStrategy[Any]] = {
        mi.NoneType: st.none(),
        mi.BoolType: st.booleans(),
        mi.AnyType: json_values,
        mi.FloatType: st.floats(allow_nan=False, allow_infinity=False),
        mi.UUIDType: st.uuids(),
    }
    if type(t) in simple:
        return simple[type(t)]
    raise NotImplementedError(f"add a strategy for {t!r}")


def envelopes(registry: Registry) -> st.SearchStrategy[Envelope | CommandEnvelope]:
    def for_type(name: str) -> st.SearchStrategy[Envelope | CommandEnvelope]:
        mt = registry.describe(name)
        payload = strategy_for(mi.type_info(mt.versions[mt.current]))
        common = {
            "type": st.just(name),
            "schema_version": st.just(mt.current),
            "actor": text,
            "workspace_id": st.none() | text,
            "correlation_id": text,
            "causation_id": st.none() | text,
            "payload": payload,
        }
        if mt.kind == "command":
            return st.builds(CommandEnvelope, command_id=text, issued_at=aware_datetimes, **common)
        return st.builds(
            Envelope,
            event_id=text,
            occurred_at=aware_datetimes,
            producer=text,
            stream_id=text,
            stream_position=st.integers(0, INT64),
            **common,
        )

    return st.sampled_from(registry.names()).flatmap(for_type)


def decode_anything(registry: Registry, data: bytes) -> None:
    for decode in (registry.decode_event, registry.decode_command):
        try:
            decode(data)
        except ContractError as exc:
            assert exc.code.startswith("contract.")
            assert str(exc)


@pytest.fixture(scope="module")
def registry(full_registry: Registry) -> Registry:
    return full_registry


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_contract_errors(registry: Registry, data: bytes) -> None:
    decode_anything(registry, data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=json_values)
def test_arbitrary_json_only_raises_contract_errors(registry: Registry, doc: Any) -> None:
    decode_anything(registry, msgspec.json.encode(doc))


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(FIXTURE_DOCS),
    in_payload=st.booleans(),
    delete=st.booleans(),
    value=json_values,
    data=st.data(),
)
def test_mutated_envelopes_only_raise_contract_errors(
    registry: Registry,
    base: dict[str, Any],
    in_payload: bool,
    delete: bool,
    value: Any,
    data: st.DataObject,
) -> None:
    """One field of a real envelope (or of its payload) removed, retyped, or added."""
    doc = dict(base)
    where = doc
    if in_payload and isinstance(doc["payload"], dict):
        where = doc["payload"] = dict(doc["payload"])
    key = data.draw(st.sampled_from(sorted(where)) | text if where else text)
    if delete:
        where.pop(key, None)
    else:
        where[key] = value
    decode_anything(registry, msgspec.json.encode(doc))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_envelopes_round_trip(registry: Registry, data: st.DataObject) -> None:
    env = data.draw(envelopes(registry))
    # Hypothesis draws a string for a pattern and its length limit separately, so it may draw one
    # the contract itself refuses (a dotted code longer than 80): not an envelope to round-trip.
    try:
        msgspec.convert(msgspec.to_builtins(env.payload), type(env.payload))
    except msgspec.ValidationError:
        reject()
    if isinstance(env, Envelope):
        encoded = registry.encode_event(env)
        assert registry.decode_event(encoded) == env
        assert registry.encode_event(registry.decode_event(encoded)) == encoded
    else:
        encoded = registry.encode_command(env)
        assert registry.decode_command(encoded) == env
        assert registry.encode_command(registry.decode_command(encoded)) == encoded


def test_fixture_documents_were_found() -> None:
    assert len(FIXTURE_DOCS) >= 8
