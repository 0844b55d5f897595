"""`plutarc strategies ...` and `plutarc bots ...` against the running platform (identity, bots
and the API on real Kafka): human and --json output, and bad input refused with a code and an exit
status, nothing changed."""
# ruff: noqa: F811  (tests take the imported `platform` fixture as a parameter, as pytest intends)

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from e2e.conftest import Platform, platform  # noqa: E402, F401
from e2e.terminal import Term  # noqa: E402
from e2e.test_role_matrix import SPEC, bot_config  # noqa: E402

pytestmark = pytest.mark.kafka


async def terminal(platform: Platform, tmp_path: Path) -> Term:
    token, _, _ = await platform.user("trader")
    async with platform.client(token) as http:
        ws = (await http.get("/v1/me")).json()["personal_workspace_id"]
    return Term(tmp_path, platform.base_url, token, ws)


async def test_a_strategy_and_a_bot_from_the_terminal(platform: Platform, tmp_path: Path) -> None:
    me = await terminal(platform, tmp_path)
    made = await me.json("strategies", "create", "Trend", "--file", me.file("spec.json", SPEC))
    sid = made["strategy_id"]
    four_hours = me.file("spec4h.json", {**SPEC, "timeframe": "4h"})
    r = await me.ok("strategies", "publish", sid, "-f", four_hours, "--note", "slower")
    assert f"{sid} version 2 published" in r.stdout
    listed = (await me.ok("strategies", "list")).stdout
    assert sid in listed and "Trend" in listed
    shown = (await me.ok("strategies", "show", sid, "--version", "1")).stdout
    assert "version 1 of 2" in shown and "ma_crossover" in shown and "timeframe 1h" in shown
    versions = (await me.json("strategies", "versions", sid))["items"]
    assert [v["version"] for v in versions] == [2, 1]

    bot = await me.json("bots", "create", "-f", "-", input=json.dumps(bot_config(sid)))
    bid = bot["bot_id"]
    assert (bot["mode"], bot["state"]) == ("paper", "stopped")
    r = await me("bots", "mode", bid, "live")
    assert r.exit_code == 1 and "bots.live_not_confirmed" in r.stderr
    r = await me.ok("bots", "mode", bid, "live", "--confirm-live")
    assert f"{bid} is in live mode (version 2)" in r.stdout
    r = await me.ok("bots", "start", bid)
    assert f"{bid} is running" in r.stdout
    shown = (await me.ok("bots", "show", bid)).stdout
    assert "live, running, version 2" in shown and "binance BTC/USDT" in shown
    table = (await me.ok("bots", "versions", bid)).stdout
    assert "created" in table and "mode" in table
    first = (await me.json("bots", "versions", bid))["items"][-1]
    at = await me.json("bots", "show", bid, "--at", first["at"])
    assert (at["version"], at["mode"]) == (1, "paper")
    await me.ok("bots", "stop", bid)
    await me.ok("bots", "delete", bid)
    assert (await me.json("bots", "list"))["items"] == []
    await me.ok("strategies", "delete", sid)


async def test_bad_input_is_refused_with_a_code(platform: Platform, tmp_path: Path) -> None:
    me = await terminal(platform, tmp_path)
    r = await me("strategies", "create", "X", "--file", str(tmp_path / "missing.json"))
    assert r.exit_code == 2 and "no such file" in r.stderr
    r = await me("strategies", "create", "X", "--file", me.file("bad.json", "{not json"))
    assert r.exit_code == 2 and "is not JSON" in r.stderr
    r = await me("bots", "create", "--file", me.file("list.json", [1, 2]))
    assert r.exit_code == 2 and "must hold a JSON object" in r.stderr
    unknown = {**SPEC, "components": [{"component": "martingale"}]}
    r = await me("strategies", "create", "X", "--file", me.file("u.json", unknown))
    assert r.exit_code == 1 and "bots.unknown_component" in r.stderr
    r = await me("bots", "mode", "some-bot", "moon")
    assert r.exit_code == 2
    assert (await me.json("strategies", "list"))["items"] == [], "nothing was created"
