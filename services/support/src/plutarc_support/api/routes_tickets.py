"""A workspace's support tickets, for its members: open, list, read with the thread, reply,
resolve or close. `support:read` to read, `support:create` to write (docs/support.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from plutarc_api.deps import Access, PermissionRoute, Writes, allowed
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import support as s
from sqlalchemy import select

from . import queries
from .models import tickets
from .schemas import (
    MemberStatusIn,
    MessageIn,
    OpenTicketIn,
    Status,
    TicketDetailOut,
    TicketOut,
    TicketPage,
)

router = APIRouter(
    prefix="/v1", tags=["support"], responses=WRITE_ERRORS, route_class=PermissionRoute
)

TicketId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]
BASE = "/workspaces/{workspace_id}/support/tickets"


@router.post(BASE, status_code=201, response_model=TicketDetailOut)
async def open_ticket(
    workspace_id: str,
    body: OpenTicketIn,
    access: Annotated[Access, allowed("support:create")],
    write: Writes,
) -> TicketDetailOut:
    """Open a ticket; the operators see it in their queue at once."""
    ticket_id = write.derived_id("support-ticket")
    await write.send(
        s.OpenTicket(
            workspace_id=workspace_id,
            ticket_id=ticket_id,
            subject=body.subject,
            body=body.body,
            category=body.category,
            priority=body.priority,
            links=s.TicketLinks(
                bot_ids=body.links.bot_ids,
                host_ids=body.links.host_ids,
                order_ids=body.links.order_ids,
            ),
        ),
        workspace_id=workspace_id,
        key=ticket_id,
    )
    return await queries.detail(access.rt, ticket_id, workspace_id)


@router.get(BASE, response_model=TicketPage)
async def list_tickets(
    workspace_id: str,
    access: Annotated[Access, allowed("support:read")],
    status: Annotated[Status | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TicketPage:
    """The workspace's tickets, newest first, a page at a time."""
    query = select(tickets).where(tickets.c.workspace_id == workspace_id)
    if status is not None:
        query = query.where(tickets.c.status == status)
    return await queries.newest_first(access.rt, query, cursor, limit)


@router.get(BASE + "/{ticket_id}", response_model=TicketDetailOut)
async def read_ticket(
    workspace_id: str, ticket_id: TicketId, access: Annotated[Access, allowed("support:read")]
) -> TicketDetailOut:
    """A ticket with its public thread, oldest message first."""
    return await queries.detail(access.rt, ticket_id, workspace_id)


@router.post(BASE + "/{ticket_id}/messages", status_code=201, response_model=TicketDetailOut)
async def reply(
    workspace_id: str,
    ticket_id: TicketId,
    body: MessageIn,
    access: Annotated[Access, allowed("support:create")],
    write: Writes,
) -> TicketDetailOut:
    """Write in a ticket. A reply to a resolved or auto-closed ticket within the reopen period
    reopens it; later, or to a ticket closed by hand, it opens a follow-up ticket, which is what
    the answer shows then (its `follow_up_of` names this one)."""
    reply = await write.send(
        s.PostMessage(
            workspace_id=workspace_id,
            ticket_id=ticket_id,
            message_id=write.derived_id("support-message"),
            body=body.body,
            side="user",
        ),
        workspace_id=workspace_id,
        key=ticket_id,
    )
    landed = str(reply.result.get("ticket_id") or ticket_id)
    return await queries.detail(access.rt, landed, workspace_id)


@router.post(BASE + "/{ticket_id}/status", response_model=TicketOut)
async def set_status(
    workspace_id: str,
    ticket_id: TicketId,
    body: MemberStatusIn,
    access: Annotated[Access, allowed("support:create")],
    write: Writes,
) -> TicketOut:
    """Resolve or close an active ticket (write in it to reopen it)."""
    await write.send(
        s.ChangeTicketStatus(workspace_id=workspace_id, ticket_id=ticket_id, status=body.status),
        workspace_id=workspace_id,
        key=ticket_id,
    )
    return await queries.one(access.rt, ticket_id, workspace_id)
