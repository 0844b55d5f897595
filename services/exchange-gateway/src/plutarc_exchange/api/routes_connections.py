"""A workspace's venue connections: the gateway's sealing key, list, read, add (keys sealed before
anything else happens), remove (the key destroyed). `exchange_connections:*` permissions
(docs/exchange-api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from fastapi import APIRouter, Path, Query
from plutarc_api.deps import Access, PermissionRoute, Writes, allowed
from plutarc_api.paging import keyset_page
from plutarc_api.problems import Problem
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import exchange as x
from sqlalchemy import select

from ..sealing import Credentials, seal
from . import queries
from .models import connections
from .schemas import (
    AddConnectionIn,
    ConnectionOut,
    ConnectionPage,
    ConnectionRemovedOut,
    SealingKeyOut,
)

router = APIRouter(
    prefix="/v1", tags=["exchange"], responses=WRITE_ERRORS, route_class=PermissionRoute
)

ConnectionId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]
BASE = "/workspaces/{workspace_id}/connections"


@router.get("/workspaces/{workspace_id}/exchange/sealing-key", response_model=SealingKeyOut)
async def sealing_key(
    workspace_id: str, access: Annotated[Access, allowed("exchange_connections:read")]
) -> SealingKeyOut:
    """The gateway's public key: seal a venue's keys to it (a libsodium sealed box) so that only
    the gateway can read them."""
    return await queries.current_key(access.rt)


@router.get(BASE, response_model=ConnectionPage)
async def list_connections(
    workspace_id: str,
    access: Annotated[Access, allowed("exchange_connections:read")],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ConnectionPage:
    """The workspace's venue connections, newest first (never a secret)."""
    t = connections.c
    items, next_cursor = await keyset_page(
        access.rt.reader,
        select(connections).where(t.workspace_id == workspace_id),
        (t.added_at, t.connection_id),
        (datetime, str),
        cursor,
        limit,
        queries.connection_out,
        descending=True,
    )
    return ConnectionPage(items=items, next_cursor=next_cursor)


@router.get(BASE + "/{connection_id}", response_model=ConnectionOut)
async def read_connection(
    workspace_id: str,
    connection_id: ConnectionId,
    access: Annotated[Access, allowed("exchange_connections:read")],
) -> ConnectionOut:
    return await queries.connection(access.rt, workspace_id, connection_id)


def _sealed(body: AddConnectionIn, public_key: str) -> dict[x.Environment, str]:
    assert body.credentials is not None
    out: dict[x.Environment, str] = {}
    for environment, keys in body.credentials.items():
        try:
            credentials = msgspec.convert(keys.reveal(), Credentials)
        except msgspec.ValidationError:
            raise Problem(
                422,
                "request.invalid",
                f"the {environment} keys are not a venue's keys",
                errors=[{"field": f"credentials.{environment}", "message": "invalid"}],
            ) from None
        out[environment] = seal(public_key, credentials)
    return out


@router.post(BASE, status_code=201, response_model=ConnectionOut)
async def add_connection(
    workspace_id: str,
    body: AddConnectionIn,
    access: Annotated[Access, allowed("exchange_connections:manage")],
    write: Writes,
) -> ConnectionOut:
    """Add a venue connection with keys for live, testnet or both. Keys sent in clear
    (`credentials`) are sealed to the gateway's public key at once and then dropped; a client
    may seal them itself (`sealed` with `key_id`), as the CLI does."""
    key = await queries.current_key(access.rt)
    if body.credentials is not None:
        sealed, key_id = _sealed(body, key.public_key), key.key_id
        body.credentials = None
    else:
        assert body.sealed is not None and body.key_id is not None
        if body.key_id != key.key_id and not access.replay:
            raise Problem(
                422,
                "exchange.unknown_sealing_key",
                f"sealed to key {body.key_id}; the gateway's key is {key.key_id}: seal again",
                errors=[{"field": "key_id", "message": "not the gateway's current key"}],
            )
        sealed, key_id = dict(body.sealed.items()), body.key_id
    connection_id = write.derived_id("exchange-connection")
    await write.send(
        x.AddConnection(
            workspace_id=workspace_id,
            connection_id=connection_id,
            venue=body.venue,
            label=body.label,
            key_id=key_id,
            credentials=sealed,
        ),
        workspace_id=workspace_id,
        key=connection_id,
    )
    return await queries.connection(access.rt, workspace_id, connection_id)


@router.delete(BASE + "/{connection_id}", response_model=ConnectionRemovedOut)
async def remove_connection(
    workspace_id: str,
    connection_id: ConnectionId,
    access: Annotated[Access, allowed("exchange_connections:manage")],
    write: Writes,
) -> ConnectionRemovedOut:
    """Remove a connection: its data key is destroyed, so its keys can never be read again. The
    audit log shows who removed it."""
    if not access.replay:
        await queries.connection(access.rt, workspace_id, connection_id)
    reply = await write.send(
        x.RemoveConnection(workspace_id=workspace_id, connection_id=connection_id),
        workspace_id=workspace_id,
        key=connection_id,
    )
    return ConnectionRemovedOut(
        connection_id=connection_id, key_destroyed=bool(reply.result.get("key_destroyed", True))
    )
