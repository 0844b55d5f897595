"""`plutarc support tickets|queue|notes|stats`: support tickets through the gateway API.

Members open, list, read, answer and close their workspace's tickets (`support:read`,
`support:create`); operators (`--operator`, or the operator-only commands `queue`, `notes` and
`stats`) reach every workspace's tickets. Output, errors and exit codes as in `client_cmd`:
tables for people, ``--json`` for scripts, one ``error: <code>: <detail>`` line on failure.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from . import support_client as api
from .calls import _printed_json, _with_workspace
from .client_cmd import (
    ApiOpt,
    JsonOpt,
    WorkspaceOpt,
    _handles_errors,
    _json,
    _out,
    _session,
    _shown,
    _usage,
    _when,
    _workspace,
)

tickets_app = typer.Typer(no_args_is_help=True, help="Support tickets of a workspace.")
notes_app = typer.Typer(no_args_is_help=True, help="Internal notes on tickets (operators only).")


class Category(StrEnum):
    account = "account"
    billing = "billing"
    bots = "bots"
    exchange_connections = "exchange_connections"
    compute = "compute"
    other = "other"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Status(StrEnum):
    open = "open"
    waiting_on_user = "waiting_on_user"
    resolved = "resolved"
    closed = "closed"


TicketArg = Annotated[str, typer.Argument(metavar="TICKET_ID", help="The ticket's id.")]
BodyOpt = Annotated[
    str | None,
    typer.Option("--body", "-m", help="The text; `-` or left out: read it from stdin."),
]
OperatorOpt = Annotated[
    bool,
    typer.Option("--operator", help="As a support operator: any workspace's ticket."),
]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=200, help="At most this many.")]


def _text(body: str | None) -> str:
    text = sys.stdin.read() if body in (None, "-") else body
    assert text is not None
    if not text.strip():
        _usage("the text is empty: give --body TEXT or pipe it on stdin")
    return text


def _tickets_table(tickets: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in ("TICKET", "STATUS", "PRIORITY", "CATEGORY", "OPENED", "ASSIGNEE", "SUBJECT"):
        table.add_column(column, no_wrap=column != "SUBJECT")
    for t in tickets:
        table.add_row(
            _shown(t["ticket_id"]),
            _shown(t["status"]),
            _shown(t["priority"]),
            _shown(t["category"]),
            _shown(_when(t["opened_at"])),
            _shown(t["assignee"] or "-"),
            _shown(t["subject"]),
        )
    return table


def _show_ticket(t: dict[str, Any]) -> None:
    out = _out()
    out.print(f"[bold]{_shown(t['subject'])}[/]  ({_shown(t['ticket_id'])})")
    out.print(
        f"{_shown(t['status'])}, {_shown(t['priority'])}, {_shown(t['category'])}; "
        f"opened {_shown(_when(t['opened_at']))} by {_shown(t['opened_by'])}; "
        f"assignee {_shown(t['assignee'] or '-')}"
    )
    if t.get("follow_up_of"):
        out.print(f"Follow-up of {_shown(t['follow_up_of'])}.")
    out.print("")
    out.print(_shown(t["body"]))
    for m in t.get("thread", []):
        out.print("")
        out.print(
            f"[bold]{_shown(m['side'])} {_shown(m['author'])}[/], {_shown(_when(m['posted_at']))}:"
        )
        out.print(_shown(m["body"]))


@tickets_app.command("list")
@_handles_errors
def list_tickets(
    status: Annotated[Status | None, typer.Option("--status", help="Only this status.")] = None,
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The current workspace's tickets (or --workspace), newest first."""
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)
        page = api.list_tickets(
            ctx.client, ws["workspace_id"], status=status.value if status else None, limit=limit
        )
    if as_json:
        _json(page)
        return
    _out().print(_tickets_table(page["tickets"], f"Support tickets of {_shown(ws['name'])}"))
    if page["next_cursor"]:
        _out().print("[dim]More tickets: raise --limit, or filter with --status.[/]")


