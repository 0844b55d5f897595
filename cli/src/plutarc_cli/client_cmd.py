"""The everyday commands: ``plutarc login``, ``workspaces``, ``switch``, ``members``, ``invite``, ...

A client of the gateway API. Tables for people, ``--json`` for scripts. Every failure is one line on
stderr, ``error: <code>: <detail>``, with the problem's stable code, and a non-zero exit status:

    1  the API refused (a problem code), or something else went wrong
    2  the command line was wrong (bad option, ambiguous workspace name, empty password)
    3  the API could not be reached
    4  not logged in, or the session ended or expired: run ``plutarc login``
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar
from uuid import UUID

import typer
from plutarc_runtime.text import json_visible, visible
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .client import (
    INVITATION_PREFIX,
    ApiError,
    Credentials,
    Member,
    Membership,
    PlutarcClient,
    resolve_api_url,
)

P = ParamSpec("P")
R = TypeVar("R")

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_LOGIN = 1, 2, 3, 4
_USAGE_CODES = {"cli.usage", "cli.workspace_ambiguous", "cli.bad_api_url", "cli.empty_password"}
_LOGIN_CODES = {"cli.not_logged_in", "auth.unauthenticated", "auth.not_a_session"}


class RoleName(StrEnum):
    owner = "owner"
    admin = "admin"
    manager = "manager"
    trader = "trader"
    viewer = "viewer"


ApiOpt = Annotated[
    str | None,
    typer.Option(
        "--api",
        metavar="URL",
        help="Gateway API URL (default: the one you logged in to, else $PLUTARC_API_URL, "
        "else http://127.0.0.1:8000).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        metavar="NAME_OR_ID",
        help="Workspace to act in (default: the current one, see `plutarc switch`).",
        show_default=False,
    ),
]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]

org_app = typer.Typer(no_args_is_help=True, help="Organisations: shared workspaces for a team.")


# --- output and errors ---------------------------------------------------------------------------


def _out() -> Console:
    """stdout. Piped into another program, lines are never wrapped nor table cells cut short."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = 1000
    return console


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _shown(value: object) -> str:
    """Text from the API, safe to print: control and format characters (ESC, CR, bidi overrides)
    escaped visibly (`\\x1b`, `\\u202e`), and rich markup in it printed as it is."""
    return escape(visible(str(value)))


def _json(value: Any) -> None:
    typer.echo(json_visible(json.dumps(value, indent=2, ensure_ascii=False, default=str)))


def _exit_code(e: ApiError) -> int:
    if e.code == "cli.unreachable":
        return EXIT_UNREACHABLE
    if e.code in _LOGIN_CODES:
        return EXIT_LOGIN
    if e.code in _USAGE_CODES:
        return EXIT_USAGE
    return EXIT_REFUSED


def _fail(e: ApiError) -> NoReturn:
    hint = ""
    if e.code == "auth.unauthenticated":
        hint = " (run `plutarc login`)"
    _err().print(f"[bold red]error:[/] {_shown(e.one_line())}{hint}")
    raise typer.Exit(_exit_code(e))


def _usage(detail: str) -> NoReturn:
    raise ApiError("cli.usage", detail, 0)


