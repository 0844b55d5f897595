"""Registration rules and lookups."""

from __future__ import annotations

import pickle
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from plutarc_contracts import (
    CommandAccepted,
    ContractError,
    Payload,
    RegistrationError,
    Registry,
    default_registry,
    register_system_types,
)
from plutarc_contracts.errors import CODES, REGISTRATION


class Thing(Payload, frozen=True, kw_only=True):
    thing_id: str


class ThingV2(Payload, frozen=True, kw_only=True):
    thing_id: str
    colour: str = "red"


class Custom:
    pass


def identity(data: dict[str, Any]) -> dict[str, Any]:
    return data


@pytest.mark.parametrize(
    "name",
    [
        "thing_created",  # no context
        "Identity.thing_created",
        "identity.ThingCreated",
        "identity.thing-created",
        "identity.thing__created",
        "identity.thing_created_",
        "identity._thing",
        "identity.1thing",
        "identity.thing.created",
        "identity.",
        ".thing",
        "identity.thing créé",
        "identity." + "x" * 200,
        "identity.thing_created\n",
    ],
)
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(RegistrationError) as info:
        Registry().register_event(name, {1: Thing})
    assert info.value.code == REGISTRATION
    assert "invalid event name" in str(info.value)


@pytest.mark.parametrize("name", ["identity.member_role_changed", "bots.v2_enabled", "a.b"])
def test_valid_names_are_accepted(name: str) -> None:
    registry = Registry()
    registry.register_event(name, {1: Thing})
    assert registry.type_name_of(Thing) == (name, 1)


def test_registering_the_same_name_twice_is_an_error() -> None:
    registry = Registry()
    registry.register_event("demo.thing_created", {1: Thing})
    with pytest.raises(RegistrationError, match="already registered"):
        registry.register_command("demo.thing_created", {1: ThingV2})


def test_one_class_cannot_serve_two_types_or_versions() -> None:
    registry = Registry()
    registry.register_event("demo.thing_created", {1: Thing})
    with pytest.raises(RegistrationError, match="Thing is already registered"):
        registry.register_event("demo.thing_removed", {1: Thing})
    with pytest.raises(RegistrationError, match="already registered"):
        Registry().register_event("demo.thing_moved", {1: Thing, 2: Thing}, {1: identity})


@pytest.mark.parametrize("versions", [{}, {2: Thing}, {1: Thing, 3: ThingV2}, {0: Thing}])
def test_versions_must_be_numbered_from_one_without_gaps(versions: dict[int, Any]) -> None:
    with pytest.raises(RegistrationError, match=r"versions must be numbered 1\.\.N"):
        Registry().register_event("demo.thing_created", versions)


@pytest.mark.parametrize(
    "upcasters",
    [None, {}, {2: identity}, {1: identity, 2: identity}, {1: "not callable"}],
)
def test_every_old_version_needs_exactly_one_upcaster(upcasters: Any) -> None:
    with pytest.raises(RegistrationError, match="upcaster"):
        Registry().register_event("demo.thing_created", {1: Thing, 2: ThingV2}, upcasters)


@pytest.mark.parametrize("cls", [dict, int, "Thing", SimpleNamespace])
def test_payload_classes_must_be_structs(cls: Any) -> None:
    with pytest.raises(RegistrationError, match=r"not a msgspec\.Struct"):
        Registry().register_event("demo.thing_created", {1: cls})


def test_array_like_and_unserialisable_payloads_are_refused() -> None:
    class AsArray(msgspec.Struct, array_like=True):
        x: int

    class AnyValue(msgspec.Struct):
        value: Any
        values: dict[str, list[Any]]

    class Unserialisable(msgspec.Struct):
        items: list[tuple[int, Custom | None]]

    class WithCustom(msgspec.Struct):
        custom: Custom

    class Unresolvable(msgspec.Struct):
        later: DefinedNowhere  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(RegistrationError, match="array_like"):
        Registry().register_event("demo.array_sent", {1: AsArray})
    Registry().register_event("demo.anything_sent", {1: AnyValue})
    for cls in (WithCustom, Unserialisable):
        with pytest.raises(RegistrationError, match="not JSON-serialisable: no codec for Custom"):
            Registry().register_event("demo.custom_sent", {1: cls})
    with pytest.raises(RegistrationError, match="DefinedNowhere"):
        Registry().register_event("demo.nothing_sent", {1: Unresolvable})