@tickets_app.command("show")
@_handles_errors
def show(
    ticket_id: TicketArg,
    operator: OperatorOpt = False,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A ticket with its thread."""
    with _session(api_url) as ctx:
        ws = None if operator else _workspace(ctx, workspace)["workspace_id"]
        t = api.ticket(ctx.client, ws, ticket_id.strip())
    if as_json:
        _json(t)
        return
    _show_ticket(t)


@tickets_app.command("open")
@_handles_errors
def open_ticket(
    subject: Annotated[str, typer.Option("--subject", "-s", help="One line, 1-200 characters.")],
    category: Annotated[Category, typer.Option("--category", "-c", help="What it is about.")],
    priority: Annotated[Priority, typer.Option("--priority", "-p")] = Priority.normal,
    body: BodyOpt = None,
    bot: Annotated[list[str] | None, typer.Option("--bot", help="A bot it is about.")] = None,
    host: Annotated[list[str] | None, typer.Option("--host", help="A host it is about.")] = None,
    order: Annotated[
        list[str] | None, typer.Option("--order", help="An order it is about.")
    ] = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a ticket in the current workspace (or --workspace); the text comes from --body or stdin."""
    text = _text(body)
    request = {
        "subject": subject,
        "body": text,
        "category": category.value,
        "priority": priority.value,
        "links": {"bot_ids": bot or [], "host_ids": host or [], "order_ids": order or []},
    }
    ws, t = _with_workspace(
        api_url, workspace, lambda client, ws_id: api.open_ticket(client, ws_id, request)
    )
    if _printed_json(t, as_json):
        return
    _out().print(
        f"Opened ticket {_shown(t['ticket_id'])} in {_shown(ws['name'])} "
        f"({_shown(t['priority'])}, {_shown(t['category'])})."
    )


@tickets_app.command("reply")
@_handles_errors
def reply(
    ticket_id: TicketArg,
    body: BodyOpt = None,
    operator: OperatorOpt = False,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write in a ticket. A reply to a finished ticket reopens it, or opens a follow-up."""
    text = _text(body)
    with _session(api_url) as ctx:
        ws = None if operator else _workspace(ctx, workspace)["workspace_id"]
        t = api.reply(ctx.client, ws, ticket_id.strip(), text)
    if as_json:
        _json(t)
        return
    if t["ticket_id"] != ticket_id.strip():
        _out().print(f"Opened follow-up ticket {_shown(t['ticket_id'])}.")
    else:
        _out().print(f"Replied; the ticket is {_shown(t['status'])}.")


@tickets_app.command("close")
@_handles_errors
def close(
    ticket_id: TicketArg,
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Mark it resolved rather than closed.")
    ] = False,
    status: Annotated[
        Status | None, typer.Option("--status", help="Operators: set any status.")
    ] = None,
    operator: OperatorOpt = False,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close (or --resolved) an active ticket; operators set any --status with --operator."""
    if status is not None and not operator:
        _usage("--status is for operators (add --operator); members close or resolve")
    wanted = status.value if status else ("resolved" if resolved else "closed")
    with _session(api_url) as ctx:
        ws = None if operator else _workspace(ctx, workspace)["workspace_id"]
        t = api.set_status(ctx.client, ws, ticket_id.strip(), wanted)
    if as_json:
        _json(t)
        return
    _out().print(f"Ticket {_shown(t['ticket_id'])} is {_shown(t['status'])}.")


@tickets_app.command("assign")
@_handles_errors
def assign(
    ticket_id: TicketArg,
    operator_id: Annotated[
        str, typer.Argument(metavar="OPERATOR", help="An operator's user id, or `me`.")
    ],
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign a ticket to an operator (operators only)."""
    with _session(api_url) as ctx:
        who = ctx.client.me()["user_id"] if operator_id.strip() == "me" else operator_id.strip()
        t = api.assign(ctx.client, ticket_id.strip(), who)
    if as_json:
        _json(t)
        return
    _out().print(f"Ticket {_shown(t['ticket_id'])} is assigned to {_shown(t['assignee'])}.")


_KINDS = {
    "operator_reply": "an operator replied",
    "auto_close_warning": "closes for inactivity",
    "auto_closed": "closed for inactivity",
}


@_handles_errors
def notifications(limit: LimitOpt = 50, api_url: ApiOpt = None, as_json: JsonOpt = False) -> None:
    """Your notifications about tickets you opened, newest first."""
    with _session(api_url) as ctx:
        page = api.notifications(ctx.client, limit=limit)
    if as_json:
        _json(page)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("WHEN", "TICKET", "WHAT", "SUBJECT"):
        table.add_column(column, no_wrap=column != "SUBJECT")
    for n in page["notifications"]:
        what = _KINDS.get(n["kind"], n["kind"])
        if n["kind"] == "auto_close_warning":
            what += f" {_when(n['detail'].get('closes_at'))}"
        table.add_row(
            _shown(_when(n["at"])), _shown(n["ticket_id"]), _shown(what), _shown(n["subject"])
        )
    _out().print(table)


@_handles_errors
def queue(
    assignee: Annotated[
        str | None,
        typer.Option("--assignee", help="`me`, `none` (unassigned) or an operator's user id."),
    ] = None,
    limit: LimitOpt = 50,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The operators' queue: tickets waiting on operators, most urgent first, then oldest."""
    with _session(api_url) as ctx:
        page = api.queue(ctx.client, assignee=assignee, limit=limit)
    if as_json:
        _json(page)
        return
    _out().print(_tickets_table(page["tickets"], "Support queue"))


@notes_app.command("list")
@_handles_errors
def list_notes(ticket_id: TicketArg, api_url: ApiOpt = None, as_json: JsonOpt = False) -> None:
    """A ticket's internal notes, oldest first."""
    with _session(api_url) as ctx:
        found = api.notes(ctx.client, ticket_id.strip())
    if as_json:
        _json(found)
        return
    out = _out()
    if not found:
        out.print("No internal notes.")
    for n in found:
        out.print(f"[bold]{_shown(n['author'])}[/], {_shown(_when(n['added_at']))}:")
        out.print(_shown(n["body"]))


@notes_app.command("add")
@_handles_errors
def add_note(
    ticket_id: TicketArg, body: BodyOpt = None, api_url: ApiOpt = None, as_json: JsonOpt = False
) -> None:
    """Write an internal note: operators read it, the ticket's users never do."""
    text = _text(body)
    with _session(api_url) as ctx:
        note = api.add_note(ctx.client, ticket_id.strip(), text)
    if as_json:
        _json(note)
        return
    _out().print(f"Added an internal note to {_shown(ticket_id.strip())}.")


@_handles_errors
def stats(
    since: Annotated[
        str | None, typer.Option("--since", help="Tickets opened at or after (ISO 8601, zoned).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Tickets opened before (ISO 8601, zoned).")
    ] = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """First-response and resolution times per priority (default: the last 30 days)."""
    with _session(api_url) as ctx:
        found = api.stats(ctx.client, since, until)
    if as_json:
        _json(found)
        return
    table = Table(
        title=f"Support times, tickets opened {_shown(_when(found['since']))} to "
        f"{_shown(_when(found['until']))}",
        title_justify="left",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for column in ("PRIORITY", "OPENED", "ANSWERED", "RESOLVED", "FIRST RESPONSE", "RESOLUTION"):
        table.add_column(column, no_wrap=True)
    for p in found["priorities"]:
        table.add_row(
            _shown(p["priority"]),
            str(p["opened"]),
            str(p["responded"]),
            str(p["resolved"]),
            _summary(p["first_response_seconds"]),
            _summary(p["resolution_seconds"]),
        )
    _out().print(table)


def _duration(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _summary(s: dict[str, Any] | None) -> str:
    if not s:
        return "-"
    return f"median {_duration(s['median'])}, p90 {_duration(s['p90'])}"
