"""`plutarc strategies ...` and `plutarc bots ...`: the strategy library and bots through the
gateway API (docs/bots.md#command-line).

Specs and configurations are JSON documents (`--file PATH`, or `-` for stdin) in the API's shapes.
Output, errors and exit codes as in `client_cmd`: tables for people, ``--json`` for scripts, one
``error: <code>: <detail>`` line on failure.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from . import bots_client as api
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

strategies_app = typer.Typer(no_args_is_help=True, help="The workspace's strategy library.")
bots_app = typer.Typer(no_args_is_help=True, help="The workspace's bots.")


class Mode(StrEnum):
    paper = "paper"
    testnet = "testnet"
    live = "live"


class StartMode(StrEnum):
    paper = "paper"
    testnet = "testnet"


FileOpt = Annotated[
    str,
    typer.Option("--file", "-f", help="A JSON document; `-` reads it from stdin."),
]
StrategyArg = Annotated[str, typer.Argument(metavar="STRATEGY_ID", help="The strategy's id.")]
BotArg = Annotated[str, typer.Argument(metavar="BOT_ID", help="The bot's id.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=200, help="At most this many.")]
ExpectedOpt = Annotated[
    int | None,
    typer.Option("--expected-version", min=1, help="Only if this is still the latest version."),
]


def _document(path: str) -> dict[str, Any]:
    """The JSON object in `path` (or stdin); a usage error that names the problem otherwise."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        _usage(f"no such file: {path}")
    except (OSError, UnicodeDecodeError) as exc:
        _usage(f"cannot read {path}: {exc}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        _usage(f"{path} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    if not isinstance(value, dict):
        _usage(f"{path} must hold a JSON object, not {type(value).__name__}")
    return value


# -- strategies -------------------------------------------------------------------------------------
def _strategies_table(items: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in ("STRATEGY", "NAME", "VERSION", "UPDATED", "COPIED FROM"):
        table.add_column(column, no_wrap=column != "NAME")
    for s in items:
        origin = s.get("copied_from")
        table.add_row(
            _shown(s["strategy_id"]),
            _shown(s["name"]) + (" [dim](deleted)[/]" if s["deleted"] else ""),
            str(s["latest_version"]),
            _shown(_when(s["updated_at"])),
            _shown(f"{origin['strategy_id']} v{origin['version']}") if origin else "-",
        )
    return table


def _show_spec(spec: dict[str, Any]) -> None:
    out = _out()
    out.print(f"timeframe {_shown(spec['timeframe'])}")
    for c in spec["components"]:
        params = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(c["params"].items()))
        out.print(f"  {_shown(c['component'])}({_shown(params)})")


@strategies_app.command("list")
@_handles_errors
def list_strategies(
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The workspace's strategies, newest first."""
    ws, page = _with_workspace(
        api_url, workspace, lambda client, ws_id: api.list_strategies(client, ws_id, limit=limit)
    )
    if _printed_json(page, as_json):
        return
    _out().print(_strategies_table(page["items"], f"Strategies of {_shown(ws['name'])}"))


@strategies_app.command("show")
@_handles_errors
def show_strategy(
    strategy_id: StrategyArg,
    version: Annotated[int | None, typer.Option("--version", min=1, help="This version.")] = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A strategy and its latest version's spec (or --version N)."""
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)["workspace_id"]
        found = api.strategy(ctx.client, ws, strategy_id)
        shown = api.strategy_version(ctx.client, ws, strategy_id, version) if version else None
    if as_json:
        _json(shown or found)
        return
    out = _out()
    out.print(f"[bold]{_shown(found['name'])}[/]  ({_shown(found['strategy_id'])})")
    number = version or found["latest_version"]
    out.print(f"version {number} of {found['latest_version']}")
    _show_spec((shown or found)["spec"])


@strategies_app.command("versions")
@_handles_errors
def strategy_versions(
    strategy_id: StrategyArg,
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every version of a strategy, newest first."""
    page = _in_workspace(
        api_url,
        workspace,
        lambda client, ws: api.strategy_versions(client, ws, strategy_id, limit=limit),
    )
    if _printed_json(page, as_json):
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("VERSION", "PUBLISHED", "BY", "NOTE"):
        table.add_column(column)
    for v in page["items"]:
        table.add_row(
            str(v["version"]),
            _shown(_when(v["published_at"])),
            _shown(v["published_by"]),
            _shown(v["note"] or "-"),
        )
    _out().print(table)


@strategies_app.command("create")
@_handles_errors
def create_strategy(
    name: Annotated[str, typer.Argument(help="The strategy's name.")],
    file: FileOpt,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a strategy whose version 1 is the spec in --file."""
    spec = _document(file)
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)["workspace_id"]
        made = api.create_strategy(
            ctx.client, ws, {"name": name, "description": description, "spec": spec}
        )
    if as_json:
        _json(made)
        return
    _out().print(f"{_shown(made['strategy_id'])} created, version 1")


@strategies_app.command("publish")
@_handles_errors
def publish(
    strategy_id: StrategyArg,
    file: FileOpt,
    note: Annotated[str, typer.Option("--note", help="What changed.")] = "",
    expected: ExpectedOpt = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish the spec in --file as the strategy's next version."""
    body = {"spec": _document(file), "note": note, "expected_version": expected}
    version = _in_workspace(
        api_url, workspace, lambda client, ws: api.publish(client, ws, strategy_id, body)
    )
    if _printed_json(version, as_json):
        return
    _out().print(f"{_shown(strategy_id)} version {version.get('version', '?')} published")


@strategies_app.command("copy")
@_handles_errors
def copy_strategy(
    source_strategy_id: StrategyArg,
    source_workspace: Annotated[
        str, typer.Option("--from", help="The workspace to copy from (its id or name).")
    ],
    version: Annotated[int | None, typer.Option("--version", min=1, help="This version.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The copy's name.")] = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy a strategy of another workspace you belong to into this one."""
    with _session(api_url) as ctx:
        source = _workspace(ctx, source_workspace)["workspace_id"]
        ws = _workspace(ctx, workspace)["workspace_id"]
        body = {
            "source_workspace_id": source,
            "source_strategy_id": source_strategy_id,
            "source_version": version,
            "name": name,
        }
        made = api.copy_strategy(ctx.client, ws, body)
    if as_json:
        _json(made)
        return
    _out().print(f"{_shown(made['strategy_id'])} copied from {_shown(source_strategy_id)}")


@strategies_app.command("delete")
@_handles_errors
def delete_strategy(
    strategy_id: StrategyArg,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a strategy no bot pins (its versions stay readable)."""
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)["workspace_id"]
        api.delete_strategy(ctx.client, ws, strategy_id)
    if as_json:
        _json({"strategy_id": strategy_id, "deleted": True})
        return
    _out().print(f"{_shown(strategy_id)} deleted")


# -- bots -------------------------------------------------------------------------------------------
def _window(b: dict[str, Any]) -> str:
    w = b.get("window")
    if not w:
        return "-"
    if w["ends_at"] is None:
        return "always"
    return f"{_when(w['starts_at'])} - {_when(w['ends_at'])}"


def _bots_table(items: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in ("BOT", "NAME", "MODE", "STATE", "VERSION", "MARKET", "WINDOW"):
        table.add_column(column, no_wrap=column != "NAME")
    for b in items:
        market = b["config"]["market"]
        table.add_row(
            _shown(b["bot_id"]),
            _shown(b["name"]),
            _shown(b["mode"]),
            _shown(b["state"]),
            str(b["version"]),
            _shown(f"{market['venue']} {market['symbol']}"),
            _shown(_window(b)),
        )
    return table


def _show_bot(b: dict[str, Any]) -> None:
    out = _out()
    config = b["config"]
    out.print(f"[bold]{_shown(b['name'])}[/]  ({_shown(b['bot_id'])})")
    out.print(
        f"{_shown(b['mode'])}, {_shown(b['state'])}, version {b['version']}; strategy "
        f"{_shown(config['strategy']['strategy_id'])} v{config['strategy']['version']}; "
        f"{_shown(config['market']['venue'])} {_shown(config['market']['symbol'])} "
        f"({_shown(config['market']['kind'])})"
    )
    sessions = config["sessions"]
    if sessions["always_on"]:
        out.print("sessions: always on")
    else:
        out.print(
            f"sessions in {_shown(sessions['time_zone'])}, at the end: {sessions['end_rule']}"
        )
        for w in sessions["windows"]:
            night = " (overnight)" if w["overnight"] else ""
            out.print(f"  {','.join(w['days'])} {w['start']}-{w['end']}{night}")
    out.print(f"next window: {_shown(_window(b))}")
    limits = b.get("limits_in_force")
    if limits:
        shown = ", ".join(f"{k} {v}" for k, v in limits.items() if v is not None) or "none"
        out.print(f"limits in force: {_shown(shown)}")


@bots_app.command("list")
@_handles_errors
def list_bots(
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The workspace's bots, newest first."""
    ws, page = _with_workspace(
        api_url, workspace, lambda client, ws_id: api.list_bots(client, ws_id, limit=limit)
    )
    if _printed_json(page, as_json):
        return
    _out().print(_bots_table(page["items"], f"Bots of {_shown(ws['name'])}"))


@bots_app.command("show")
@_handles_errors
def show_bot(
    bot_id: BotArg,
    at: Annotated[
        str | None,
        typer.Option("--at", help="The version in force at this instant (RFC 3339, e.g. ...Z)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A bot now (or the version in force --at an instant)."""
    found = _in_workspace(
        api_url,
        workspace,
        lambda client, ws: (
            api.bot_at(client, ws, bot_id, at) if at else api.bot(client, ws, bot_id)
        ),
    )
    if _printed_json(found, as_json):
        return
    if at:
        _out().print(
            f"version {found['version']} ({_shown(found['change'])} by {_shown(found['actor'])} "
            f"at {_shown(_when(found['at']))}), {_shown(found['mode'])}"
        )
        _out().print(_shown(json.dumps(found["config"], indent=2)))
        return
    _show_bot(found)


@bots_app.command("versions")
@_handles_errors
def bot_versions(
    bot_id: BotArg,
    limit: LimitOpt = 50,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every version of a bot, newest first: what changed, who, when."""
    page = _in_workspace(
        api_url, workspace, lambda client, ws: api.bot_versions(client, ws, bot_id, limit=limit)
    )
    if _printed_json(page, as_json):
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("VERSION", "AT", "BY", "CHANGE", "MODE", "FIELDS"):
        table.add_column(column)
    for v in page["items"]:
        table.add_row(
            str(v["version"]),
            _shown(_when(v["at"])),
            _shown(v["actor"]),
            _shown(v["change"]),
            _shown(v["mode"]),
            _shown(", ".join(v["changed"]) or "-"),
        )
    _out().print(table)


@bots_app.command("create")
@_handles_errors
def create_bot(
    file: FileOpt,
    mode: Annotated[StartMode, typer.Option("--mode", help="paper or testnet.")] = StartMode.paper,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a bot (stopped) from the configuration in --file."""
    config = _document(file)
    made = _in_workspace(
        api_url,
        workspace,
        lambda client, ws: api.create_bot(client, ws, {"config": config, "mode": mode.value}),
    )
    if _printed_json(made, as_json):
        return
    _out().print(f"{_shown(made['bot_id'])} created, {_shown(made['mode'])}, stopped")


@bots_app.command("reconfigure")
@_handles_errors
def reconfigure(
    bot_id: BotArg,
    file: FileOpt,
    expected: ExpectedOpt = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a bot's configuration with --file's: its next version."""
    body = {"config": _document(file), "expected_version": expected}
    found = _in_workspace(
        api_url,
        workspace,
        lambda client, ws: api.bot_write(client, ws, bot_id, "config", body, method="PUT"),
    )
    if _printed_json(found, as_json):
        return
    _out().print(f"{_shown(bot_id)} is at version {found['version']}")


@bots_app.command("mode")
@_handles_errors
def mode(
    bot_id: BotArg,
    to: Annotated[Mode, typer.Argument(metavar="MODE", help="paper, testnet or live.")],
    confirm_live: Annotated[
        bool, typer.Option("--confirm-live", help="Required to switch to live: real capital.")
    ] = False,
    expected: ExpectedOpt = None,
    workspace: WorkspaceOpt = None,
    api_url: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Switch a bot between paper, testnet and live; nothing else changes."""
    body = {"mode": to.value, "confirm_live": confirm_live, "expected_version": expected}
    found = _in_workspace(
        api_url, workspace, lambda client, ws: api.bot_write(client, ws, bot_id, "mode", body)
    )
    if _printed_json(found, as_json):
        return
    _out().print(
        f"{_shown(bot_id)} is in {_shown(found['mode'])} mode (version {found['version']})"
    )


def _state_command(name: str, help_text: str) -> None:
    @bots_app.command(name, help=help_text)
    @_handles_errors
    def command(
        bot_id: BotArg,
        workspace: WorkspaceOpt = None,
        api_url: ApiOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        with _session(api_url) as ctx:
            ws = _workspace(ctx, workspace)["workspace_id"]
            found = api.bot_write(ctx.client, ws, bot_id, name, None)
        if as_json:
            _json(found)
            return
        _out().print(f"{_shown(bot_id)} is {_shown(found['state'])}")


_state_command("start", "Set a bot running: it trades within its sessions.")
_state_command("stop", "Stop a bot.")


@bots_app.command("delete")
@_handles_errors
def delete_bot(
    bot_id: BotArg, workspace: WorkspaceOpt = None, api_url: ApiOpt = None, as_json: JsonOpt = False
) -> None:
    """Delete a stopped bot (its versions stay in the audit log)."""
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)["workspace_id"]
        api.delete_bot(ctx.client, ws, bot_id)
    if as_json:
        _json({"bot_id": bot_id, "deleted": True})
        return
    _out().print(f"{_shown(bot_id)} deleted")
