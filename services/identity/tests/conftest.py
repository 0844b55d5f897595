from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import RegoEngine
from plutarc_contracts import CommandAccepted, CommandRejected, default_registry
from plutarc_contracts import identity as c
from plutarc_identity.handlers import IdentityHandlers
from plutarc_identity.service import STREAM_TYPES
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.commands import CommandOutcome, CommandProcessor, LocalDispatcher
from plutarc_runtime.settings import RuntimeSettings
from plutarc_runtime.store import EventStore

PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.fixture(scope="session")
def policy() -> RegoEngine:
    return RegoEngine()


@dataclass
class Identity:
    """The identity service's command path on a real store, without Kafka."""

    store: EventStore
    clock: FakeClock
    bus: LocalDispatcher
    emails: dict[str, str] = field(default_factory=dict)

    def send(self, actor: str, payload: Any) -> CommandAccepted | CommandRejected:
        return self.bus.send(actor, payload, workspace_id=getattr(payload, "workspace_id", None))

    def ok(self, actor: str, payload: Any) -> CommandAccepted:
        reply = self.send(actor, payload)
        assert isinstance(reply, CommandAccepted), reply
        return reply

    def rejected(self, actor: str, payload: Any, code: str) -> CommandRejected:
        """Expect a rejection with `code` that stored no domain event."""
        before = self.domain_events()
        reply = self.send(actor, payload)
        assert isinstance(reply, CommandRejected), f"expected {code}, got {reply}"
        assert reply.code == code, reply
        assert self.domain_events() == before, "a rejected command must not change anything"
        return reply

    def domain_events(self) -> list[tuple[str, int]]:
        return [
            (str(n.originator_id), n.originator_version)
            for n in self.store.notifications(1, 1_000_000)
            if not n.topic.startswith("system.")
        ]

    def register(self, name: str) -> tuple[str, str]:
        """A user and their personal workspace; returns (actor, user_id)."""
        user_id, personal = str(uuid4()), str(uuid4())
        email = f"{name}@example.com"
        self.ok(
            "anonymous",
            c.RegisterUser(
                user_id=user_id,
                personal_workspace_id=personal,
                email=email,
                display_name=name.title(),
                password_hash=PASSWORD_HASH,
            ),
        )
        self.emails[user_id] = email
        return f"user:{user_id}", user_id

    def organisation(self, owner: str, name: str = "Desk") -> str:
        workspace_id = str(uuid4())
        self.ok(owner, c.CreateOrganisation(workspace_id=workspace_id, name=name))
        return workspace_id

    def join(self, ws: str, inviter: str, user_id: str, role: str) -> None:
        invitation_id, secret = str(uuid4()), uuid4().hex
        self.ok(
            inviter,
            c.InviteMember(
                workspace_id=ws,
                invitation_id=invitation_id,
                email=self.emails[user_id],
                role=role,
                token_hash=token_hash(secret),
            ),
        )
        self.ok(
            f"user:{user_id}",
            c.AcceptInvitation(
                workspace_id=ws, invitation_id=invitation_id, token_hash=token_hash(secret)
            ),
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def make_identity(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, policy: RegoEngine
) -> Identity:
    kwargs: dict[str, Any] = {}
    if backend == "postgres":
        pg = request.getfixturevalue("postgres_server")
        kwargs["database_url"] = pg.create_database(f"id_{uuid4().hex[:12]}")
    else:
        kwargs["sqlite_path"] = tmp_path / f"identity-{uuid4().hex[:6]}.sqlite"
    clock = FakeClock()
    store = EventStore(
        name="identity",
        producer="identity",
        registry=default_registry(),
        clock=clock,
        stream_types=[*STREAM_TYPES, CommandOutcome],
        # as services run it: rejected commands (the property tests make many) must not leak
        # their half-made changes into the aggregates the next command loads
        aggregate_cache=RuntimeSettings().aggregate_cache,
        **kwargs,
    )
    handlers = IdentityHandlers(store, clock, policy).table()
    return Identity(
        store, clock, LocalDispatcher(CommandProcessor(store, default_registry(), handlers, clock))
    )


@pytest.fixture
def identity(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, policy: RegoEngine
) -> Iterator[Identity]:
    ident = make_identity(backend, tmp_path, request, policy)
    yield ident
    ident.store.close()
