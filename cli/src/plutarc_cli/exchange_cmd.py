"""`plutarc connections ...`, `plutarc orders ...`, `plutarc fills`, `plutarc positions` and `plutarc pnl`: venue
connections and a bot's trading through the gateway API (docs/exchange-api.md#command-line).

A venue's keys are never arguments (they would land in the shell's history): `connections add`
asks for them at a hidden prompt, or reads them as JSON from stdin with `--stdin`, and seals them
on this machine to the gateway's public key before sending. Output, errors and exit codes as in
`client_cmd`: tables for people, ``--json`` for scripts, one ``error: <code>: <detail>`` line on
failure.
"""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from typing import Annotated, Any, get_args

import typer
from plutarc_contracts.bots import Venue
from rich.table import Table

from . import exchange_client as api
from .bots_cmd import Mode
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

connections_app = typer.Typer(no_args_is_help=True, help="The workspace's venue connections.")
orders_app = typer.Typer(no_args_is_help=True, help="A bot's orders.")

VENUES: tuple[str, ...] = get_args(Venue)
AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,18})?$")
FIELDS = ("api_key", "secret", "password", "uid")


class Environment(StrEnum):
    live = "live"
    testnet = "testnet"


class Side(StrEnum):
    buy = "buy"
    sell = "sell"


class Status(StrEnum):
    open = "open"
    closed = "closed"
    partially_filled = "partially_filled"
    filled = "filled"
    cancelled = "cancelled"
    rejected = "rejected"


