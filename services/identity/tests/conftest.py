from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import RegoEngine
from plutarc_contracts import identity as c
from plutarc_identity.bootstrap import build
from plutarc_identity.settings import IdentitySettings
from plutarc_runtime.service import ServiceSpec
from plutarc_runtime.settings import RuntimeSettings
from plutarc_testkit.harness import Harness

PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.fixture(scope="session")
def policy() -> RegoEngine:
    return RegoEngine()


class Identity(Harness):
    """The identity service built from its bootstrap on a real store, without Kafka."""

    def __init__(self, spec: ServiceSpec, **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        self.emails: dict[str, str] = {}

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
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    policy: RegoEngine,
    adapters: dict[str, Any] | None = None,
) -> Identity:
    kwargs: dict[str, Any] = {}
    if backend == "postgres":
        pg = request.getfixturevalue("postgres_server")
        kwargs["database_url"] = pg.create_database(f"id_{uuid4().hex[:12]}")
    else:
        kwargs["sqlite_path"] = tmp_path / f"identity-{uuid4().hex[:6]}.sqlite"
    spec = build(IdentitySettings(), adapters=adapters or {}, policy=policy)
    # as services run it, with the aggregate cache on: rejected commands (the property tests make
    # many) must not leak their half-made changes into the aggregates the next command loads
    return Identity(spec, aggregate_cache=RuntimeSettings().aggregate_cache, **kwargs)


@pytest.fixture
def identity(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, policy: RegoEngine
) -> Iterator[Identity]:
    ident = make_identity(backend, tmp_path, request, policy)
    yield ident
    ident.close()