def test_context_qualifies_a_bare_name_and_checks_a_full_one() -> None:
    registry = Registry()
    registry.register_event("thing_created", {1: Thing}, context="demo")
    assert "demo.thing_created" in registry
    assert registry.context_of("demo.thing_created") == "demo"
    with pytest.raises(RegistrationError, match="not in context `other`"):
        registry.register_event("demo.thing_moved", {1: ThingV2}, context="other")
    with pytest.raises(RegistrationError, match="invalid context"):
        registry.register_event("thing_moved", {1: ThingV2}, context="Bad-Context")


def test_lookups(sample_registry: Registry, sample: SimpleNamespace) -> None:
    name = "sample.account_opened"
    assert sample_registry.current_version(name) == 3
    assert sample_registry.payload_class(name, 1) is sample.AccountOpenedV1
    assert sample_registry.type_name_of(sample.AccountOpenedV2) == (name, 2)
    assert sample_registry.event_names() == [name]
    assert sample_registry.command_names() == ["sample.open_account"]
    assert sample_registry.names() == [name, "sample.open_account"]
    assert sample_registry.is_event(name)
    assert not sample_registry.is_event("sample.open_account")
    assert sample_registry.is_command("sample.open_account")
    assert len(sample_registry) == 2
    assert sample_registry.describe(name).kind == "event"
    assert sorted(sample_registry.describe(name).upcasters) == [1, 2]


def test_lookup_failures_are_contract_errors(sample_registry: Registry) -> None:
    with pytest.raises(ContractError) as info:
        sample_registry.payload_class("sample.nothing_happened", 1)
    assert info.value.code == "contract.unknown_type"
    assert "`sample.nothing_happened`" in str(info.value)
    with pytest.raises(ContractError) as info:
        sample_registry.payload_class("sample.account_opened", 4)
    assert info.value.code == "contract.unknown_version"
    assert "unknown version 4 of `sample.account_opened` (known: 1..3)" in str(info.value)
    with pytest.raises(ContractError, match="Thing is not registered") as info:
        sample_registry.type_name_of(Thing)
    assert info.value.code == "contract.unknown_type"
    with pytest.raises(ContractError):
        sample_registry.is_event("sample.nothing_happened")


def test_a_frozen_registry_refuses_registration() -> None:
    registry = Registry().freeze()
    assert registry.frozen
    with pytest.raises(RegistrationError, match="frozen"):
        registry.register_event("demo.thing_created", {1: Thing})


def test_merge_combines_and_shares_identical_definitions(sample_registry: Registry) -> None:
    system = register_system_types(Registry())
    merged = default_registry().merge(system).merge(sample_registry)
    assert not merged.frozen
    assert set(merged.names()) == set(default_registry().names()) | set(sample_registry.names())
    assert merged.type_name_of(CommandAccepted) == ("system.command_accepted", 1)
    merged.register_event("demo.thing_created", {1: Thing})  # the copy is open; sources untouched
    assert "demo.thing_created" not in default_registry()


def test_merge_conflicts_are_errors() -> None:
    a, b = Registry(), Registry()
    a.register_event("demo.thing_created", {1: Thing})
    b.register_event("demo.thing_created", {1: ThingV2})
    with pytest.raises(RegistrationError, match="defined differently"):
        a.merge(b)
    c = Registry()
    c.register_event("demo.thing_made", {1: Thing})
    with pytest.raises(RegistrationError, match="registered as both"):
        a.merge(c)


def test_contract_errors_survive_pickling() -> None:
    err = ContractError("contract.missing_field", "missing `payload.x`", path="payload.x")
    back = pickle.loads(pickle.dumps(err))
    assert (back.code, back.message, back.path) == (err.code, err.message, err.path)
    reg = pickle.loads(pickle.dumps(RegistrationError("nope")))
    assert isinstance(reg, RegistrationError)
    assert reg.code == REGISTRATION
    assert REGISTRATION in CODES