BotArg = Annotated[str, typer.Argument(metavar="BOT_ID", help="The bot's id.")]
OrderArg = Annotated[str, typer.Argument(metavar="ORDER_ID", help="The order's id.")]
ConnectionArg = Annotated[str, typer.Argument(metavar="CONNECTION_ID", help="The connection's id.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=200, help="At most this many.")]


# -- connections ------------------------------------------------------------------------------------
def _connections_table(items: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in ("CONNECTION", "VENUE", "LABEL", "ENVIRONMENTS", "KEY", "ADDED BY", "ADDED"):
        table.add_column(column, no_wrap=column != "LABEL")
    for c in items:
        table.add_row(
            _shown(c["connection_id"]),
            _shown(c["venue"]),
            _shown(c["label"]),
            _shown(", ".join(c["environments"])),
            _shown(c["fingerprint"]),
            _shown(c["added_by"]),
            _shown(_when(c["added_at"])),
        )
    return table


@connections_app.command("list")
@_handles_errors
def list_connections(
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The workspace's venue connections, newest first (never a secret)."""
    ws, page = _with_workspace(
        api_url, workspace, lambda client, ws_id: api.list_connections(client, ws_id, limit=limit)
    )
    if _printed_json(page, as_json):
        return
    _out().print(_connections_table(page["items"], f"Connections of {_shown(ws['name'])}"))


@connections_app.command("show")
@_handles_errors
def show_connection(
    connection_id: ConnectionArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One venue connection."""
    found = _in_workspace(
        api_url, workspace, lambda client, ws: api.connection(client, ws, connection_id)
    )
    if _printed_json(found, as_json):
        return
    _out().print(_connections_table([found], ""))


def _keys_from_stdin(environments: list[str]) -> dict[str, dict[str, str]]:
    try:
        value = json.loads(sys.stdin.read())
    except json.JSONDecodeError as exc:
        _usage(f"stdin is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    if not isinstance(value, dict) or not value:
        _usage('stdin must hold {"testnet": {"api_key": ..., "secret": ...}, "live": {...}}')
    keys: dict[str, dict[str, str]] = {}
    for env, found in value.items():
        if env not in ("live", "testnet"):
            _usage(f"`{env}` is not an environment: live or testnet")
        if not isinstance(found, dict) or set(found) - set(FIELDS):
            _usage(f"the {env} keys must be an object of {', '.join(FIELDS)}")
        keys[env] = _checked(env, {k: v for k, v in found.items() if v is not None})
    if environments and sorted(keys) != sorted(environments):
        _usage(f"stdin holds keys for {', '.join(sorted(keys))}, not {', '.join(environments)}")
    return keys


def _checked(env: str, keys: dict[str, Any]) -> dict[str, str]:
    for name in ("api_key", "secret"):
        if not isinstance(keys.get(name), str) or not keys[name].strip():
            _usage(f"the {env} {name.replace('_', ' ')} is empty")
    if any(not isinstance(v, str) or len(v) > 1024 for v in keys.values()):
        _usage(f"the {env} keys must be strings of at most 1024 characters")
    return {k: v.strip() for k, v in keys.items()}


def _prompted(environments: list[str], passphrase: bool, uid: bool) -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {}
    for env in environments:
        found = {
            "api_key": typer.prompt(f"{env} API key", hide_input=True, err=True),
            "secret": typer.prompt(f"{env} secret", hide_input=True, err=True),
        }
        if passphrase:
            found["password"] = typer.prompt(f"{env} passphrase", hide_input=True, err=True)
        if uid:
            found["uid"] = typer.prompt(f"{env} user id", hide_input=True, err=True)
        keys[env] = _checked(env, found)
    return keys


@connections_app.command("add")
@_handles_errors
def add_connection(
    venue: Annotated[str, typer.Argument(help=f"One of {', '.join(VENUES)}.")],
    label: Annotated[str, typer.Option("--label", help="A name people recognise it by.")],
    environment: Annotated[
        list[Environment] | None,
        typer.Option("--env", help="Keys for live, testnet (the default), or both (repeat)."),
    ] = None,
    passphrase: Annotated[
        bool, typer.Option("--passphrase", help="Also ask for the API passphrase (OKX, KuCoin).")
    ] = False,
    uid: Annotated[bool, typer.Option("--uid", help="Also ask for the account's user id.")] = False,
    stdin: Annotated[
        bool,
        typer.Option(
            "--stdin",
            help='Read the keys as JSON from stdin: {"testnet": {"api_key": ..., "secret": ...}}.',
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a venue connection. The keys are asked for at a hidden prompt (or read from stdin)
    and sealed on this machine to the gateway's public key: they never leave it in clear."""
    if venue not in VENUES:
        _usage(f"`{venue}` is not a venue: one of {', '.join(VENUES)}")
    if not label.strip():
        _usage("the label is empty")
    environments = sorted({e.value for e in environment or []})
    if stdin:
        keys = _keys_from_stdin(environments)
    else:
        keys = _prompted(environments or ["testnet"], passphrase, uid)
    made = _in_workspace(
        api_url,
        workspace,
        lambda client, ws: api.add_connection(client, ws, venue, label.strip(), keys),
    )
    if _printed_json(made, as_json):
        return
    _out().print(
        f"{_shown(made['connection_id'])} added: {_shown(made['venue'])} "
        f"({_shown(', '.join(made['environments']))}), key {_shown(made['fingerprint'])}"
    )


@connections_app.command("remove")
@_handles_errors
def remove_connection(
    connection_id: ConnectionArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a connection: its keys are destroyed and can never be read again."""
    out = _in_workspace(
        api_url, workspace, lambda client, ws: api.remove_connection(client, ws, connection_id)
    )
    if _printed_json(out, as_json):
        return
    destroyed = " and its key destroyed" if out.get("key_destroyed") else ""
    _out().print(f"{_shown(connection_id)} removed{destroyed}")


# -- orders -----------------------------------------------------------------------------------------
def _orders_table(items: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ORDER", "STATUS", "MODE", "SIDE", "TYPE", "QUANTITY", "PRICE", "FILLED"):
        table.add_column(column, no_wrap=True)
    table.add_column("CREATED")
    for o in items:
        status = o["status"] + (f" ({o['code']})" if o.get("code") else "")
        table.add_row(
            _shown(o["order_id"]),
            _shown(status),
            _shown(o["mode"] or "-"),
            _shown(o["side"] or "-"),
            _shown(o["type"] or "-"),
            _shown(o["quantity"] or "-"),
            _shown(o["price"] or "-"),
            _shown(o["filled"]),
            _shown(_when(o["created_at"])),
        )
    return table


def _fills_table(items: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("FILL", "ORDER", "SIDE", "QUANTITY", "PRICE", "FEE", "LIQUIDITY", "AT"):
        table.add_column(column, no_wrap=True)
    for f in items:
        table.add_row(
            _shown(f["fill_id"]),
            _shown(f["order_id"]),
            _shown(f["side"] or "-"),
            _shown(f["quantity"]),
            _shown(f["price"]),
            _shown(f"{f['fee']} {f['fee_currency']}"),
            _shown(f["liquidity"]),
            _shown(_when(f["at"])),
        )
    return table


@orders_app.command("list")
@_handles_errors
def list_orders(
    bot_id: BotArg,
    status: Annotated[
        Status | None, typer.Option("--status", help="open, closed, or one state.")
    ] = None,
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bot's orders, newest first."""
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)["workspace_id"]
        page = api.list_orders(
            ctx.client, ws, bot_id, status=status.value if status else None, limit=limit
        )
    if as_json:
        _json(page)
        return
    _out().print(_orders_table(page["items"]))


@orders_app.command("show")
@_handles_errors
def show_order(
    bot_id: BotArg,
    order_id: OrderArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An order and its fills."""
    found = _in_workspace(
        api_url, workspace, lambda client, ws: api.order(client, ws, bot_id, order_id)
    )
    if _printed_json(found, as_json):
        return
    _out().print(_orders_table([found]))
    if found.get("reason"):
        _out().print(f"reason: {_shown(found['reason'])}")
    if found["fills"]:
        _out().print(_fills_table(found["fills"]))


@orders_app.command("place")
@_handles_errors
def place(
    bot_id: BotArg,
    side: Annotated[Side, typer.Argument(help="buy or sell.")],
    quantity: Annotated[str, typer.Argument(help="In the base currency, e.g. 0.01.")],
    price: Annotated[
        str | None, typer.Option("--price", help="A limit order at this price.")
    ] = None,
    post_only: Annotated[
        bool, typer.Option("--post-only", help="Only rest on the book (limit).")
    ] = False,
    reduce_only: Annotated[
        bool, typer.Option("--reduce-only", help="Only reduce the position.")
    ] = False,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Place an order of the bot: a limit order with --price, else a market order.

    It goes where the bot's mode routes it (paper, testnet or live)."""
    for name, value in (("quantity", quantity), ("price", price)):
        if value is not None and not AMOUNT.fullmatch(value):
            _usage(f"the {name} `{value}` is not a positive decimal such as 0.01")
    if post_only and price is None:
        _usage("--post-only needs --price (only a limit order can be post-only)")
    body = {
        "side": side.value,
        "type": "limit" if price is not None else "market",
        "quantity": quantity,
        "price": price,
        "post_only": post_only,
        "reduce_only": reduce_only,
    }
    made = _in_workspace(api_url, workspace, lambda client, ws: api.place(client, ws, bot_id, body))
    if _printed_json(made, as_json):
        return
    _out().print(
        f"{_shown(made['order_id'])} {_shown(made['status'])}: {_shown(made['side'])} "
        f"{_shown(made['quantity'])} {_shown(made['symbol'])} on {_shown(made['mode'])}, "
        f"filled {_shown(made['filled'])}"
    )


@orders_app.command("cancel")
@_handles_errors
def cancel(
    bot_id: BotArg,
    order_id: OrderArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel an open order."""
    found = _in_workspace(
        api_url, workspace, lambda client, ws: api.cancel(client, ws, bot_id, order_id)
    )
    if _printed_json(found, as_json):
        return
    _out().print(f"{_shown(order_id)} {_shown(found['status'])}")


@orders_app.command("cancel-all")
@_handles_errors
def cancel_all(
    bot_id: BotArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel every open order of the bot."""
    out = _in_workspace(api_url, workspace, lambda client, ws: api.cancel_all(client, ws, bot_id))
    if _printed_json(out, as_json):
        return
    waiting = len(out["requested"]) - len(out["cancelled"])
    _out().print(f"{len(out['cancelled'])} cancelled, {waiting} awaiting the venue's answer")


@_handles_errors
def fills(
    bot_id: BotArg,
    order: Annotated[str | None, typer.Option("--order", help="Only this order's fills.")] = None,
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bot's fills, newest first."""
    page = _in_workspace(
        api_url,
        workspace,
        lambda client, ws: api.fills(client, ws, bot_id, order_id=order, limit=limit),
    )
    if _printed_json(page, as_json):
        return
    _out().print(_fills_table(page["items"]))


@_handles_errors
def positions(
    bot_id: BotArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bot's position, balances and PnL per mode, and any halt of new entries."""
    found = _in_workspace(api_url, workspace, lambda client, ws: api.positions(client, ws, bot_id))
    if _printed_json(found, as_json):
        return
    out = _out()
    out.print(f"bot {_shown(found['bot_id'])}, now in {_shown(found['mode'])} mode")
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("MODE", "SYMBOL", "POSITION", "AVG PRICE", "REALISED PNL", "FEES", "BALANCES"):
        table.add_column(column)
    for p in found["items"]:
        balances = ", ".join(
            f"{b['currency']} {b['free']}"
            + (f" (+{b['reserved']} reserved)" if b["reserved"] not in ("0", "0.0") else "")
            for b in p["balances"]
        )
        table.add_row(
            _shown(p["mode"]),
            _shown(p["symbol"]),
            _shown(p["quantity"]),
            _shown(p["average_price"]),
            _shown(p["realised_pnl"]),
            _shown(p["fees_paid"]),
            _shown(balances),
        )
    out.print(table)
    for p in found["items"]:
        halt = p.get("entries_halted")
        if halt:
            out.print(
                f"[bold red]{_shown(p['mode'])}: new entries halted[/] until "
                f"{_shown(_when(halt['until']))} (loss {_shown(halt['loss'])} over "
                f"{_shown(halt['threshold'])})"
            )


@_handles_errors
def pnl(
    bot_id: BotArg,
    mode: Annotated[
        Mode | None,
        typer.Option("--mode", help="This mode's PnL (default: the bot's mode now)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="The newest this many points.")
    ] = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bot's realised PnL over time (fees included): a point per fill, oldest first."""
    found = _in_workspace(
        api_url,
        workspace,
        lambda client, ws: api.pnl(
            client, ws, bot_id, mode=mode.value if mode else None, limit=limit
        ),
    )
    if _printed_json(found, as_json):
        return
    out = _out()
    out.print(
        f"bot {_shown(found['bot_id'])}, {_shown(found['mode'])} on {_shown(found['symbol'])}"
    )
    if not found["items"]:
        out.print("no fill yet: no PnL")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("AT", "REALISED PNL", "POSITION", "AVG PRICE", "FEES"):
        table.add_column(column, no_wrap=True)
    for point in found["items"]:
        table.add_row(
            _shown(_when(point["at"])),
            _shown(point["realised_pnl"]),
            _shown(point["quantity"]),
            _shown(point["average_price"]),
            _shown(point["fees_paid"]),
        )
    out.print(table)
