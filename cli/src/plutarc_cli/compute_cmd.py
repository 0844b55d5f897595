"""`plutarc hosts`, `plutarc host`, `plutarc wake`, `plutarc usage` and `plutarc sleep-policy ...`:
the bots' hosts, their state and next wake, the usage statement and the sleep policy through the
gateway API (docs/compute-api.md#command-line).

Output, errors and exit codes as in `client_cmd`: tables for people, ``--json`` for scripts, one
``error: <code>: <detail>`` line on failure (exit 2 for a wrong command line).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from . import compute_client as api
from .calls import _in_workspace, _printed_json, _with_workspace
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

sleep_policy_app = typer.Typer(
    no_args_is_help=True, help="How long a bot still exposed at its window's end keeps its host."
)

BotArg = Annotated[str, typer.Argument(metavar="BOT_ID", help="The bot's id.")]
MAX_MINUTES = 7 * 24 * 60


class State(StrEnum):
    new = "new"
    waking = "waking"
    running = "running"
    draining = "draining"
    asleep = "asleep"
    failed = "failed"
    released = "released"


def _hosts_table(items: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("BOT", "STATE", "PROVIDER", "SIZE", "ADDRESS", "NEXT WAKE", "WINDOW"):
        table.add_column(column, no_wrap=True)
    for h in items:
        window = h.get("window")
        span = "-"
        if window:
            end = _when(window["ends_at"]) if window["ends_at"] else "always on"
            span = f"{_when(window['starts_at'])} → {end}"
        state = h["state"] + (" (deferred)" if h.get("deferred") else "")
        table.add_row(
            _shown(h["bot_id"]),
            _shown(state),
            _shown(h["provider"] or "-"),
            _shown(h["size"] or "-"),
            _shown(h["address"] or "-"),
            _shown(_when(h["next_wake_at"])),
            _shown(span),
        )
    return table


@_handles_errors
def hosts(
    state: Annotated[
        State | None, typer.Option("--state", help="Only hosts in this state.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="At most this many.")] = 200,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The workspace's bots' hosts: state, provider, size, address and next wake."""
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)
        page = api.list_hosts(
            ctx.client, ws["workspace_id"], state=state.value if state else None, limit=limit
        )
    if as_json:
        _json(page)
        return
    _out().print(_hosts_table(page["items"]))
    if page.get("next_cursor"):
        _out().print(f"(more than {limit}: use --json to page, or narrow with --state)")


