"""Every image `make images` builds: labelled with its version and source commit, running as the
non-root user 10001, with a health check; the bot host's runtime and egress proxy run in it. The
services' health checks are run against the live compose platform in test_compose_platform.py."""

from __future__ import annotations

import json
import subprocess

import pytest

from .compose import ROOT, containers_conf

IMAGES = (
    "identity", "support", "bots", "exchange-gateway", "compute", "api", "bot-host",
    "kafka", "postgres", "opa",
)  # fmt: skip
VERSION = next(
    line.split(":", 1)[1].strip().strip('"')
    for line in (ROOT / "deploy" / "helm" / "plutarc" / "Chart.yaml").read_text().splitlines()
    if line.startswith("appVersion:")
)


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"CONTAINERS_CONF": containers_conf(), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    return subprocess.run(["podman", *args], env=env, capture_output=True, text=True, check=False)


def inspect(name: str) -> dict:  # type: ignore[type-arg]
    found = podman("image", "inspect", f"localhost/plutarc/{name}:{VERSION}")
    assert found.returncode == 0, f"no image {name}: run make images\n{found.stderr}"
    return json.loads(found.stdout)[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", IMAGES)
def test_an_image_is_labelled_non_root_and_checks_its_health(name: str) -> None:
    image = inspect(name)
    config = image["Config"]
    assert config["User"] == "10001:10001"
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == VERSION
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    assert labels["org.opencontainers.image.revision"] == head.stdout.strip()
    assert labels["org.plutarc.service"] == name
    if name != "bot-host":  # its two processes report through the compute service instead
        assert image["Healthcheck"]["Test"][0] == "CMD"
    print(f"{name}: {image['Size'] / 1e6:.0f} MB")


def test_the_bot_host_image_runs_the_runtime_and_its_proxy() -> None:
    ref = f"localhost/plutarc/bot-host:{VERSION}"
    run = podman(
        "run", "--rm", "--network", "none", "--read-only", ref, "plutarc", "bot", "run", "--help"
    )
    assert run.returncode == 0, run.stderr
    assert "--egress-url" in run.stdout
    proxy = podman("run", "--rm", "--network", "none", ref, "tinyproxy", "-v")
    assert proxy.returncode == 0 and "tinyproxy" in (proxy.stdout + proxy.stderr), proxy.stderr
    bad = podman("run", "--rm", "--network", "none", ref, "plutarc", "bot", "run", "0b6f2c1e-1111-4222-8333-444455556666",
                 "--egress-url", "ftp://nowhere")  # fmt: skip
    assert bad.returncode != 0
    assert "bot_runtime.invalid_egress_url" in bad.stderr, bad.stderr
