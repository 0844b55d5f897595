"""The operators' side: every workspace's tickets, the queue, replies, assignment (to any
operator, listed with their names), statuses, internal notes, and response and resolution times.
Every route is `operator` (plutarc_api.deps): a platform operator signed in as themselves.

Internal notes are read from the notes read model (the private topic `support.notes.v1`) here and
nowhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from plutarc_api.deps import Operator, PermissionRoute, Writes
from plutarc_api.problems import Problem
from plutarc_api.routes.core import need_zone
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import support as s
from plutarc_runtime.readmodels import aware
from sqlalchemy import select

from . import queries
from .directory import Names, people
from .models import notes, operators, tickets
from .schemas import (
    AssignIn,
    MessageIn,
    NoteIn,
    NoteOut,
    OperatorOut,
    StatsOut,
    Status,
    StatusIn,
    TicketDetailOut,
    TicketOut,
    TicketPage,
)

router = APIRouter(
    prefix="/v1/support",
    tags=["support operators"],
    responses=WRITE_ERRORS,
    route_class=PermissionRoute,
)

TicketId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/queue", response_model=TicketPage)
async def operator_queue(
    op: Operator,
    assignee: Annotated[
        str | None,
        Query(max_length=64, description="`me`, `none` (unassigned), or an operator's user id"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TicketPage:
    """Tickets waiting on the operators (status `open`), most urgent first, then oldest first."""
    query = select(tickets).where(tickets.c.status == "open")
    if assignee == "none":
        query = query.where(tickets.c.assignee.is_(None))
    elif assignee is not None:
        who = op.caller.user_id if assignee == "me" else assignee
        query = query.where(tickets.c.assignee == who)
    return await queries.queue(op.rt, query, cursor, limit)


@router.get("/tickets", response_model=TicketPage)
async def all_tickets(
    op: Operator,
    workspace_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[Status | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TicketPage:
    """Every workspace's tickets, newest first."""
    query = select(tickets)
    if workspace_id is not None:
        query = query.where(tickets.c.workspace_id == workspace_id)
    if status is not None:
        query = query.where(tickets.c.status == status)
    return await queries.newest_first(op.rt, query, cursor, limit)


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut)
async def any_ticket(ticket_id: TicketId, op: Operator) -> TicketDetailOut:
    return await queries.detail(op.rt, ticket_id)


@router.post("/tickets/{ticket_id}/messages", status_code=201, response_model=TicketDetailOut)
async def operator_reply(
    ticket_id: TicketId, body: MessageIn, op: Operator, write: Writes
) -> TicketDetailOut:
    """Answer the user: the ticket becomes `waiting_on_user`."""
    row = await queries.find(op.rt, ticket_id)
    await write.send(
        s.PostMessage(
            workspace_id=row.workspace_id,
            ticket_id=ticket_id,
            message_id=write.derived_id("support-message"),
            body=body.body,
            side="operator",
        ),
        workspace_id=row.workspace_id,
        key=ticket_id,
    )
    return await queries.detail(op.rt, ticket_id)


@router.put("/tickets/{ticket_id}/assignee", response_model=TicketOut)
async def assign(ticket_id: TicketId, body: AssignIn, op: Operator, write: Writes) -> TicketOut:
    """Assign the ticket to an operator (`support.unknown_operator` for anyone else)."""
    row = await queries.find(op.rt, ticket_id)
    await write.send(
        s.AssignTicket(
            workspace_id=row.workspace_id, ticket_id=ticket_id, operator_id=body.operator_id
        ),
        workspace_id=row.workspace_id,
        key=ticket_id,
    )
    return await queries.one(op.rt, ticket_id)


@router.post("/tickets/{ticket_id}/status", response_model=TicketOut)
async def operator_status(
    ticket_id: TicketId, body: StatusIn, op: Operator, write: Writes
) -> TicketOut:
    """Set any status."""
    row = await queries.find(op.rt, ticket_id)
    await write.send(
        s.ChangeTicketStatus(
            workspace_id=row.workspace_id, ticket_id=ticket_id, status=body.status
        ),
        workspace_id=row.workspace_id,
        key=ticket_id,
    )
    return await queries.one(op.rt, ticket_id)


def _note(row: Any, names: Names) -> NoteOut:
    return NoteOut(
        note_id=row.note_id,
        ticket_id=row.ticket_id,
        author=row.author,
        author_name=names.users.get(row.author),
        body=row.body,
        added_at=aware(row.added_at),
    )


@router.get("/operators", response_model=list[OperatorOut])
async def list_operators(op: Operator) -> list[OperatorOut]:
    """Every platform operator now, by name (a ticket can be assigned to any of them)."""
    rows = await op.rt.reader.all(
        select(operators.c.user_id, people.c.display_name)
        .outerjoin(people, people.c.user_id == operators.c.user_id)
        .where(operators.c.granted.is_(True))
    )
    found = [OperatorOut(user_id=r.user_id, display_name=r.display_name) for r in rows]
    return sorted(found, key=lambda o: ((o.display_name or "").casefold(), o.user_id))


@router.get("/tickets/{ticket_id}/notes", response_model=list[NoteOut])
async def list_notes(ticket_id: TicketId, op: Operator) -> list[NoteOut]:
    """The ticket's internal notes, oldest first. Operators only, here only."""
    await queries.find(op.rt, ticket_id)
    rows = await op.rt.reader.all(
        select(notes).where(notes.c.ticket_id == ticket_id).order_by(notes.c.position)
    )
    names = await Names.of(op.rt, [r.author for r in rows], [])
    return [_note(r, names) for r in rows]


@router.post("/tickets/{ticket_id}/notes", status_code=201, response_model=NoteOut)
async def add_note(ticket_id: TicketId, body: NoteIn, op: Operator, write: Writes) -> NoteOut:
    """Write an internal note: it goes to the private notes topic and never reaches the user."""
    row = await queries.find(op.rt, ticket_id)
    note_id = write.derived_id("support-note")
    await write.send(
        s.AddInternalNote(
            workspace_id=row.workspace_id, ticket_id=ticket_id, note_id=note_id, body=body.body
        ),
        workspace_id=row.workspace_id,
        key=ticket_id,
    )
    found = await op.rt.reader.one(
        select(notes).where(notes.c.ticket_id == ticket_id, notes.c.note_id == note_id)
    )
    if found is None:
        raise queries.not_found(ticket_id)
    return _note(found, await Names.of(op.rt, [found.author], []))


@router.get("/stats", response_model=StatsOut)
async def response_stats(
    op: Operator,
    since: Annotated[
        datetime | None, Query(description="tickets opened at or after (default: 30 days ago)")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="tickets opened before (default: now)")
    ] = None,
) -> StatsOut:
    """First-response and resolution times per priority, over the tickets opened in the period:
    first response is the first operator message; resolution the last resolve or close (a
    reopened ticket counts again once finished)."""
    need_zone("since", since)
    need_zone("until", until)
    try:
        end = (until or datetime.now(UTC)).astimezone(UTC)
        start = (since or end - timedelta(days=30)).astimezone(UTC)
    except OverflowError:
        raise Problem(
            422,
            "request.invalid",
            "the period is out of range",
            errors=[{"field": "since", "message": "out of range"}],
        ) from None
    return StatsOut(since=start, until=end, priorities=await queries.stats(op.rt, start, end))
