"""``plutarc audit log``: a workspace's audit log read from the gateway API, oldest first, a page at
a time; with ``--follow``, then its new entries as they happen (the live event stream), until Ctrl-C.

The rest of ``plutarc audit`` reads a service's event store on this machine; this one is a client of
the API like ``plutarc members``: it needs a login, and the audit:read permission in the workspace.
Errors and exit statuses are those of the other API commands (``plutarc_cli.client_cmd``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import typer
from plutarc_runtime.text import json_visible

from .client import AuditEntry
from .client_cmd import (
    ApiOpt,
    JsonOpt,
    WorkspaceOpt,
    _err,
    _handles_errors,
    _out,
    _session,
    _shown,
    _usage,
    _workspace,
)
from .events import follow as follow_events

PAGE = 500
VALUE_WIDTH = 60

ActorOpt = Annotated[
    str | None,
    typer.Option("--actor", metavar="ACTOR", help="Only this actor: user:<id> or token:<id>."),
]
ActionOpt = Annotated[
    str | None,
    typer.Option(
        "--action", metavar="TYPE", help="Only this event type, e.g. identity.member_removed."
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="INSTANT",
        help="Only entries at or after this instant: ISO 8601 with a time zone, "
        "e.g. 2026-11-25T10:00:00Z.",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", metavar="INSTANT", help="Only entries at or before this instant."),
]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        help="Print at most this many entries (old and, with --follow, new), then stop.",
    ),
]
NewestOpt = Annotated[
    bool,
    typer.Option(
        "--newest-first",
        "-r",
        help="Newest entries first (with --limit: the last N); not with --follow.",
    ),
]
FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow", "-f", help="Then print new entries as they happen, until Ctrl-C (exit 0)."
    ),
]


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        _usage(f"{name} must be an ISO 8601 instant such as 2026-11-25T10:00:00Z, not {value!r}")
    if instant.tzinfo is None:
        _usage(f"{name} needs a time zone (for example a trailing Z for UTC): {value!r}")
    return instant.astimezone(UTC)


def _when(value: str) -> datetime | None:
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def _stamp(value: str) -> str:
    instant = _when(value)
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if instant else value


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _changes(entry: AuditEntry) -> str:
    """`name: Desk → Prop desk` for what the event changed, `role: trader` for what it states
    (the target, already shown, left out)."""
    before, after = entry["before"], entry["after"]
    target = (entry["target"] or "").partition(":")[2]
    parts = []
    for key in sorted(before.keys() | after.keys()):
        if key in before and key in after:
            if before[key] != after[key]:
                parts.append(f"{key}: {_value(before[key])} → {_value(after[key])}")
        elif key in after and not (target and after[key] == target):
            parts.append(f"{key}: {_value(after[key])}")
        elif key in before:
            parts.append(f"{key}: {_value(before[key])} → -")
    return ", ".join(parts)


def _printer(as_json: bool) -> Callable[[AuditEntry], None]:
    """One line per entry, whatever the server sent escaped (control characters, rich markup)."""
    if as_json:

        def line(entry: AuditEntry) -> None:
            typer.echo(json_visible(json.dumps(entry, ensure_ascii=False, separators=(",", ":"))))

        return line
    out = _out()

    def row(entry: AuditEntry) -> None:
        head = f"[dim]{_shown(_stamp(entry['occurred_at']))}[/]  #{_shown(entry['position'])}"
        parts = [head, f"[bold]{_shown(entry['action'])}[/]", _shown(entry["actor"])]
        if entry["target"]:
            parts.append(f"on {_shown(entry['target'])}")
        if changes := _changes(entry):
            parts.append(_shown(changes))
        out.print("  ".join(parts))

    return row


def _matches(
    entry: AuditEntry, actor: str | None, action: str | None, since: datetime | None
) -> bool:
    """The API's filters, applied to a live entry (the stream is not filtered by them)."""
    if actor is not None and entry["actor"] != actor:
        return False
    if action is not None and entry["action"] != action:
        return False
    if since is not None:
        instant = _when(entry["occurred_at"])
        return instant is None or instant >= since
    return True


@_handles_errors
def log(
    workspace: WorkspaceOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = None,
    follow: FollowOpt = False,
    newest_first: NewestOpt = False,
    api: ApiOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A workspace's audit log from the API, oldest first (--newest-first: newest first); --follow
    for new entries as they happen.

    One line per entry (--json: one JSON object per line). Needs audit:read in the workspace."""
    start, end = _instant(since, "--since"), _instant(until, "--until")
    if start is not None and end is not None and start > end:
        _usage(f"--since ({since}) is after --until ({until})")
    if follow and end is not None:
        _usage("--follow prints entries as they happen, so it takes no --until")
    if follow and newest_first:
        _usage("--follow prints entries as they happen, oldest first: it takes no --newest-first")
    show = _printer(as_json)
    printed = last = 0
    with _session(api) as ctx:
        workspace_id = _workspace(ctx, workspace)["workspace_id"]
        cursor: str | None = None
        while limit is None or printed < limit:
            page = ctx.client.audit_page(
                workspace_id,
                actor=actor,
                action=action,
                since=start,
                until=end,
                cursor=cursor,
                limit=PAGE if limit is None else min(PAGE, limit - printed),
                newest_first=newest_first,
            )
            for entry in page["entries"]:
                show(entry)
                printed, last = printed + 1, entry["position"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        if not follow or (limit is not None and printed >= limit):
            return

        def resuming(why: str) -> None:
            _err().print(f"[yellow]warning:[/] {_shown(why)}; resuming the live stream")

        with _ctrl_c_ends_here(), contextlib.suppress(KeyboardInterrupt):
            for event in follow_events(ctx.client, workspace_id, last, on_resume=resuming):
                entry = cast(AuditEntry, event.data)
                if not _matches(entry, actor, action, start):
                    continue
                show(entry)
                printed += 1
                if limit is not None and printed >= limit:
                    return


@contextlib.contextmanager
def _ctrl_c_ends_here() -> Iterator[None]:
    """Ctrl-C is how --follow ends: exit 0 at once, after what was printed is flushed (a
    KeyboardInterrupt raised some other way ends it too, and `log` returns). Raising
    KeyboardInterrupt inside the HTTP client could leave its connection pool's lock taken, and
    closing the client then waited forever (seen once in CI). Each entry is printed in one write,
    so the handler (run between two bytecodes) never cuts a line."""

    def stop(_sig: int, _frame: object) -> None:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(0)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
