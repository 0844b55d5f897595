"""`plutarc connections ...`, `plutarc orders ...`, `plutarc fills`, `plutarc positions` and `plutarc pnl` against
the running platform with an exchange gateway beside it (e2e/exchange.py): human and --json
output; keys read from a hidden prompt or stdin and sealed before they leave; bad input refused
with a code and an exit status, nothing changed."""
# ruff: noqa: F811  (tests take the imported `exchange` fixture as a parameter, as pytest intends)

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from e2e.exchange import Exchange, exchange  # noqa: E402, F401
from e2e.terminal import Term  # noqa: E402
from e2e.test_role_matrix import SPEC, bot_config  # noqa: E402

pytestmark = pytest.mark.kafka

SECRET = "cli-secret-3f9a-never-sent-in-clear"


async def terminal(exchange: Exchange, tmp_path: Path, name: str = "owner") -> Term:
    token, _, _ = await exchange.platform.user(name)
    async with exchange.platform.client(token) as http:
        ws = (await http.get("/v1/me")).json()["personal_workspace_id"]
    return Term(tmp_path, exchange.platform.base_url, token, ws)


async def running_bot(me: Term, **config: object) -> str:
    sid = (await me.json("strategies", "create", "Trend", "--file", me.file("s.json", SPEC)))[
        "strategy_id"
    ]
    document = json.dumps({**bot_config(sid), **config})
    bid = str((await me.json("bots", "create", "-f", "-", input=document))["bot_id"])
    await me.ok("bots", "start", bid)
    return bid


async def test_connections_from_the_terminal(exchange: Exchange, tmp_path: Path) -> None:
    me = await terminal(exchange, tmp_path)
    r = await me.ok(
        "connections", "add", "binance", "--label", "Main", input=f"AK-cli-1\n{SECRET}\n"
    )
    assert "added: binance (testnet)" in r.stdout
    assert SECRET not in r.output, "a hidden prompt does not echo"
    [listed] = (await me.json("connections", "list"))["items"]
    cid = listed["connection_id"]
    assert listed["environments"] == ["testnet"]
    assert "Main" in (await me.ok("connections", "list")).stdout
    keys = {"live": {"api_key": "AK-cli-2", "secret": SECRET, "password": "pp"}}
    made = await me.json(
        "connections", "add", "okx", "--label", "Hedge", "--stdin", input=json.dumps(keys)
    )
    assert made["environments"] == ["live"]
    shown = (await me.ok("connections", "show", made["connection_id"])).stdout
    assert "okx" in shown and "Hedge" in shown and SECRET not in shown

    r = await me.ok("connections", "remove", cid)
    assert f"{cid} removed and its key destroyed" in r.stdout
    r = await me("connections", "show", cid)
    assert r.exit_code == 1 and "exchange.connection_not_found" in r.stderr


async def test_the_cli_seals_the_keys_itself(exchange: Exchange, tmp_path: Path) -> None:
    """What the CLI sends is a sealed box the gateway opens to the keys typed."""
    from plutarc_cli.exchange_client import seal

    sealed = seal(exchange.sealing.public_key, {"api_key": "AK", "secret": SECRET})
    assert SECRET not in sealed
    opened = exchange.sealing.open(exchange.sealing.key_id, sealed)
    assert (opened.api_key, opened.secret) == ("AK", SECRET)


async def test_bad_connection_input_is_refused(exchange: Exchange, tmp_path: Path) -> None:
    me = await terminal(exchange, tmp_path)
    cases = [
        (("connections", "add", "nyse", "--label", "x"), "a\nb\n", "is not a venue"),
        (("connections", "add", "binance", "--label", " "), "a\nb\n", "the label is empty"),
        (("connections", "add", "binance", "--label", "x"), " \nb\n", "API key"),
        (("connections", "add", "binance", "--label", "x", "--stdin"), "{nope", "is not JSON"),
        (
            ("connections", "add", "binance", "--label", "x", "--stdin"),
            json.dumps({"paper": {"api_key": "a", "secret": "b"}}),
            "not an environment",
        ),
        (
            ("connections", "add", "binance", "--label", "x", "--stdin"),
            json.dumps({"live": {"api_key": "a"}}),
            "secret is empty",
        ),
        (
            ("connections", "add", "binance", "--label", "x", "--stdin", "--env", "testnet"),
            json.dumps({"live": {"api_key": "a", "secret": "b"}}),
            "not testnet",
        ),
    ]
    for args, given, message in cases:
        r = await me(*args, input=given)
        assert r.exit_code == 2 and message in r.stderr, (args, r.output)
    r = await me("connections", "add", "binance", "--label", "x", "--env", "paper")
    assert r.exit_code == 2
    r = await me("connections", "add", "kraken", "--label", "x", input="a\nb\n")
    assert r.exit_code == 1 and "exchange.no_testnet" in r.stderr
    assert (await me.json("connections", "list"))["items"] == [], "nothing was added"


