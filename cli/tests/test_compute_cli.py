"""`plutarc hosts`, `host`, `wake`, `usage` and `sleep-policy` against the running platform with a
stand-in compute service (e2e/fake_compute.py): tables for people and --json; bad input refused
with a clear error and a non-zero exit, nothing sent; a viewer reads but may not manage."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from plutarc_compute.api.routes import Pricing  # noqa: E402

from e2e.conftest import Platform, running_platform  # noqa: E402
from e2e.fake_compute import FakeCompute, FakePrices, fake_compute, seed  # noqa: E402
from e2e.terminal import Term  # noqa: E402
from e2e.test_support_over_http import org_with  # noqa: E402

pytestmark = pytest.mark.kafka


@pytest.fixture
async def platform(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Platform]:
    async with running_platform(kafka_bootstrap, tmp_path) as running:
        yield running


@pytest.fixture
async def compute(kafka_bootstrap: str) -> AsyncIterator[FakeCompute]:
    async with fake_compute(kafka_bootstrap) as fake:
        yield fake


@pytest.fixture(autouse=True)
def prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Pricing, "prices", FakePrices())


async def test_hosts_usage_and_sleep_policy_from_the_terminal(
    platform: Platform, compute: FakeCompute, tmp_path: Path
) -> None:
    owner, _, _ = await platform.user("owner")
    viewer, _, _ = await platform.user("viewer")
    ws = await org_with(platform, owner, **{viewer: "viewer"})
    now = await seed(platform, compute, ws, "ws-cli-elsewhere")
    me = Term(tmp_path / "owner", platform.base_url, owner, ws)
    they = Term(tmp_path / "viewer", platform.base_url, viewer, ws)

    listed = (await they.ok("hosts")).stdout
    assert "203.0.113.7" in listed and "asleep" in listed and f"{ws}-b" in listed
    assert "ws-cli-elsewhere" not in listed
    page = await they.json("hosts", "--state", "new")
    assert [h["bot_id"] for h in page["items"]] == [f"{ws}-b"]

    shown = (await they.ok("host", f"{ws}-a")).stdout
    assert "t3.small" in shown and "window:" in shown and "woken at" in shown
    assert "missed" in (await they.ok("host", f"{ws}-b")).stdout
    r = await they("host", "nobody")
    assert r.exit_code == 1 and "compute.host_not_found" in r.stderr

    since = (now - timedelta(days=1)).isoformat()
    until = (now + timedelta(days=1)).isoformat()
    statement = await they.json("usage", "--from", since, "--to", until)
    a = {line["bot_id"]: line for line in statement["bots"]}[f"{ws}-a"]
    assert (a["compute_hours"], a["compute_cost"]) == ("2.00", "0.0416")
    table = (await they.ok("usage", "--from", since, "--to", until)).stdout
    assert "TOTAL" in table and "SAVED" in table and a["cost"] in table
    assert f"Sleeping saved {statement['total']['saved_hours']} host hours" in table
    default = await they.json("usage")
    assert Decimal(default["total"]["compute_hours"]) == Decimal("2.00"), "the last 30 days"

    for args, words in [
        (("usage", "--from", "yesterday"), "is not a date"),
        (("usage", "--from", until, "--to", since), "--from must be before --to"),
        (("sleep-policy", "set", "--", "-5"), "must be a whole number"),
        (("sleep-policy", "set", "ten"), "must be a whole number"),
        (("sleep-policy", "set", str(7 * 24 * 60 + 1)), "must be a whole number"),
    ]:
        r = await me(*args)
        assert r.exit_code == 2 and words in r.stderr, (args, r.output)
    r = await me("usage", "--from", "2024-01-01", "--to", "2026-01-01")
    assert r.exit_code == 1 and "compute.period_too_long" in r.stderr
    r = await they("sleep-policy", "set", "30")
    assert r.exit_code == 1 and "access.forbidden" in r.stderr
    r = await they("wake", f"{ws}-a")
    assert r.exit_code == 1 and "access.forbidden" in r.stderr
    assert compute.handled == [], "nothing was sent"

    assert "until it is flat" in (await they.ok("sleep-policy", "show")).stdout
    assert "at most 30 minutes" in (await me.ok("sleep-policy", "set", "30")).stdout
    assert (await they.json("sleep-policy", "show"))["drain_deadline_minutes"] == 30
    woke = await me.json("wake", f"{ws}-a")
    assert (woke["bot_id"], woke["state"]) == (f"{ws}-a", "waking")
    assert compute.handled == ["compute.set_sleep_policy", "compute.wake_host"]
