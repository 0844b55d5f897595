"""`plutarc-compute` refuses to start, saying what to do, when its provider cannot run here: the
aws provider without its settings, or without the AWS plugin (which cannot be fetched here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

AWS = {
    "PLUTARC_COMPUTE_PROVIDER": "aws",
    "PLUTARC_COMPUTE_AWS_AMI": "ami-0abc",
    "PLUTARC_COMPUTE_AWS_SUBNET_ID": "subnet-0abc",
    "PLUTARC_COMPUTE_AWS_VPC_ID": "vpc-0abc",
    "PLUTARC_COMPUTE_AWS_GATEWAY_CIDR": "10.20.0.0/16",
}


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PLUTARC_")}
    environ.update(PLUTARC_DATA_DIR=str(tmp_path), PULUMI_HOME=str(tmp_path / "home"), **env)
    command = [sys.executable, "-m", "plutarc_compute.main"]
    return subprocess.run(command, env=environ, capture_output=True, text=True, timeout=120)


def test_without_its_settings_the_aws_provider_names_them(tmp_path: Path) -> None:
    done = start(tmp_path, PLUTARC_COMPUTE_PROVIDER="aws")
    assert done.returncode == 2, done.stderr
    assert "PLUTARC_COMPUTE_AWS_AMI" in done.stderr
    assert "PLUTARC_COMPUTE_AWS_GATEWAY_CIDR" in done.stderr


def test_without_the_plugin_the_aws_provider_says_how_to_install_it(tmp_path: Path) -> None:
    done = start(tmp_path, **AWS)
    assert done.returncode == 2, done.stderr
    assert "pulumi plugin install resource aws v" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_whole_internet_gateway_network_is_refused(tmp_path: Path) -> None:
    done = start(tmp_path, **{**AWS, "PLUTARC_COMPUTE_AWS_GATEWAY_CIDR": "0.0.0.0/0"})
    assert done.returncode == 2, done.stderr
    assert "gateway_cidr must not be the whole internet" in done.stderr
