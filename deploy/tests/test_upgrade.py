"""One service upgraded alone (docs/deployment.md, "Upgrading one service"): with the platform
running in compose, support's image is replaced by a version that writes `support.ticket_opened`
v2 (a field added, with its upcaster, declared readable as v1); every other service keeps the image
it runs. The old API and the old support readers go on reading support's topic (the v2 events read
as v1), nothing is dead-lettered, and a new consumer replays the topic from offset 0 reading v1 and
v2 alike as v2."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

import httpx
from plutarc_testkit.waiting import wait_until

from .compose import ROOT, ComposePlatform, open_ticket, organisation, user

NEW = "0.1.0-upgrade"
SUPPORT_CONTRACTS = Path("contracts/src/plutarc_contracts/support.py")


def patch_support_v2(tree: Path) -> None:
    """The new version, as a developer would write it (docs/contracts.md)."""
    path = tree / SUPPORT_CONTRACTS
    text = path.read_text()
    v1 = "class TicketOpened(Payload, frozen=True, kw_only=True):"
    assert v1 in text, "support.ticket_opened moved: update the upgrade test's patch"
    text = text.replace(v1, "class TicketOpenedV1(Payload, frozen=True, kw_only=True):", 1)
    text = text.replace(
        "\nEVENTS: dict[str, type[msgspec.Struct]] = {",
        '''
class TicketOpened(Payload, frozen=True, kw_only=True):
    """v2: where the ticket was opened from."""

    workspace_id: Id
    ticket_id: Id
    opened_by: Id
    subject: Subject
    body: Body
    category: Category
    priority: Priority
    links: TicketLinks = TicketLinks()
    follow_up_of: Id | None = None
    channel: str = "dashboard"


def ticket_opened_v1_to_v2(data: dict) -> dict:
    return {**data, "channel": "unknown"}


EVENTS: dict[str, type[msgspec.Struct]] = {''',
        1,
    )
    register = (
        "        registry.register_event(name, {1: cls}, secret_fields=SECRET_FIELDS.get(name, ()))"
    )
    assert register in text
    text = text.replace(
        register,
        """        if name == "support.ticket_opened":
            registry.register_event(
                name, {1: TicketOpenedV1, 2: cls}, {1: ticket_opened_v1_to_v2}, readable_as={2: 1}
            )
            continue
"""
        + register,
        1,
    )
    path.write_text(text)


def build_new_support() -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="plutarc-upgrade-") as tmp:
        tree = Path(tmp)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(tree, filter="tar")
        patch_support_v2(tree)
        env = {**os.environ, "PLUTARC_IMAGE_TAG": NEW, "PLUTARC_IMAGE_REVISION": f"{head}+v2"}
        done = subprocess.run(
            [str(tree / "scripts" / "build-images"), "support"],
            cwd=tree, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def running_image(platform: ComposePlatform, service: str) -> str:
    name = platform.container(service)
    return platform.podman("inspect", "--format", "{{.ImageName}}", name).stdout.strip()


def test_support_upgraded_alone(platform: ComposePlatform) -> None:
    with httpx.Client(base_url=platform.base_url, timeout=30) as anonymous:
        token = user(anonymous, "upgrader")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=platform.base_url, timeout=30, headers=auth) as http:
        ws = organisation(http, "Upgrade desk")
        before = open_ticket(http, ws, "Before the upgrade")

        build_new_support()
        env = {**platform.env, "PLUTARC_SUPPORT_TAG": NEW}
        platform.env = env
        platform.compose("up", "-d", "--no-deps", "--force-recreate", "support")
        assert running_image(platform, "support").endswith(f"/support:{NEW}")
        for service in ("identity", "bots", "exchange-gateway", "compute", "api"):
            assert running_image(platform, service).endswith(":0.1.0"), service
        platform.wait_ready()

        after = open_ticket(http, ws, "After the upgrade")  # read by the old API, as v1
        r = http.post(f"{ws}/support/tickets/{after}/messages", json={"body": "Still there?"})
        assert r.status_code in (201, 202), r.text

        def audited() -> list[str]:
            entries = http.get(f"{ws}/audit", params={"limit": 200}).json()["entries"]
            kinds: list[str] = [e["action"] for e in entries]
            return kinds if kinds.count("support.ticket_opened") == 2 else []

        wait_until(
            audited, timeout=60, interval=0.5, what="both tickets in the old API's audit log"
        )

    # the old API read every event of support's topic: no projection stopped on one
    ready = httpx.get(f"{platform.base_url}/ready", timeout=10).json()
    errors = {name: p["error"] for name, p in ready["projections"].items() if p["error"]}
    assert not errors, errors

    replay = platform.podman(
        "run", "--rm", "--network", "host", "--read-only",
        "-e", f"PLUTARC_KAFKA_BOOTSTRAP=127.0.0.1:{platform.ports['KAFKA']}",
        "-v", f"{ROOT / 'deploy' / 'tests' / 'replay_topic.py'}:/replay_topic.py:ro",
        f"localhost/plutarc/support:{NEW}", "python", "/replay_topic.py", "support.events.v1",
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    opened = {
        e["payload"]["ticket_id"]: e
        for e in map(json.loads, replay.stdout.splitlines())
        if e["type"] == "support.ticket_opened"
    }
    assert (opened[before]["written"], opened[before]["read_as"]) == (1, 2)
    assert opened[before]["payload"]["channel"] == "unknown"  # the upcaster's
    assert (opened[after]["written"], opened[after]["read_as"]) == (2, 2)
    assert opened[after]["payload"]["channel"] == "dashboard"
