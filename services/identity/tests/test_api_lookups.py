"""The API's reads on every request's path (bearer, role, grant, workspace row) answer alike on
SQLite (through sqlite3) and PostgreSQL (through SQLAlchemy), from rows written as the projections
write them (SQLAlchemy's types), and see each write committed before them."""

from __future__ import annotations

import dataclasses
import hashlib
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_api.caller import Caller
from plutarc_identity.api.lookups import IdentityLookups, SqliteLookups, WorkspaceRow, lookups_for
from plutarc_identity.api.models import (
    accounts_md,
    members,
    sessions,
    token_hashes,
    tokens,
    workspaces,
    workspaces_md,
)
from plutarc_runtime.readmodels import open_engine
from plutarc_testkit.postgres import PostgresServer
from sqlalchemy import Engine, insert, update

NOW = datetime.now(UTC).replace(microsecond=123456)
CREATED = datetime(2026, 3, 29, 1, 30, 0, 654321, tzinfo=UTC)
ALICE, BOB, WS, TOKEN_ID = "alice-id", "bob-id", "ws-1", "token-1"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = None
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"lookups_{uuid4().hex[:12]}")
    engine = open_engine(url, tmp_path / "api-readmodels.sqlite")
    accounts_md.create_all(engine)
    workspaces_md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(sessions),
            [
                {"session_id": "s-live", "token_hash": digest("pls_live"), "user_id": ALICE,
                 "expires_at": NOW + timedelta(hours=1)},
                {"session_id": "s-old", "token_hash": digest("pls_old"), "user_id": ALICE,
                 "expires_at": NOW - timedelta(seconds=1)},
            ],
        )  # fmt: skip
        conn.execute(
            insert(workspaces),
            {"workspace_id": WS, "kind": "organisation", "name": "Desk ✓", "created_at": CREATED,
             "archived": True, "risk": {"max_position": "5"}, "billing_contact": None},
        )  # fmt: skip
        conn.execute(insert(members), {"workspace_id": WS, "user_id": ALICE, "role": "admin"})
        conn.execute(
            insert(tokens),
            {"token_id": TOKEN_ID, "user_id": ALICE, "workspace_id": WS, "name": "ci",
             "permissions": ["workspace:read", "audit:read"],
             "expires_at": NOW + timedelta(days=1), "revoked": False},
        )  # fmt: skip
        conn.execute(insert(token_hashes), {"token_hash": digest("plt_ci"), "token_id": TOKEN_ID})
    yield engine
    engine.dispose()


@pytest.fixture
def lookups(engine: Engine) -> Iterator[IdentityLookups]:
    found = lookups_for(engine)
    yield found
    found.close()


def test_sqlite_reads_go_through_sqlite3_and_postgres_through_a_thread(
    engine: Engine, lookups: IdentityLookups
) -> None:
    assert isinstance(lookups, SqliteLookups) == (engine.dialect.name == "sqlite")
    assert lookups.inline == (engine.dialect.name == "sqlite")


def test_session_tokens(lookups: IdentityLookups) -> None:
    assert lookups.authenticate("pls_live") == Caller(ALICE, f"user:{ALICE}", session_id="s-live")
    assert lookups.authenticate("pls_old") is None  # expired
    assert lookups.authenticate("pls_unknown") is None
    assert lookups.authenticate("no prefix") is None


def test_personal_access_tokens(engine: Engine, lookups: IdentityLookups) -> None:
    caller = lookups.authenticate("plt_ci")
    assert caller is not None and caller.actor == f"token:{TOKEN_ID}"
    assert caller.token == lookups.grant(TOKEN_ID)
    grant = caller.token
    assert grant is not None
    assert (grant.user_id, grant.workspace_id, grant.revoked) == (ALICE, WS, False)
    assert grant.permissions == frozenset({"workspace:read", "audit:read"})
    assert grant.expires_at == NOW + timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(update(tokens).values(revoked=True))
    assert lookups.authenticate("plt_ci") is None  # the revocation is seen at once
    assert lookups.grant("no-such-token") is None


def test_roles_and_workspace_rows(engine: Engine, lookups: IdentityLookups) -> None:
    assert lookups.role_of(ALICE, WS) == "admin"
    assert lookups.role_of(BOB, WS) is None
    expected = WorkspaceRow(
        WS, "Desk ✓", "organisation", True, CREATED, {"max_position": "5"}, None, "admin"
    )
    assert lookups.workspace(WS, ALICE) == expected
    assert lookups.workspace(WS, BOB) == dataclasses.replace(expected, role=None)
    assert lookups.workspace("no-such-workspace", ALICE) is None
    with engine.begin() as conn:  # another connection writes, as the projector does
        conn.execute(insert(members), {"workspace_id": WS, "user_id": BOB, "role": "viewer"})
    assert lookups.role_of(BOB, WS) == "viewer"
    assert lookups.workspace(WS, BOB) == dataclasses.replace(expected, role="viewer")


def test_sqlite_lookups_never_create_the_file(tmp_path: Path) -> None:
    """The read models' engine creates it owner-only; a lookup before then fails, creating nothing."""
    lookups = SqliteLookups(tmp_path / "missing.sqlite")
    with pytest.raises(Exception, match="unable to open"):
        lookups.role_of(ALICE, WS)
    assert not (tmp_path / "missing.sqlite").exists()
    lookups.close()


def test_sqlite_lookups_only_read(tmp_path: Path) -> None:
    engine = open_engine(None, tmp_path / "api-readmodels.sqlite")
    workspaces_md.create_all(engine)
    lookups = SqliteLookups(tmp_path / "api-readmodels.sqlite")
    try:
        assert lookups.role_of(ALICE, WS) is None
        with pytest.raises(Exception, match="readonly"):
            lookups._conn().execute("DELETE FROM id_members")
        assert stat.S_IMODE((tmp_path / "api-readmodels.sqlite").stat().st_mode) == 0o600
    finally:
        lookups.close()
        engine.dispose()
