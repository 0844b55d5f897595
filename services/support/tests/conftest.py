from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_contracts import CommandAccepted
from plutarc_contracts import support as s
from plutarc_runtime.service import ServiceSpec
from plutarc_support.bootstrap import build
from plutarc_support.settings import SupportSettings
from plutarc_testkit.harness import Harness
from plutarc_testkit.identity_events import workspace_events

ALICE, BOB, CAROL, OP = "user:alice", "user:bob", "user:carol", "user:op"


@pytest.fixture(scope="session")
def policy() -> RegoEngine:
    return RegoEngine()


class Support(Harness):
    """The support service from its bootstrap on a real store, without Kafka: alice owns `ws`
    where bob is a viewer, carol owns `other`, and `op` is an operator in no workspace."""

    def __init__(
        self, spec: ServiceSpec, ws: str, other: str, *, fresh: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(spec, **kwargs)
        self.ws, self.other = ws, other
        self.where = kwargs
        if fresh:
            self.ok("system:cli", s.GrantOperator(user_id="op"))

    def restart(self) -> Support:
        """The same service started again on the same store and clock: a new process."""
        self.close()
        spec = build(self.settings, memberships=self.memberships, adapters={})
        again = Support(spec, self.ws, self.other, fresh=False, **self.where)
        again.settings, again.memberships, again.made = self.settings, self.memberships, self.made
        self.made.append(again)
        return again

    settings: SupportSettings
    memberships: Memberships
    made: list[Support]

    def open(self, actor: str = ALICE, ws: str | None = None, **fields: Any) -> str:
        ticket_id = str(uuid4())
        payload = {
            "workspace_id": ws or self.ws,
            "ticket_id": ticket_id,
            "subject": "Bot stopped",
            "body": "It stopped at 03:00.",
            "category": "bots",
            "priority": "high",
            **fields,
        }
        self.ok(actor, s.OpenTicket(**payload))
        return ticket_id

    def post(
        self, actor: str, ticket_id: str, body: str = "hello", side: str = "user"
    ) -> CommandAccepted:
        return self.ok(
            actor,
            s.PostMessage(
                workspace_id=self.ws,
                ticket_id=ticket_id,
                message_id=str(uuid4()),
                body=body,
                side=side,  # type: ignore[arg-type]
            ),
        )

    def status(self, actor: str, ticket_id: str, status: str) -> CommandAccepted:
        return self.ok(
            actor,
            s.ChangeTicketStatus(workspace_id=self.ws, ticket_id=ticket_id, status=status),  # type: ignore[arg-type]
        )

    def of(self, ticket_id: str, prefix: str = "support.") -> list[str]:
        return [
            e.type
            for e in self.events(prefix)
            if getattr(e.payload, "ticket_id", None) == ticket_id
        ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_support(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, policy: RegoEngine
) -> Iterator[Any]:
    made: list[Support] = []

    def make(**settings: Any) -> Support:
        memberships = Memberships(policy)
        ws, other = str(uuid4()), str(uuid4())
        for env in workspace_events(ws, {"alice": "owner", "bob": "viewer"}):
            memberships.apply(env)
        for env in workspace_events(other, {"carol": "owner"}):
            memberships.apply(env)
        kwargs: dict[str, Any] = {"sqlite_path": tmp_path / f"s-{uuid4().hex[:6]}.sqlite"}
        if backend == "postgres":
            pg = request.getfixturevalue("postgres_server")
            kwargs = {"database_url": pg.create_database(f"sup_{uuid4().hex[:10]}")}
        config = SupportSettings(**settings)
        spec = build(config, memberships=memberships, adapters={})
        support = Support(spec, ws, other, **kwargs)
        support.settings, support.memberships, support.made = config, memberships, made
        made.append(support)
        return support

    yield make
    for support in made:
        support.close()  # closing twice (after a restart) is harmless


@pytest.fixture
def support(make_support: Any) -> Support:
    return make_support()  # type: ignore[no-any-return]
