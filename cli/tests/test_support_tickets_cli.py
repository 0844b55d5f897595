"""`plutarc support tickets|queue|notes|stats` against the running platform (identity, support,
the API on real Kafka): a member's and an operator's terminal, human and --json output, hostile
text escaped, bad input refused with a code and an exit status."""
# ruff: noqa: F811  (tests take the imported `platform` fixture as a parameter, as pytest intends)

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from e2e.conftest import Platform, platform  # noqa: E402, F401
from e2e.terminal import Term  # noqa: E402

pytestmark = pytest.mark.kafka


async def terminals(platform: Platform, tmp_path: Path) -> tuple[Term, Term, str, str]:
    user, _, _ = await platform.user("user")
    op, op_id, _ = await platform.operator("operator")
    async with platform.client(user) as http:
        ws = (await http.get("/v1/me")).json()["personal_workspace_id"]
    async with platform.client(op) as http:
        op_ws = (await http.get("/v1/me")).json()["personal_workspace_id"]
    return (
        Term(tmp_path / "user", platform.base_url, user, ws, "support"),
        Term(tmp_path / "op", platform.base_url, op, op_ws, "support"),
        ws,
        op_id,
    )


async def test_a_ticket_worked_from_two_terminals(platform: Platform, tmp_path: Path) -> None:
    me, op, ws, op_id = await terminals(platform, tmp_path)
    r = await me.ok(
        "tickets",
        "open",
        "-s",
        "Bot stuck",
        "-c",
        "bots",
        "-p",
        "urgent",
        "--bot",
        "b-1",
        input="It stopped\nat 09:00\n",
    )
    assert r.stdout.startswith("Opened ticket ") and "(urgent, bots)" in r.stdout
    [ticket] = (await me.json("tickets", "list"))["tickets"]
    tid = ticket["ticket_id"]
    assert (ticket["workspace_id"], ticket["links"]["bot_ids"]) == (ws, ["b-1"])

    queue = (await op.json("queue"))["tickets"]
    assert tid in [t["ticket_id"] for t in queue]
    table = (await op.ok("queue")).stdout
    assert "Support queue" in table and tid in table and "urgent" in table

    await op.ok("notes", "add", tid, "--body", "customer is on testnet")
    [note] = await op.json("notes", "list", tid)
    assert (note["author"], note["body"]) == (op_id, "customer is on testnet")
    r = await op.ok("tickets", "assign", tid, "me")
    assert f"assigned to {op_id}" in r.stdout
    r = await op("tickets", "assign", tid, "someone-else")
    assert r.exit_code == 1 and "support.unknown_operator" in r.stderr
    r = await op.ok("tickets", "reply", tid, "--operator", "-m", "Restarted it")
    assert "waiting_on_user" in r.stdout
    [notice] = (await me.json("notifications"))["notifications"]
    assert (notice["kind"], notice["ticket_id"]) == ("operator_reply", tid)
    assert "an operator replied" in (await me.ok("notifications")).stdout

    shown = (await me.ok("tickets", "show", tid)).stdout
    assert "Bot stuck" in shown and "Restarted it" in shown and "It stopped" in shown
    assert "testnet" not in shown, "a note never reaches the user's terminal"
    r = await me.ok("tickets", "close", tid, "--resolved")
    assert f"Ticket {tid} is resolved." in r.stdout

    stats = await op.json("stats")
    urgent = next(p for p in stats["priorities"] if p["priority"] == "urgent")
    assert urgent["opened"] >= 1 and urgent["resolved"] >= 1
    assert "FIRST RESPONSE" in (await op.ok("stats")).stdout


async def test_hostile_text_is_printed_as_it_is_or_refused(
    platform: Platform, tmp_path: Path
) -> None:
    me, _, _, _ = await terminals(platform, tmp_path)
    t = await me.json("tickets", "open", "-s", "[bold]x[/bold]", "-c", "other", "-m", "[red]y")
    shown = (await me.ok("tickets", "show", t["ticket_id"])).stdout
    assert "[bold]x[/bold]" in shown and "[red]y" in shown, "markup in text is printed as is"
    # Terminal escapes never get in: the service refuses them (and the CLI would escape them).
    r = await me("tickets", "reply", t["ticket_id"], "-m", "a\x1b[2Jb")
    assert r.exit_code == 1 and "support.invalid_text" in r.stderr
    assert "\x1b" not in r.output


async def test_bad_input_exits_with_a_code_and_changes_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    me, op, _, _ = await terminals(platform, tmp_path)
    [other, _, _] = await platform.user("other")
    async with platform.client(other) as http:
        other_ws = (await http.get("/v1/me")).json()["personal_workspace_id"]
        r = await http.post(
            f"/v1/workspaces/{other_ws}/support/tickets",
            json={"subject": "Theirs", "body": "x", "category": "other"},
        )
        foreign = r.json()["ticket_id"]

    cases: list[tuple[tuple[str, ...], int, str]] = [
        (("tickets", "open", "-s", " ", "-c", "bots", "-m", "x"), 1, "request.invalid"),
        (("tickets", "open", "-s", "s", "-c", "gossip", "-m", "x"), 2, "gossip"),
        (("tickets", "open", "-s", "s", "-c", "bots", "-p", "asap", "-m", "x"), 2, "asap"),
        (("tickets", "open", "-s", "s", "-c", "bots", "-m", "   "), 2, "cli.usage"),
        (("tickets", "reply", foreign, "-m", "let me in"), 1, "support.ticket_not_found"),
        (("tickets", "close", foreign, "--status", "open"), 2, "cli.usage"),
        (("notes", "add", foreign, "-m", "sneaky"), 1, "access.not_an_operator"),
        (("queue",), 1, "access.not_an_operator"),
        (("stats",), 1, "access.not_an_operator"),
        (("tickets", "assign", foreign, "me"), 1, "access.not_an_operator"),
    ]
    for args, status, needle in cases:
        r = await me(*args)
        assert r.exit_code == status, (args, r.output)
        assert needle in r.output, (args, r.output)
    r = await me("tickets", "open", "-s", "s", "-c", "bots", input="x" * 20_001)
    assert r.exit_code == 1 and "request.invalid" in r.stderr and "body" in r.stderr
    assert (await me.json("tickets", "list"))["tickets"] == []
    detail = await op.json("tickets", "show", foreign, "--operator")
    assert (detail["thread"], detail["status"]) == ([], "open")
    assert await op.json("notes", "list", foreign) == []
