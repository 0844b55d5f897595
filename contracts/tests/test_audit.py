"""Audit declarations: secret fields per event type, as-of folds per context, and audit entries."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from plutarc_contracts import Envelope, Payload, RegistrationError, Registry, default_registry
from plutarc_contracts import identity as c
from plutarc_contracts.audit import REDACTED, audit_entry
from plutarc_contracts.audit_state import WorkspaceAsOf, WorkspaceAsOfFold
from plutarc_contracts.support import SECRET_FIELDS as SUPPORT_SECRETS

AT = datetime(2026, 11, 25, 10, tzinfo=UTC)


class KeyAdded(Payload, frozen=True, kw_only=True):
    key_id: str
    secret_hash: str
    previous_label: str
    label: str


class KeyAddedV2(Payload, frozen=True, kw_only=True):
    key_id: str
    digest: str


def fold(subject: str) -> WorkspaceAsOfFold:
    return WorkspaceAsOfFold(subject)


def test_secret_fields_are_declared_per_event_type_and_checked() -> None:
    registry = Registry()
    registry.register_event("vault.key_added", {1: KeyAdded}, secret_fields=["secret_hash"])
    assert registry.secret_fields("vault.key_added") == {"secret_hash"}
    with pytest.raises(RegistrationError, match="secret field `secret` is not a field"):
        Registry().register_event("vault.key_added", {1: KeyAdded}, secret_fields=["secret"])
    with pytest.raises(RegistrationError, match="not a field of its current version"):
        Registry().register_event(
            "vault.key_added",
            {1: KeyAdded, 2: KeyAddedV2},
            {1: lambda d: d},
            secret_fields=["secret_hash"],
        )


def test_merging_keeps_the_secret_fields_and_refuses_a_different_declaration() -> None:
    a, b = Registry(), Registry()
    a.register_event("vault.key_added", {1: KeyAdded}, secret_fields=["secret_hash"])
    b.register_event("vault.key_added", {1: KeyAdded})
    assert a.merge(a).secret_fields("vault.key_added") == {"secret_hash"}
    with pytest.raises(RegistrationError, match="defined differently"):
        a.merge(b)


def test_a_context_registers_one_as_of_fold() -> None:
    registry = Registry()
    assert registry.as_of_fold("vault") is None
    registry.register_as_of_fold("vault", fold)
    assert registry.as_of_fold("vault") is fold
    with pytest.raises(RegistrationError, match="has an as-of fold already"):
        registry.register_as_of_fold("vault", fold)
    with pytest.raises(RegistrationError, match="invalid context"):
        registry.register_as_of_fold("Vault", fold)
    with pytest.raises(RegistrationError, match="must be callable"):
        registry.register_as_of_fold("other", "fold")  # type: ignore[arg-type]
    other = Registry()
    other.register_as_of_fold("vault", WorkspaceAsOfFold)
    assert registry.merge(registry).as_of_fold("vault") is fold
    with pytest.raises(RegistrationError, match="two as-of folds"):
        registry.merge(other)
    with pytest.raises(RegistrationError, match="frozen"):
        registry.freeze().register_as_of_fold("bots", fold)


def test_identity_declares_every_hash_secret_and_a_workspace_fold() -> None:
    registry = default_registry()
    for name in registry.event_names():
        fields = registry.payload_class(name, registry.current_version(name)).__struct_fields__
        hashes = {f for f in fields if f.endswith("_hash")}
        declared = SUPPORT_SECRETS.get(name, frozenset())
        assert registry.secret_fields(name) == hashes | declared, name
    assert registry.secret_fields("identity.session_started") == {"token_hash"}
    assert registry.as_of_fold("identity") is WorkspaceAsOfFold
    assert registry.as_of_fold("system") is None


def test_an_audit_entry_redacts_the_declared_secret_fields_only() -> None:
    env = Envelope(
        event_id="e1",
        type="vault.key_added",
        schema_version=1,
        occurred_at=AT,
        producer="vault",
        stream_id="k1",
        stream_position=1,
        workspace_id="w1",
        actor="user:olivia",
        correlation_id="c1",
        causation_id=None,
        payload=KeyAdded(key_id="k1", secret_hash="abc", previous_label="old", label="new"),
    )
    entry = audit_entry(7, env, {"secret_hash"})
    assert (entry.position, entry.action, entry.target) == (7, "vault.key_added", "workspace:w1")
    assert entry.before == {"label": "old"}
    assert entry.after == {"key_id": "k1", "secret_hash": REDACTED, "label": "new"}
    assert audit_entry(7, env, ()).after["secret_hash"] == "abc"


def test_the_identity_fold_wants_the_workspace_and_registrations_only() -> None:
    f = WorkspaceAsOfFold("w1")
    assert f.wants("identity.user_registered", None)
    assert f.wants("identity.member_joined", "w1")
    assert not f.wants("identity.member_joined", "w2")

    def env(payload: msgspec.Struct, workspace_id: str | None) -> Envelope:
        name, version = default_registry().type_name_of(type(payload))
        return Envelope(
            event_id="e",
            type=name,
            schema_version=version,
            occurred_at=AT,
            producer="identity",
            stream_id="s",
            stream_position=1,
            workspace_id=workspace_id,
            actor="anonymous",
            correlation_id="c",
            causation_id=None,
            payload=payload,
        )

    f.apply(
        env(
            c.UserRegistered(
                user_id="u1", email="o@x.io", display_name="O", personal_workspace_id="p1"
            ),
            None,
        )
    )
    f.apply(
        env(
            c.WorkspaceCreated(
                workspace_id="w1", kind="organisation", name="Desk", created_by="u1"
            ),
            "w1",
        )
    )
    f.apply(
        env(c.MemberJoined(workspace_id="w1", user_id="u1", role="owner", via="creation"), "w1")
    )
    state = f.state(AT)
    assert isinstance(state, WorkspaceAsOf) and state.exists and state.name == "Desk"
    assert [(m.user_id, m.email, m.role) for m in state.members] == [("u1", "o@x.io", "owner")]
