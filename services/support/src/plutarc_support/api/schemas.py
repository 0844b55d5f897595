"""Support's request and response bodies. Requests reject unknown fields; every field is typed
and bounded by the contract's limits (plutarc_contracts.support)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from plutarc_api.schemas import In
from plutarc_contracts import support as s
from plutarc_runtime.text import codepoint, first_unsafe
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

Category = Literal["account", "billing", "bots", "exchange_connections", "compute", "other"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "waiting_on_user", "resolved", "closed"]
MemberStatus = Literal["resolved", "closed"]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _one_line(value: str) -> str:
    found = first_unsafe(value)
    if found is not None:
        raise ValueError(
            f"must not contain control or format characters (it holds {codepoint(found)})"
        )
    return value


Subject = Annotated[
    str,
    StringConstraints(min_length=1, max_length=s.SUBJECT_MAX),
    AfterValidator(_not_blank),
    AfterValidator(_one_line),
]
Body = Annotated[
    str, StringConstraints(min_length=1, max_length=s.BODY_MAX), AfterValidator(_not_blank)
]
LinkIds = Annotated[list[Id], Field(max_length=s.LINKS_MAX)]


class LinksIn(In):
    bot_ids: LinkIds = Field(default_factory=list)
    host_ids: LinkIds = Field(default_factory=list)
    order_ids: LinkIds = Field(default_factory=list)


class OpenTicketIn(In):
    subject: Subject
    body: Body
    category: Category
    priority: Priority = "normal"
    links: LinksIn = Field(default_factory=LinksIn)


class MessageIn(In):
    body: Body


class MemberStatusIn(In):
    status: MemberStatus


class StatusIn(In):
    status: Status


class AssignIn(In):
    operator_id: Id


class NoteIn(In):
    body: Body


class LinksOut(BaseModel):
    bot_ids: list[str]
    host_ids: list[str]
    order_ids: list[str]


class TicketOut(BaseModel):
    ticket_id: str
    workspace_id: str
    opened_by: str
    subject: str
    category: Category
    priority: Priority
    status: Status
    assignee: str | None
    links: LinksOut
    follow_up_of: str | None
    follow_up_ticket_id: str | None
    opened_at: datetime
    updated_at: datetime
    last_public_message_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_seconds: float | None
    resolution_seconds: float | None
    messages: int
    workspace_name: str | None = None
    """The workspace's name as identity last said it (None until known)."""
    opened_by_name: str | None = None
    assignee_name: str | None = None
    """Display names, for the operators' pages and the customer's (None until known)."""


class MessageOut(BaseModel):
    message_id: str
    author: str
    author_name: str | None = None
    side: Literal["user", "operator"]
    body: str
    posted_at: datetime


class TicketDetailOut(TicketOut):
    body: str
    thread: list[MessageOut]


class TicketPage(BaseModel):
    tickets: list[TicketOut]
    next_cursor: str | None


class NoteOut(BaseModel):
    note_id: str
    ticket_id: str
    author: str
    author_name: str | None = None
    body: str
    added_at: datetime


class OperatorOut(BaseModel):
    user_id: str
    display_name: str | None
    """None while identity's registration of the user has not been read."""


class NotificationOut(BaseModel):
    position: int
    kind: Literal["operator_reply", "auto_close_warning", "auto_closed"]
    workspace_id: str
    ticket_id: str
    subject: str
    at: datetime
    detail: dict[str, Any]


class NotificationPage(BaseModel):
    notifications: list[NotificationOut]
    next_cursor: str | None


class Summary(BaseModel):
    """Seconds, over the tickets that have the time."""

    count: int
    mean: float
    median: float
    p90: float
    max: float


class PriorityStatsOut(BaseModel):
    priority: Priority
    opened: int
    responded: int
    resolved: int
    first_response_seconds: Summary | None
    resolution_seconds: Summary | None


class StatsOut(BaseModel):
    since: datetime
    until: datetime
    priorities: list[PriorityStatsOut]