@_handles_errors
def host(
    bot_id: BotArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A bot's host: state, address, next wake, its planned window, a deferred sleep, misses."""
    found = _in_workspace(api_url, workspace, lambda client, ws: api.host(client, ws, bot_id))
    if _printed_json(found, as_json):
        return
    out = _out()
    out.print(_hosts_table([found]))
    window = found.get("window")
    if window:
        end = _when(window["ends_at"]) if window["ends_at"] else "always on"
        out.print(
            f"window: {_shown(_when(window['starts_at']))} → {_shown(end)} "
            f"({_shown(window.get('time_zone') or 'UTC')}), woken at "
            f"{_shown(_when(window['wake_at']))}"
        )
    deferred = found.get("deferred")
    if deferred:
        deadline = _when(deferred["deadline"]) if deferred["deadline"] else "when flat"
        out.print(
            f"[bold yellow]sleep deferred[/]: {_shown(deferred['reason'])}, released by "
            f"{_shown(deadline)}"
        )
    if found.get("last_error"):
        out.print(f"last error: {_shown(found['last_error'])}")
    for miss in found.get("misses", []):
        out.print(
            f"[bold red]missed[/] the window of {_shown(_when(miss['window_starts_at']))} "
            f"(host {_shown(miss['state'])})"
        )


@_handles_errors
def wake(
    bot_id: BotArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Wake a bot's host now, outside its windows if need be."""
    out = _in_workspace(api_url, workspace, lambda client, ws: api.wake(client, ws, bot_id))
    if _printed_json(out, as_json):
        return
    _out().print(f"wake requested for {_shown(bot_id)}: now {_shown(out['state'])}")


def _instant(value: str, name: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or date and time (UTC unless a zone is given)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _usage(f"{name} `{value}` is not a date (2026-12-01) or a time (2026-12-01T08:00Z)")
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _usage_table(statement: dict[str, Any]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", show_footer=True)
    total = statement["total"]
    columns = [
        ("BOT", "bot_id", "TOTAL"),
        ("PROVIDER", "provider", ""),
        ("SIZE", "size", ""),
        ("COMPUTE H", "compute_hours", total["compute_hours"]),
        ("ADDRESS H", "address_hours", total["address_hours"]),
        ("COST", "cost", total["cost"]),
        ("ALWAYS-ON H", "always_on_hours", total["always_on_hours"]),
        ("ALWAYS-ON COST", "always_on_cost", total["always_on_cost"]),
        ("SAVED H", "saved_hours", total["saved_hours"]),
        ("SAVED", "saved_cost", total["saved_cost"]),
    ]
    for header, _key, footer in columns:
        numeric = header not in ("BOT", "PROVIDER", "SIZE")
        table.add_column(
            header,
            footer=_shown(footer),
            no_wrap=True,
            justify="right" if numeric else "left",
        )
    for line in statement["bots"]:
        cells = [_shown(line[key] if line[key] is not None else "-") for _h, key, _f in columns]
        if not line["priced"]:
            cells[5] += "*"
        table.add_row(*cells)
    return table


@_handles_errors
def usage(
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start (inclusive): a date or time, UTC unless zoned. "
            "Default: 30 days before --to.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to", help="End (exclusive): a date or time, UTC unless zoned. Default: now."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The usage statement of a period: per bot and in total, compute and address hours and
    their cost (USD), against an always-on host, and what sleeping saved."""
    until = _instant(end, "--to") if end else datetime.now(UTC).replace(microsecond=0)
    since = _instant(start, "--from") if start else until - timedelta(days=30)
    if since >= until:
        _usage("--from must be before --to")
    ws, statement = _with_workspace(
        api_url,
        workspace,
        lambda client, ws_id: api.usage(client, ws_id, since.isoformat(), until.isoformat()),
    )
    if _printed_json(statement, as_json):
        return
    out = _out()
    out.print(
        f"Usage of {_shown(ws['name'])} from {_shown(_when(statement['from']))} to "
        f"{_shown(_when(statement['to']))} (as of {_shown(_when(statement['as_of']))}), "
        f"in {_shown(statement['currency'])}"
    )
    out.print(_usage_table(statement))
    total = statement["total"]
    out.print(
        f"Sleeping saved {_shown(total['saved_hours'])} host hours and "
        f"{_shown(total['saved_cost'])} {_shown(statement['currency'])} against always-on."
    )
    if not total["priced"]:
        out.print("* a price was not in the table (or the bot never ran): counted as 0")


@sleep_policy_app.command("show")
@_handles_errors
def show_sleep_policy(
    workspace: WorkspaceOpt = None, api_url: ApiOpt = None, as_json: JsonOpt = False
) -> None:
    """The workspace's sleep policy."""
    found = _in_workspace(api_url, workspace, lambda client, ws: api.sleep_policy(client, ws))
    if _printed_json(found, as_json):
        return
    _out().print(_policy_line(found))


def _policy_line(found: dict[str, Any]) -> str:
    minutes = int(found["drain_deadline_minutes"])
    if minutes == 0:
        return "a bot still exposed at its window's end keeps its host until it is flat"
    return (
        f"a bot still exposed at its window's end keeps its host for at most {minutes} minutes, "
        "then it is released and you are told"
    )


@sleep_policy_app.command("set")
@_handles_errors
def set_sleep_policy(
    minutes: Annotated[
        str,
        typer.Argument(
            metavar="MINUTES",
            help=f"0 (never forced) to {MAX_MINUTES}: how long after the window's end at most.",
        ),
    ],
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set how long a bot still exposed at its window's end keeps its host at most."""
    if not minutes.isdigit() or int(minutes) > MAX_MINUTES:
        _usage(f"MINUTES `{minutes}` must be a whole number from 0 to {MAX_MINUTES}")
    found = _in_workspace(
        api_url, workspace, lambda client, ws: api.set_sleep_policy(client, ws, int(minutes))
    )
    if _printed_json(found, as_json):
        return
    _out().print(_policy_line(found))