def _handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """One line on stderr and an exit status instead of a traceback, whatever goes wrong."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ApiError as e:
            _fail(e)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, EOFError):
            raise
        except OSError as e:
            _fail(ApiError("cli.os_error", f"{e.strerror or e} ({e.filename or ''})".strip(), 0))
        except Exception as e:
            _fail(ApiError("cli.unexpected", f"{type(e).__name__}: {e}", 0))

    return wrapper


def _when(value: str | None) -> str:
    if not value:
        return "-"
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- session and workspace context ---------------------------------------------------------------


@dataclass
class _Ctx:
    creds: Credentials
    api: str
    client: PlutarcClient


@contextmanager
def _session(api: str | None, *, login_required: bool = True) -> Iterator[_Ctx]:
    """The stored session for this API. A token is only ever sent to the API it was issued by."""
    creds = Credentials.load()
    url = resolve_api_url(api, creds)
    token = creds.token if creds.token and creds.api_url == url else None
    if login_required and token is None:
        where = f" (you are logged in to {creds.api_url})" if creds.token else ""
        raise ApiError(
            "cli.not_logged_in", f"not logged in to {url}{where}; run `plutarc login`", 401
        )
    with PlutarcClient(url, token) as client:
        yield _Ctx(creds, url, client)


def _current_id(creds: Credentials, memberships: Sequence[Membership]) -> str | None:
    if creds.workspace_id:
        return creds.workspace_id
    personal = [m for m in memberships if m["kind"] == "personal"]
    return personal[0]["workspace_id"] if personal else None


def _resolve(query: str, memberships: Sequence[Membership]) -> Membership:
    """A workspace by id, exact name, or a unique prefix of its name or id (case-insensitive)."""
    q = query.strip().casefold()
    for m in memberships:
        if m["workspace_id"].casefold() == q:
            return m
    tests: list[Callable[[Membership], bool]] = [
        lambda m: m["name"].casefold() == q,
        lambda m: m["name"].casefold().startswith(q) or m["workspace_id"].startswith(q),
    ]
    for test in tests:
        found = [m for m in memberships if test(m)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"{m['name']} ({m['workspace_id']})" for m in found)
            raise ApiError(
                "cli.workspace_ambiguous",
                f"{query!r} matches {len(found)} workspaces: {names}; use more of the name or the id",
                0,
            )
    raise ApiError(
        "cli.workspace_not_found",
        f"no workspace of yours matches {query!r}; `plutarc workspaces` lists them",
        404,
    )


def _workspace(ctx: _Ctx, flag: str | None) -> Membership:
    memberships = ctx.client.my_workspaces()
    if flag:
        return _resolve(flag, memberships)
    current = _current_id(ctx.creds, memberships)
    for m in memberships:
        if m["workspace_id"] == current:
            return m
    raise ApiError(
        "cli.workspace_not_found",
        f"your current workspace {current} is no longer one of yours; "
        "pick another with `plutarc switch`",
        404,
    )


def _password(stdin: bool, *, confirm: bool = False) -> str:
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    if not password:
        raise ApiError("cli.empty_password", "the password is empty", 0)
    return password


def _invitation_workspace(token: str) -> str | None:
    body = token.strip().removeprefix(INVITATION_PREFIX)
    try:
        return str(UUID(body[:32]))
    except ValueError:
        return None


# --- auth ----------------------------------------------------------------------------------------


@_handles_errors
def login(
    api: ApiOpt = None,
    email: Annotated[
        str | None, typer.Option("--email", help="Your email (prompted when left out).")
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Log in and remember the session (in $XDG_CONFIG_HOME/plutarc/credentials.json, mode 0600)."""
    creds = Credentials.load()
    url = resolve_api_url(api, creds)
    if not email:
        email = typer.prompt("Email", default=visible(creds.email) if creds.email else None)
    password = _password(password_stdin)
    with PlutarcClient(url) as client:
        session = client.login(email, password)
        client.token = session["token"]
        me = client.me()
        memberships = client.my_workspaces()
    same_user = creds.user_id == me["user_id"] and creds.api_url == url
    wanted = creds.workspace_id if same_user else None
    ids = {m["workspace_id"] for m in memberships}
    workspace_id = wanted if wanted in ids else me["personal_workspace_id"]
    new = Credentials(
        api_url=url,
        token=session["token"],
        session_id=session["session_id"],
        user_id=me["user_id"],
        email=me["email"],
        expires_at=session["expires_at"],
        workspace_id=workspace_id,
    )
    path = new.save()
    current = next((m for m in memberships if m["workspace_id"] == workspace_id), None)
    if as_json:
        _json(
            {
                "api_url": url,
                "user_id": me["user_id"],
                "email": me["email"],
                "display_name": me["display_name"],
                "session_id": session["session_id"],
                "expires_at": session["expires_at"],
                "workspace_id": workspace_id,
                "credentials_file": str(path),
            }
        )
        return
    out = _out()
    out.print(f"Logged in to {_shown(url)} as [bold]{_shown(me['email'])}[/].")
    if current is not None:
        out.print(
            f"Current workspace: [bold]{_shown(current['name'])}[/] "
            f"({_shown(current['kind'])}, {_shown(current['role'])})."
        )
    out.print(f"The session expires {_shown(_when(session['expires_at']))}.")