async def test_orders_from_the_terminal(exchange: Exchange, tmp_path: Path) -> None:
    me = await terminal(exchange, tmp_path)
    bid = await running_bot(me, risk={"max_order_notional": "500"})
    r = await me.ok("orders", "place", bid, "buy", "0.5")
    assert "filled: buy 0.5 BTC/USDT on paper, filled 0.5" in r.stdout
    resting = await me.json("orders", "place", bid, "buy", "1", "--price", "90", "--post-only")
    assert resting["status"] == "open"
    listed = (await me.ok("orders", "list", bid, "--status", "open")).stdout
    assert resting["order_id"] in listed
    shown = (await me.ok("orders", "show", bid, resting["order_id"])).stdout
    assert "open" in shown and "90" in shown
    fills = await me.json("fills", bid)
    assert [f["quantity"] for f in fills["items"]] == ["0.5"]
    assert "taker" in (await me.ok("fills", bid)).stdout
    positions = (await me.ok("positions", bid)).stdout
    assert "paper" in positions and "BTC/USDT" in positions and "0.5" in positions
    assert (await me.json("positions", bid))["items"][0]["quantity"] == "0.5"
    points = await me.json("pnl", bid)
    assert (points["mode"], [p["quantity"] for p in points["items"]]) == ("paper", ["0.5"])
    shown = (await me.ok("pnl", bid)).stdout
    assert "REALISED PNL" in shown and points["items"][0]["realised_pnl"] in shown
    assert "no fill yet" in (await me.ok("pnl", bid, "--mode", "testnet")).stdout

    r = await me("orders", "place", bid, "buy", "10")
    assert r.exit_code == 1 and "risk.max_order_notional" in r.stderr
    r = await me.ok("orders", "cancel", bid, resting["order_id"])
    assert f"{resting['order_id']} cancelled" in r.stdout
    await me.ok("orders", "place", bid, "sell", "0.1", "--price", "150")
    r = await me.ok("orders", "cancel-all", bid)
    assert "1 cancelled, 0 awaiting the venue's answer" in r.stdout
    assert (await me.json("orders", "list", bid, "--status", "open"))["items"] == []


async def test_bad_order_input_is_refused(exchange: Exchange, tmp_path: Path) -> None:
    me = await terminal(exchange, tmp_path)
    bid = await running_bot(me)
    for args, message in [
        (("orders", "place", bid, "buy", "1e3"), "not a positive decimal"),
        (("orders", "place", bid, "buy", "1", "--price", "x"), "not a positive decimal"),
        (("orders", "place", bid, "buy", "1", "--post-only"), "--post-only needs --price"),
    ]:
        r = await me(*args)
        assert r.exit_code == 2 and message in r.stderr, (args, r.output)
    r = await me("orders", "place", bid, "hold", "1")
    assert r.exit_code == 2
    r = await me("orders", "list", bid, "--status", "sleeping")
    assert r.exit_code == 2
    r = await me("orders", "place", "no-such-bot", "buy", "1")
    assert r.exit_code == 1 and "exchange.bot_not_found" in r.stderr
    r = await me("orders", "show", bid, "no-such-order")
    assert r.exit_code == 1 and "exchange.order_not_found" in r.stderr
    r = await me("positions", "no-such-bot")
    assert r.exit_code == 1 and "exchange.bot_not_found" in r.stderr
    for args in (("pnl", bid, "--mode", "demo"), ("pnl", bid, "--limit", "0")):
        assert (await me(*args)).exit_code == 2, args
    r = await me("pnl", "no-such-bot")
    assert r.exit_code == 1 and "exchange.bot_not_found" in r.stderr
    assert (await me.json("orders", "list", bid))["items"] == [], "nothing was placed"
