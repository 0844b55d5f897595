"""State the API's processes share and no event carries: the commands each caller issued (with
the fingerprint of the request that issued them, for Idempotency-Key), and the server key.

It lives in its own database (`<data_dir>/api-state.sqlite`, or the PostgreSQL URL), written by
every worker on the request path, apart from the read models a long projection batch may lock.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from plutarc_runtime.readmodels import upsert
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, delete, select
from sqlalchemy.engine import Connection

from .problems import Problem

metadata = MetaData()
issued = Table(
    "api_issued",
    metadata,
    Column("command_id", String(64), primary_key=True),
    Column("actor", String(120), nullable=False),
    Column("fingerprint", String(64), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)
secrets_table = Table(
    "api_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

KEY_REUSED = "request.idempotency_key_reused"


def record_issued(
    conn: Connection, command_id: str, actor: str, fingerprint: str | None, now: datetime
) -> None:
    """Remember who issued `command_id`; a key reused for another request is refused."""
    new = {"command_id": command_id, "actor": actor, "fingerprint": fingerprint, "issued_at": now}
    upsert(conn, issued, [new], ["command_id"], update=())
    row = conn.execute(
        select(issued.c.actor, issued.c.fingerprint).where(issued.c.command_id == command_id)
    ).one()
    if row.actor != actor or (fingerprint is not None and row.fingerprint != fingerprint):
        raise Problem(
            422,
            KEY_REUSED,
            "this Idempotency-Key was used for a different request; use a new key for a new request",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different request"}],
        )


def issued_row(conn: Connection, command_id: str) -> tuple[str, str | None] | None:
    """(actor, request fingerprint) of an issued command, or None."""
    row = conn.execute(
        select(issued.c.actor, issued.c.fingerprint).where(issued.c.command_id == command_id)
    ).first()
    return (row.actor, row.fingerprint) if row is not None else None


def purge_issued(conn: Connection, older_than: timedelta) -> int:
    cutoff = datetime.now(UTC) - older_than
    return conn.execute(delete(issued).where(issued.c.issued_at < cutoff)).rowcount


def server_key(engine: Engine, configured: str | None) -> bytes:
    """The key that derives the secrets of retried writes: PLUTARC_SECRET_KEY when set, else one
    made once and kept in the state database, so every worker, replica and restart on that
    database derives the same (working) secret for the same Idempotency-Key."""
    if configured:
        return configured.encode()
    with engine.begin() as conn:
        row = {"name": "derivation-key", "value": secrets.token_urlsafe(48)}
        upsert(conn, secrets_table, [row], ["name"], update=())
        value = conn.execute(
            select(secrets_table.c.value).where(secrets_table.c.name == "derivation-key")
        ).scalar_one()
    return str(value).encode()


RETENTION = timedelta(hours=24)
"""How long an Idempotency-Key is remembered (the IETF draft suggests at least 24 hours)."""
__all__ = ["RETENTION", "issued_row", "metadata", "purge_issued", "record_issued", "server_key"]