@_handles_errors
def logout(api: ApiOpt = None, as_json: JsonOpt = False) -> None:
    """End the session on the API and forget its token."""
    creds = Credentials.load()
    url = resolve_api_url(api, creds)
    if not creds.token or creds.api_url != url:
        if as_json:
            _json({"api_url": url, "logged_out": False, "reason": "not logged in"})
        else:
            _out().print(f"Not logged in to {_shown(url)}.")
        return
    problem: ApiError | None = None
    with PlutarcClient(url, creds.token) as client:
        try:
            client.logout()
        except ApiError as e:
            if e.code != "auth.unauthenticated":  # already ended or expired: nothing to undo
                problem = e
    creds.forget_session()
    creds.save()
    if problem is not None:
        _err().print(
            "[yellow]warning:[/] the token is forgotten here, but the API did not end the "
            "session; it stays valid until it expires"
        )
        _fail(problem)
    if as_json:
        _json({"api_url": url, "logged_out": True})
    else:
        _out().print(f"Logged out of {_shown(url)}.")


@_handles_errors
def register(
    api: ApiOpt = None,
    email: Annotated[str | None, typer.Option("--email", help="Your email.")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Display name, as teammates will see it.")
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an account (with its personal workspace). The password needs 12 characters or more."""
    creds = Credentials.load()
    url = resolve_api_url(api, creds)
    if not email:
        email = typer.prompt("Email")
    if not name:
        name = typer.prompt("Display name")
    password = _password(password_stdin, confirm=True)
    with PlutarcClient(url) as client:
        user = client.register(email, name, password)
    if as_json:
        _json(user)
        return
    where = f" --api {url}" if url != creds.api_url and api else ""
    out = _out()
    out.print(f"Registered [bold]{_shown(user['email'])}[/] ({_shown(user['user_id'])}).")
    out.print(f"Log in with: plutarc login{_shown(where)} --email {_shown(user['email'])}")


# --- workspaces ----------------------------------------------------------------------------------


@_handles_errors
def workspaces(api: ApiOpt = None, as_json: JsonOpt = False) -> None:
    """List the workspaces you belong to, with your role in each; * marks the current one."""
    with _session(api) as ctx:
        memberships = ctx.client.my_workspaces()
    current = _current_id(ctx.creds, memberships)
    if as_json:
        _json([{**m, "current": m["workspace_id"] == current} for m in memberships])
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "NAME", "KIND", "ROLE", "ID"):
        table.add_column(column, no_wrap=True)
    for m in memberships:
        mark = "*" if m["workspace_id"] == current else ""
        name = _shown(m["name"]) + (" [dim](archived)[/]" if m["archived"] else "")
        table.add_row(mark, name, _shown(m["kind"]), _shown(m["role"]), _shown(m["workspace_id"]))
    _out().print(table)


@_handles_errors
def switch(
    workspace: Annotated[
        str, typer.Argument(metavar="NAME_OR_ID", help="Workspace id, name, or unique prefix.")
    ],
    api: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a workspace the current one. The same session reaches every workspace you belong to."""
    with _session(api) as ctx:
        target = _resolve(workspace, ctx.client.my_workspaces())
    ctx.creds.workspace_id = target["workspace_id"]
    ctx.creds.save()
    if as_json:
        _json({**target, "current": True})
        return
    _out().print(
        f"Switched to [bold]{_shown(target['name'])}[/] "
        f"({_shown(target['kind'])}, {_shown(target['role'])}) {_shown(target['workspace_id'])}."
    )


@org_app.command("create")
@_handles_errors
def org_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The organisation's name.")],
    no_switch: Annotated[
        bool, typer.Option("--no-switch", help="Keep the current workspace.")
    ] = False,
    api: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an organisation (you become its owner) and switch to it."""
    with _session(api) as ctx:
        ws = ctx.client.create_organisation(name)
    if not no_switch:
        ctx.creds.workspace_id = ws["workspace_id"]
        ctx.creds.save()
    if as_json:
        _json({**ws, "current": not no_switch})
        return
    out = _out()
    out.print(
        f"Created organisation [bold]{_shown(ws['name'])}[/] ({_shown(ws['workspace_id'])}); "
        f"you are its {_shown(ws['your_role'])}."
    )
    if not no_switch:
        out.print(f"Switched to {_shown(ws['name'])}.")


# --- members -------------------------------------------------------------------------------------


def _members_table(members: Sequence[Member], me: str | None, title: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in ("EMAIL", "NAME", "ROLE", "USER ID"):
        table.add_column(column, no_wrap=True)
    for m in members:
        you = " [dim](you)[/]" if m["user_id"] == me else ""
        table.add_row(
            _shown(m["email"] or "-") + you,
            _shown(m["display_name"] or "-"),
            _shown(m["role"]),
            _shown(m["user_id"]),
        )
    return table


@_handles_errors
def members(workspace: WorkspaceOpt = None, api: ApiOpt = None, as_json: JsonOpt = False) -> None:
    """List the members of the current workspace (or --workspace) and their roles."""
    with _session(api) as ctx:
        ws = _workspace(ctx, workspace)
        people = ctx.client.members(ws["workspace_id"])
    if as_json:
        _json(people)
        return
    _out().print(_members_table(people, ctx.creds.user_id, f"Members of {_shown(ws['name'])}"))


@_handles_errors
def invite(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="Who to invite.")],
    role: Annotated[RoleName, typer.Option("--role", "-r", help="The role they will have.")],
    days: Annotated[
        int, typer.Option("--days", min=1, max=30, help="Days until the invitation expires.")
    ] = 7,
    workspace: WorkspaceOpt = None,
    api: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Invite someone to the current workspace (or --workspace); prints the invitation token once."""
    with _session(api) as ctx:
        ws = _workspace(ctx, workspace)
        inv = ctx.client.invite(ws["workspace_id"], email, role.value, days)
    if as_json:
        _json({**inv, "workspace_id": ws["workspace_id"]})
        return
    out = _out()
    out.print(
        f"Invited [bold]{_shown(inv['email'])}[/] to {_shown(ws['name'])} as "
        f"{_shown(inv['role'])}; the invitation expires {_shown(_when(inv['expires_at']))}."
    )
    typer.echo(visible(inv["token"]))  # on a line of its own, never wrapped, for copy and paste
    _err().print(
        "[yellow]warning:[/] the token above is shown only once. Give it to the invitee; "
        "they join with `plutarc accept TOKEN`."
    )


@_handles_errors
def accept(
    token: Annotated[str, typer.Argument(metavar="TOKEN", help="The invitation token (pli_...).")],
    switch_to: Annotated[
        bool, typer.Option("--switch", help="Make the workspace current once joined.")
    ] = False,
    api: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept an invitation and join its workspace."""
    with _session(api) as ctx:
        inv = ctx.client.accept_invitation(token.strip())
        workspace_id = _invitation_workspace(token)
        joined = next(
            (m for m in ctx.client.my_workspaces() if m["workspace_id"] == workspace_id), None
        )
    if switch_to and joined is not None:
        ctx.creds.workspace_id = joined["workspace_id"]
        ctx.creds.save()
    if as_json:
        _json(
            {
                **inv,
                "workspace_id": workspace_id,
                "workspace_name": joined["name"] if joined else None,
                "current": bool(switch_to and joined),
            }
        )
        return
    out = _out()
    if joined is None:
        out.print("Invitation accepted.")
        return
    out.print(f"Joined [bold]{_shown(joined['name'])}[/] as {_shown(joined['role'])}.")
    if switch_to:
        out.print(f"Switched to {_shown(joined['name'])}.")
    else:
        out.print(f"Switch to it with: plutarc switch {_shown(joined['workspace_id'])}")


@_handles_errors
def role(
    user: Annotated[str, typer.Argument(metavar="USER_ID_OR_EMAIL", help="The member.")],
    new_role: Annotated[RoleName, typer.Argument(metavar="ROLE", help="Their new role.")],
    workspace: WorkspaceOpt = None,
    api: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a member's role. Nobody grants a role above their own."""
    with _session(api) as ctx:
        ws = _workspace(ctx, workspace)
        user_id = user.strip()
        if "@" in user_id:
            wanted = user_id.casefold()
            matches = [
                m
                for m in ctx.client.members(ws["workspace_id"])
                if (m["email"] or "").casefold() == wanted
            ]
            if not matches:
                raise ApiError(
                    "cli.member_not_found", f"{user} is not a member of {ws['name']}", 404
                )
            user_id = matches[0]["user_id"]
        people = ctx.client.change_role(ws["workspace_id"], user_id, new_role.value)
    if as_json:
        _json(people)
        return
    changed = next((m for m in people if m["user_id"] == user_id), None)
    who = (changed["email"] if changed else None) or user_id
    _out().print(f"{_shown(who)} is now {new_role.value} in {_shown(ws['name'])}.")


__all__ = [
    "accept",
    "invite",
    "login",
    "logout",
    "members",
    "org_app",
    "register",
    "role",
    "switch",
    "workspaces",
]
